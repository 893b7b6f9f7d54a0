import type { IncomingMessage } from 'node:http';

/** Requests bigger than this are refused; Slack's own file limit is far larger, our CSVs are small. */
const MAX_BODY_BYTES = 20 * 1024 * 1024;

export class BodyTooLargeError extends Error {
  constructor() {
    super(`request body over ${MAX_BODY_BYTES} bytes`);
    this.name = 'BodyTooLargeError';
  }
}

export async function readRawBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buffer.length;
    if (size > MAX_BODY_BYTES) throw new BodyTooLargeError();
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

/** A form argument is a string; a file part of a multipart body is kept as bytes. */
export type FormValue = string | Buffer;

export interface ParsedBody {
  /** Flat fields; JSON bodies keep their values as sent (objects stay objects). */
  fields: Record<string, unknown>;
  /** `invalid_form_data` / `invalid_json` when the body does not parse. */
  error?: string;
}

/**
 * Parses what @slack/web-api v8 sends (TECH-NOTES §1): urlencoded fields with objects
 * JSON-stringified into one field, multipart/form-data when an argument is a Buffer, and JSON
 * bodies (which Slack also accepts). Multipart is parsed with the platform's own parser
 * (undici's `Response.formData()`), so no hand-written boundary handling.
 */
export async function parseBody(raw: Buffer, contentType: string | undefined): Promise<ParsedBody> {
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (raw.length === 0) return { fields: {} };
  if (type === 'application/json') {
    try {
      const parsed: unknown = JSON.parse(raw.toString('utf8'));
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
        return { fields: {}, error: 'invalid_json' };
      return { fields: { ...parsed } };
    } catch {
      return { fields: {}, error: 'invalid_json' };
    }
  }
  if (type === 'multipart/form-data') {
    try {
      const form = await new Response(new Uint8Array(raw), {
        headers: { 'content-type': contentType ?? '' },
      }).formData();
      const fields: Record<string, FormValue> = {};
      for (const [key, value] of form.entries()) {
        fields[key] = typeof value === 'string' ? value : Buffer.from(await value.arrayBuffer());
      }
      return { fields };
    } catch {
      return { fields: {}, error: 'invalid_form_data' };
    }
  }
  // Slack treats a body without a (known) content type as a form too.
  return { fields: Object.fromEntries(new URLSearchParams(raw.toString('utf8'))) };
}
