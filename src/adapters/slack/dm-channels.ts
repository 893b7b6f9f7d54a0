/**
 * Each person's DM channel with the bot (D…), opened once with conversations.open (Tier 3: 50 a
 * minute) and remembered in the store's meta table: it never changes for a user and the bot, and
 * chat.update and files.completeUploadExternal need it (they do not resolve a user id).
 */
import type { WebClient } from '@slack/web-api';
import { PermanentError, TransientError } from '../../domain/errors.js';
import type { Store } from '../../operations/ports.js';
import type { SlackCallGate } from './slack-call-gate.js';
import { classifySlackError } from './slack-errors.js';

const DM_CHANNEL_META_PREFIX = 'slack:dm:';

export async function dmChannelOf(
  store: Store,
  now: () => string,
  client: WebClient,
  gate: SlackCallGate,
  slackUserId: string,
): Promise<string> {
  return (await openDm(store, now, client, gate, slackUserId)).channel;
}

/** The DM channel, and whether it came from memory (it may then be stale: see `forgetDmChannel`). */
export async function openDm(
  store: Store,
  now: () => string,
  client: WebClient,
  gate: SlackCallGate,
  slackUserId: string,
): Promise<{ channel: string; remembered: boolean }> {
  const remembered = await store.getMeta(`${DM_CHANNEL_META_PREFIX}${slackUserId}`);
  if (remembered) return { channel: remembered, remembered: true };
  let opened;
  try {
    opened = await gate.call('conversations.open', () => client.conversations.open({ users: slackUserId }));
  } catch (error) {
    if (error instanceof TransientError) throw error;
    throw classifySlackError(error, `conversations.open ${slackUserId}`);
  }
  const channel = opened.channel?.id;
  if (!channel) throw new PermanentError(`conversations.open ${slackUserId}: no channel in the answer`);
  await store.transaction((tx) => tx.setMeta(`${DM_CHANNEL_META_PREFIX}${slackUserId}`, channel, now()));
  return { channel, remembered: false };
}

/** Forgets a remembered DM channel Slack no longer knows; false when it was not one. */
export async function forgetDmChannel(store: Store, channel: string): Promise<boolean> {
  const entry = (await store.metaWithPrefix(DM_CHANNEL_META_PREFIX)).find((m) => m.value === channel);
  if (!entry) return false;
  await store.transaction((tx) => tx.deleteMeta(entry.key));
  return true;
}
