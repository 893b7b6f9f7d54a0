import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SlackApiStandIn } from '../../src/sandbox/slack-api/slack-api-server.js';
import { clientFor, slackError, startStandIn } from './stand-in-fixture.js';

let slack: SlackApiStandIn;
beforeEach(async () => {
  slack = await startStandIn();
});
afterEach(async () => {
  await slack.stop();
});

const csv = 'request_id,app,role\nreq_1,github,owner\n';

describe('the Slack stand-in: files.uploadV2', () => {
  it('takes the three calls of filesUploadV2 and stores the bytes in the DM', async () => {
    const client = clientFor(slack);
    const dm = await client.conversations.open({ users: 'U0ALICE' });
    const result = await client.filesUploadV2({
      channel_id: dm.channel?.id ?? '',
      filename: 'requests.csv',
      title: 'Access requests',
      content: csv,
      initial_comment: 'Your export',
    });

    const completed = (result.files as { files?: { id: string }[] }[])[0]?.files?.[0];
    expect(completed?.id).toMatch(/^F/);
    expect(slack.workspace.calls().map((c) => c.method)).toEqual([
      'conversations.open',
      'files.getUploadURLExternal',
      'files.completeUploadExternal',
    ]);
    const [file] = slack.workspace.files();
    expect(file).toMatchObject({
      id: completed?.id,
      filename: 'requests.csv',
      title: 'Access requests',
      channel: 'D0ALICE',
      initialComment: 'Your export',
    });
    expect(file?.bytes?.toString('utf8')).toBe(csv);
    expect(file?.length).toBe(Buffer.byteLength(csv));

    const [message] = slack.workspace.dmMessages('U0ALICE');
    expect(message).toMatchObject({ text: 'Your export', files: [completed?.id] });
    await expect(slack.waitFor('file', (f) => f.id === completed?.id)).resolves.toBe(file);
  });

  it('uploads a Buffer too', async () => {
    const bytes = Buffer.from([0, 1, 2, 255]);
    await clientFor(slack).filesUploadV2({ channel_id: 'C0SECURITY', filename: 'blob.bin', file: bytes });
    expect(slack.workspace.files()[0]?.bytes).toEqual(bytes);
  });

  it('wants a conversation id, not a user id', async () => {
    const answer = await slackError(
      clientFor(slack).filesUploadV2({ channel_id: 'U0ALICE', filename: 'a.csv', content: csv }),
    );
    expect(answer.error).toBe('invalid_channel');
    expect(slack.workspace.files()).toEqual([]);
  });

  it('refuses to complete a file whose bytes never arrived', async () => {
    const client = clientFor(slack);
    const ticket = await client.files.getUploadURLExternal({ filename: 'a.csv', length: 3 });
    const answer = await slackError(
      client.files.completeUploadExternal({
        files: [{ id: ticket.file_id ?? '' }],
        channel_id: 'C0SECURITY',
      }),
    );
    expect(answer.error).toBe('file_not_found');
  });
});
