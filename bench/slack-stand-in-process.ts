/**
 * The Slack stand-in in a process of its own, for the ack bench: real Slack is another machine, so
 * its work (answering users.info, views.open, views.update, checking Block Kit) must not share the
 * bot's event loop. Talks to the parent over IPC: `ready` with the URL, trigger ids on `mint`, and
 * every API call as `call`, time-stamped here (epoch milliseconds, sub-millisecond precision).
 */
import { SlackApiStandIn } from '../src/sandbox/slack-api/slack-api-server.js';

interface Setup {
  token: string;
  users: { id: string; email: string; name: string; realName: string }[];
  channels: { id: string; name: string }[];
}

const setup = JSON.parse(process.argv[2] ?? '{}') as Setup;
// Latency, not Slack's budget, is measured (see slack-ack-bench.ts): rate limits off.
const slack = new SlackApiStandIn({ botTokens: [setup.token], rateLimits: false });
for (const u of setup.users) slack.addUser({ ...u, tz: 'Europe/Berlin' });
for (const c of setup.channels) slack.addChannel(c);
const { url } = await slack.start();

slack.on('call', (call) => {
  process.send?.({
    type: 'call',
    at: performance.timeOrigin + performance.now(),
    call: { method: call.method, args: call.args, status: call.status, answer: call.answer },
  });
});
process.on('message', (message: { type: string; id: number; users?: string[] }) => {
  if (message.type === 'mint')
    process.send?.({
      type: 'minted',
      id: message.id,
      triggers: (message.users ?? []).map((u) => slack.issueTriggerId(u)),
    });
  if (message.type === 'stop') void slack.stop().then(() => process.exit(0));
});
process.send?.({ type: 'ready', url });
