/** The sinks `audit_sinks` names, by type: what the composition root hands the audit streamer. */
import { resolve } from 'node:path';
import type { AuditSinkSettings } from '../../domain/audit-sinks.js';
import type { AuditSink } from '../../operations/ports.js';
import { FileSink } from './file-sink.js';
import { SplunkHecSink } from './splunk-hec-sink.js';
import { WebhookSink, type HttpSinkOptions } from './webhook-sink.js';

/**
 * Replaces where network sinks send: the sandbox's embedded receiver (nothing leaves the machine).
 * Given a sink, it answers the settings to use instead and the environment holding their secret.
 */
export interface SinkRedirect {
  redirect(sink: AuditSinkSettings): { settings: AuditSinkSettings; env: Record<string, string | undefined> };
}

export function createAuditSinks(
  sinks: readonly AuditSinkSettings[],
  options: HttpSinkOptions & { redirect?: SinkRedirect; baseDir: string },
): { sink: AuditSink; settings: AuditSinkSettings }[] {
  return resolveSinkPaths(sinks, options.baseDir).map((configured) => {
    const redirected =
      options.redirect && configured.type !== 'file' ? options.redirect.redirect(configured) : undefined;
    const settings = redirected?.settings ?? configured;
    const http = redirected ? { ...options, env: redirected.env, allowInsecureLoopback: true } : options;
    const sink = (() => {
      switch (settings.type) {
        case 'webhook':
          return new WebhookSink(settings, http);
        case 'splunk_hec':
          return new SplunkHecSink(settings, http);
        case 'file':
          return new FileSink(settings);
      }
    })();
    // The stream reports the sink as configured: its name and, for people, where it would send.
    return { sink, settings: { ...settings, name: configured.name } };
  });
}

/** A file sink's relative `path` is taken from `baseDir`, the database's folder: the bot's data stays together. */
export function resolveSinkPaths(sinks: readonly AuditSinkSettings[], baseDir: string): AuditSinkSettings[] {
  return sinks.map((sink) => (sink.type === 'file' ? { ...sink, path: resolve(baseDir, sink.path) } : sink));
}
