/** The shapes the sandbox page's server shares between its parts (HTTP, workspace view, bot dispatch). */
import type { SlackApiStandIn } from './slack-api/slack-api-server.js';

export interface SandboxPerson {
  slackId: string;
  email: string;
  name: string;
  title: string;
}

export interface SandboxChannel {
  id: string;
  name: string;
}

/** The bot's clock, moved by the page's time control (sandbox only). */
export interface SandboxClock {
  advance(seconds: number): Promise<void> | void;
  now(): Date;
}

export interface SandboxServerOptions {
  standIn: SlackApiStandIn;
  /** The bot's request URL, e.g. http://127.0.0.1:4321/slack/events. */
  botEventsUrl: string;
  signingSecret: string;
  people: SandboxPerson[];
  /** The channels the bot posts to (the security and alerts channels). */
  channels: SandboxChannel[];
  port?: number;
  host?: string;
  clock?: SandboxClock;
  /** The bot's time zone (settings `timezone`): people without a zone of their own read times in it. */
  timezone?: string;
  /** The slash commands the app declares (its manifest); default `['/access']`. */
  commands?: string[];
  /** The embedded webhook receiver (webhook roles call it instead of their policy URL). */
  webhookCalls?: { list(): unknown[]; onCall(listener: () => void): () => void };
  /** The bot's GET /healthz, served on the page's port too, as a production bot serves it on PORT. */
  health?: () => Promise<{ status: number; body: unknown }>;
}

export interface SandboxServer {
  /** http://127.0.0.1:P */
  url: string;
  close(): Promise<void>;
}

/** Something the page shows that Slack itself would have shown or refused. */
export interface SandboxProblem {
  id: number;
  at: string;
  /**
   * `rejected_call`: a Web API call Slack would refuse; `dispatch_failed`: the bot did not answer a request in time or
   * with 200.
   */
  kind: 'rejected_call' | 'dispatch_failed';
  summary: string;
  details: string[];
  /** The conversation it belongs to, when there is one. */
  channel?: string;
  /** The person it concerns (a modal or App Home), when there is one. */
  userId?: string;
}

export type Json = Record<string, unknown>;

/** A refusal of a page request: answered with this status and `{error}`. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export const BOT_NAME = 'Access Bot';
