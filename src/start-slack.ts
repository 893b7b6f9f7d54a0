/**
 * Slack for the composition root: the real workspace (mode 'slack') or the embedded one (mode
 * 'sandbox'). It is connected while the runtime is built, before the operations' dependencies
 * exist, so the Slack notifier is part of them from the start and nothing is swapped in later.
 */
import { YamlDirectory } from './adapters/directory/yaml-directory.js';
import { connectSlack, SlackStartupError, type SlackConnection } from './adapters/slack/create-slack-app.js';
import { DisplayLookups } from './adapters/slack/display-lookups.js';
import type { Config } from './config.js';
import { createHealthCheck } from './health.js';
import type { Logger } from './operations/ports.js';
import type { NotifierParts } from './runtime.js';
import type { SandboxWorkspace } from './sandbox/start-sandbox.js';

export interface SlackSide {
  connection: SlackConnection;
  /** Readers' zones and people's names: one for the notifier and the listeners. */
  display: DisplayLookups;
  /** The embedded workspace, in the sandbox. */
  workspace?: SandboxWorkspace;
  /** GET /healthz, for the sandbox page to serve on its port too. */
  health?: () => Promise<{ status: number; body: unknown }>;
}

/** Connects to the workspace the configuration names; undefined when Slack is not used (messages go to the log). */
export async function connectSlackFor(
  config: Config,
  parts: NotifierParts,
  logger: Logger,
): Promise<SlackSide | undefined> {
  if (config.mode === 'slack') {
    const { botToken, signingSecret, appToken, apiUrl } = config.slack;
    if (!botToken) throw new SlackStartupError('SLACK_BOT_TOKEN is not set.');
    if (!appToken && !signingSecret)
      throw new SlackStartupError(
        'SLACK_SIGNING_SECRET is required to verify requests from Slack (or set SLACK_APP_TOKEN for Socket Mode).',
      );
    // The probe reports the connection as it is when it arrives: the route exists before the workspace answered.
    const connected: { connection?: SlackConnection } = {};
    const health = createHealthCheck(parts, {
      slack: () => connected.connection && { mode: connected.connection.mode, teamId: connected.connection.teamId },
    });
    const connection = await connectSlack({
      token: botToken,
      signingSecret,
      appToken,
      apiUrl,
      port: config.port,
      health,
      logger,
      clock: parts.clock,
    });
    connected.connection = connection;
    return { connection, display: new DisplayLookups(parts, connection.gate) };
  }
  if (config.mode === 'sandbox' && parts.directory instanceof YamlDirectory) {
    // Loaded only here: a production start does not carry the sandbox.
    const { startSandboxWorkspace } = await import('./sandbox/start-sandbox.js');
    const workspace = await startSandboxWorkspace({
      people: parts.directory,
      settings: parts.settings,
      catalog: parts.catalog,
      clock: parts.clock,
    });
    try {
      const teamId = workspace.standIn.workspace.teamId;
      const health = createHealthCheck(parts, { slack: () => ({ mode: 'sandbox', teamId }) });
      const connection = await connectSlack({
        token: workspace.token,
        signingSecret: workspace.signingSecret,
        apiUrl: workspace.apiUrl,
        describedAs: 'the embedded Slack stand-in',
        port: 0,
        host: '127.0.0.1',
        health,
        logger,
        clock: parts.clock,
      });
      return { connection, display: new DisplayLookups(parts, connection.gate), workspace, health };
    } catch (error) {
      await workspace.stop();
      throw error;
    }
  }
  return undefined;
}
