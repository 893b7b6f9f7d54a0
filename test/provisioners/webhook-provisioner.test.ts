import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PermanentError, TransientError } from '../../src/domain/errors.js';
import {
  WebhookClient,
  signWebhookBody,
  verifyWebhookSignature,
  type WebhookCall,
  type WebhookTarget,
} from '../../src/adapters/provisioners/webhook-provisioner.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

const SECRET = 'test-hook-secret';
const NOW = new Date('2025-03-10T09:00:00Z');

const grantCall: WebhookCall = {
  action: 'grant',
  requestId: 'req_01',
  grantId: 'grt_01',
  app: 'billing',
  role: 'admin',
  user: { email: 'ada@example.com', oktaId: '00u1ada' },
  expiresAt: '2025-03-10T17:00:00.000Z',
};

let receiver: WebhookReceiver;
let target: WebhookTarget;
let provisioner: WebhookClient;

beforeEach(async () => {
  receiver = await startWebhookReceiver({ secret: SECRET, now: () => NOW });
  target = { url: receiver.url, secretEnv: 'BILLING_HOOK_SECRET', timeoutSeconds: 5 };
  provisioner = new WebhookClient({
    env: { BILLING_HOOK_SECRET: SECRET },
    now: () => NOW,
    allowInsecureLoopback: true,
  });
});

afterEach(async () => {
  await receiver.close();
});

async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail');
}

describe('WebhookClient', () => {
  it('posts the snake_case body, signed so that the receiver can verify it', async () => {
    await expect(provisioner.call(target, grantCall)).resolves.toEqual({ status: 200 });

    const [request] = receiver.requests;
    expect(request?.signatureValid).toBe(true);
    expect(request?.headers['content-type']).toBe('application/json');
    expect(request?.headers['user-agent']).toBe('access-bot');
    expect(request?.headers['x-access-signature']).toMatch(/^t=1741597200,v1=[0-9a-f]{64}$/);
    expect(JSON.parse(request?.body ?? '')).toEqual({
      action: 'grant',
      request_id: 'req_01',
      grant_id: 'grt_01',
      app: 'billing',
      role: 'admin',
      user: { email: 'ada@example.com', okta_id: '00u1ada' },
      expires_at: '2025-03-10T17:00:00.000Z',
    });
  });

  it('sends <grant id>:<action> as the Idempotency-Key', async () => {
    await provisioner.call(target, grantCall);
    await provisioner.call(target, { ...grantCall, action: 'revoke', expiresAt: null });

    expect(receiver.requests.map((r) => r.idempotencyKey)).toEqual(['grt_01:grant', 'grt_01:revoke']);
    expect(receiver.applied.map((a) => a.call.action)).toEqual(['grant', 'revoke']);
  });

  it('is safe to repeat: the receiver applies a repeated call once', async () => {
    await provisioner.call(target, grantCall);
    await expect(provisioner.call(target, grantCall)).resolves.toEqual({ status: 200 });

    expect(receiver.requests).toHaveLength(2);
    expect(receiver.applied).toHaveLength(1);
    expect(receiver.requests[1]?.status).toBe(200);
  });

  it('lets a retry apply after the receiver failed before applying', async () => {
    receiver.answerWith(500, { times: 2 });

    await expect(provisioner.call(target, grantCall)).rejects.toBeInstanceOf(TransientError);
    await expect(provisioner.call(target, grantCall)).rejects.toBeInstanceOf(TransientError);
    await expect(provisioner.call(target, grantCall)).resolves.toEqual({ status: 200 });

    expect(receiver.applied).toHaveLength(1);
  });

  it('treats a 500 as transient and quotes the start of the body', async () => {
    receiver.answerWith(500, { body: 'database is down' });

    const error = await failure(provisioner.call(target, grantCall));

    expect(error).toBeInstanceOf(TransientError);
    expect((error as TransientError).message).toContain('500: database is down');
    expect((error as TransientError).retryAfterMs).toBeUndefined();
  });

  it('reads at most 64 KB of an error body, however much the receiver sends', async () => {
    let pulled = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (pulled >= 8 * 1024 * 1024) return controller.close(); // a faulty receiver streaming megabytes
        const chunk = new Uint8Array(16 * 1024).fill(0x61);
        pulled += chunk.length;
        controller.enqueue(chunk);
      },
    });
    const answering = new WebhookClient({
      env: { BILLING_HOOK_SECRET: SECRET },
      now: () => NOW,
      fetch: async () => new Response(endless, { status: 500 }),
    });
    const error = await failure(answering.call({ ...target, url: 'https://billing.example.com/hooks' }, grantCall));
    expect(error).toBeInstanceOf(TransientError);
    expect((error as Error).message).toContain('500: aaaa');
    expect(pulled).toBeLessThanOrEqual(64 * 1024 + 16 * 1024);
  });

  it.each([408, 425, 502, 504])('treats a %i as transient', async (status) => {
    receiver.answerWith(status);

    await expect(provisioner.call(target, grantCall)).rejects.toBeInstanceOf(TransientError);
  });

  it('passes on Retry-After from a 429 (seconds) and a 503 (HTTP date)', async () => {
    receiver.answerWith(429, { headers: { 'Retry-After': '7' } });
    receiver.answerWith(503, { headers: { 'Retry-After': new Date(NOW.getTime() + 90_000).toUTCString() } });

    const limited = await failure(provisioner.call(target, grantCall));
    const unavailable = await failure(provisioner.call(target, grantCall));

    expect(limited).toBeInstanceOf(TransientError);
    expect((limited as TransientError).retryAfterMs).toBe(7_000);
    expect(unavailable).toBeInstanceOf(TransientError);
    expect((unavailable as TransientError).retryAfterMs).toBe(90_000);
  });

  it('treats a 404 as permanent, naming the status and at most 200 characters of the body', async () => {
    receiver.answerWith(404, { body: 'no such grant endpoint ' + 'x'.repeat(500) });

    const error = await failure(provisioner.call(target, grantCall));

    expect(error).toBeInstanceOf(PermanentError);
    const message = (error as PermanentError).message;
    expect(message).toContain('404: no such grant endpoint');
    expect(message).not.toContain('x'.repeat(201));
    expect(message).toContain('x'.repeat(200 - 'no such grant endpoint '.length));
  });

  it('does not follow a redirect, and names where it pointed', async () => {
    receiver.redirectTo('https://elsewhere.example.com/hooks');

    const error = await failure(provisioner.call(target, grantCall));

    expect(error).toBeInstanceOf(PermanentError);
    expect((error as PermanentError).message).toContain('302 redirect to https://elsewhere.example.com/hooks');
    expect(receiver.requests).toHaveLength(1);
    expect(receiver.applied).toHaveLength(0);
  });

  it('gives up after the timeout with a transient error', async () => {
    receiver.delayNext(5_000);

    const started = Date.now();
    const error = await failure(provisioner.call({ ...target, timeoutSeconds: 0.2 }, grantCall));

    expect(error).toBeInstanceOf(TransientError);
    expect((error as TransientError).message).toContain('timed out after 0.2s');
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('treats a refused connection as transient', async () => {
    const url = receiver.url;
    await receiver.close();
    receiver = await startWebhookReceiver({ secret: SECRET }); // for afterEach

    await expect(provisioner.call({ ...target, url }, grantCall)).rejects.toBeInstanceOf(TransientError);
  });

  it('refuses plain http unless loopback was explicitly allowed', async () => {
    const strict = new WebhookClient({ env: { BILLING_HOOK_SECRET: SECRET }, now: () => NOW });

    const error = await failure(strict.call(target, grantCall));

    expect(error).toBeInstanceOf(PermanentError);
    expect((error as PermanentError).message).toContain('must use https');
    expect(receiver.requests).toHaveLength(0);
  });

  it('refuses plain http to a non-loopback host even with the loopback option', async () => {
    const error = await failure(
      provisioner.call({ ...target, url: 'http://billing.internal.example.com/hooks' }, grantCall),
    );

    expect(error).toBeInstanceOf(PermanentError);
  });

  it('refuses to call without the secret, naming the env var', async () => {
    const unsigned = new WebhookClient({ env: {}, now: () => NOW, allowInsecureLoopback: true });

    const error = await failure(unsigned.call(target, grantCall));

    expect(error).toBeInstanceOf(PermanentError);
    expect((error as PermanentError).message).toContain('BILLING_HOOK_SECRET');
    expect(receiver.requests).toHaveLength(0);
  });

  it('is rejected by a receiver holding a different secret', async () => {
    const wrong = new WebhookClient({
      env: { BILLING_HOOK_SECRET: 'other' },
      now: () => NOW,
      allowInsecureLoopback: true,
    });

    const error = await failure(wrong.call(target, grantCall));

    expect(error).toBeInstanceOf(PermanentError);
    expect((error as PermanentError).message).toContain('401');
    expect(receiver.applied).toHaveLength(0);
  });
});

describe('verifyWebhookSignature', () => {
  const body = '{"action":"grant"}';
  const t = Math.floor(NOW.getTime() / 1000);

  it('accepts what signWebhookBody produced', () => {
    expect(verifyWebhookSignature(SECRET, signWebhookBody(SECRET, body, t), body, NOW)).toBe(true);
  });

  it('rejects a changed body, a wrong secret and a malformed header', () => {
    const header = signWebhookBody(SECRET, body, t);
    expect(verifyWebhookSignature(SECRET, header, body + ' ', NOW)).toBe(false);
    expect(verifyWebhookSignature('other', header, body, NOW)).toBe(false);
    expect(verifyWebhookSignature(SECRET, 'v1=abc', body, NOW)).toBe(false);
    expect(verifyWebhookSignature(SECRET, '', body, NOW)).toBe(false);
  });

  it('rejects a timestamp outside the tolerance, so an old call cannot be replayed', () => {
    const header = signWebhookBody(SECRET, body, t - 301);
    expect(verifyWebhookSignature(SECRET, header, body, NOW)).toBe(false);
    expect(verifyWebhookSignature(SECRET, header, body, NOW, 600)).toBe(true);
  });

  it('accepts any of several v1 signatures, for key rotation', () => {
    const current = signWebhookBody(SECRET, body, t);
    const previous = signWebhookBody('old-secret', body, t).split(',')[1];
    expect(verifyWebhookSignature(SECRET, `${current},${previous}`, body, NOW)).toBe(true);
    expect(verifyWebhookSignature('old-secret', `${current},${previous}`, body, NOW)).toBe(true);
  });
});
