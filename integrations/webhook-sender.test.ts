import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'svix';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startSandbox, type RunningSandbox } from '../sandbox/server';
import type { ReceivedRequest } from '../sandbox/webhook-receiver';
import {
  createFetchWebhookSender,
  generateWebhookSecret,
  isSuccessStatus,
  RESPONSE_BODY_LIMIT,
  signWebhook,
} from './webhook-sender';

let sandbox: RunningSandbox;
let special: Server;
let specialUrl: string;
const sender = createFetchWebhookSender({ timeoutMs: 2_000 });

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0 });
  // Answers the receiver emulator does not give: a huge body and a redirect.
  special = createServer((req, res) => {
    if (req.url === '/redirect') {
      res.writeHead(302, { location: `${sandbox.url}/receivers/redirected` }).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain' }).end('x'.repeat(10_000));
  });
  await new Promise<void>((resolve) => special.listen(0, '127.0.0.1', resolve));
  specialUrl = `http://127.0.0.1:${(special.address() as AddressInfo).port}`;
});

afterAll(async () => {
  special?.closeAllConnections();
  await new Promise((resolve) => special?.close(resolve));
  await sandbox?.close();
});

async function configure(name: string, settings: Record<string, unknown>) {
  await fetch(`${sandbox.url}/receivers/${name}/_config`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(settings),
  });
}

async function requestsOf(name: string): Promise<ReceivedRequest[]> {
  return ((await (await fetch(`${sandbox.url}/receivers/${name}/_requests`)).json()) as { requests: ReceivedRequest[] })
    .requests;
}

describe('fetch webhook sender', () => {
  test('posts the body and headers as given and returns the status, body and duration', async () => {
    const body = '{"id":"evt_sender_1",  "spaced": true}';
    const response = await sender.send({ url: `${sandbox.url}/receivers/plain`, body, headers: { 'x-extra': 'yes' } });
    expect(response.status).toBe(200);
    expect(isSuccessStatus(response.status)).toBe(true);
    expect(JSON.parse(response.body)).toEqual({ ok: true });
    expect(response.durationMs).toBeGreaterThanOrEqual(0);
    const [received] = await requestsOf('plain');
    expect(received).toMatchObject({ method: 'POST', body });
    expect(received!.headers).toMatchObject({ 'content-type': 'application/json', 'x-extra': 'yes' });
  });

  test('a non-2xx answer is returned, not thrown', async () => {
    await configure('teapot', { failNext: 1, status: 418 });
    const response = await sender.send({ url: `${sandbox.url}/receivers/teapot`, body: '{}', headers: {} });
    expect(response.status).toBe(418);
    expect(isSuccessStatus(response.status)).toBe(false);
  });

  test('a redirect is not followed', async () => {
    const response = await sender.send({ url: `${specialUrl}/redirect`, body: '{}', headers: {} });
    expect(response.status).toBe(302);
    expect(await requestsOf('redirected')).toEqual([]);
  });

  test('keeps only the first 2 KB of the answer', async () => {
    const response = await sender.send({ url: `${specialUrl}/big`, body: '{}', headers: {} });
    expect(response.body).toBe('x'.repeat(RESPONSE_BODY_LIMIT));
  });

  test('a timeout and an unreachable receiver throw', async () => {
    await configure('slow', { delayMs: 1_000 });
    await expect(
      sender.send({ url: `${sandbox.url}/receivers/slow`, body: '{}', headers: {}, timeoutMs: 100 }),
    ).rejects.toThrow(/timeout|aborted/i);
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    await expect(sender.send({ url: `http://127.0.0.1:${port}/`, body: '{}', headers: {} })).rejects.toThrow();
  });
});

describe('Standard Webhooks signing', () => {
  const body = JSON.stringify({ id: 'evt_sign_test_1', type: 'webhook.test', data: { message: 'hi' } });
  const headersFor = (secrets: string[]) =>
    signWebhook({ id: 'evt_sign_test_1', timestamp: new Date(), body, secrets });

  test('secrets are whsec_ + base64 of 32 random bytes, different every time', () => {
    const secret = generateWebhookSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(Buffer.from(secret.slice(6), 'base64')).toHaveLength(32);
    expect(generateWebhookSecret()).not.toBe(secret);
  });

  test('an off-the-shelf verifier accepts the signature and rejects tampering, another secret or an old message', () => {
    const secret = generateWebhookSecret();
    const headers = headersFor([secret]);
    expect(headers['webhook-id']).toBe('evt_sign_test_1');
    expect(headers['webhook-timestamp']).toMatch(/^\d{10}$/);
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
    expect(() => new Webhook(secret).verify(body.replace('hi', 'ho'), headers)).toThrow(/signature/i);
    expect(() => new Webhook(generateWebhookSecret()).verify(body, headers)).toThrow(/signature/i);
    const stale = signWebhook({
      id: 'evt_sign_test_1',
      timestamp: new Date(Date.now() - 3_600_000),
      body,
      secrets: [secret],
    });
    expect(() => new Webhook(secret).verify(body, stale)).toThrow(/too old/i);
  });

  test('during a rotation there is one signature per secret and each secret verifies', () => {
    const current = generateWebhookSecret();
    const previous = generateWebhookSecret();
    const headers = headersFor([current, previous]);
    expect(headers['webhook-signature']!.split(' ')).toHaveLength(2);
    expect(new Webhook(current).verify(body, headers)).toBeTruthy();
    expect(new Webhook(previous).verify(body, headers)).toBeTruthy();
    expect(() => signWebhook({ id: 'evt_sign_test_1', timestamp: new Date(), body, secrets: [] })).toThrow();
  });
});
