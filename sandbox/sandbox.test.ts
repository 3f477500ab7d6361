import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createSendGridEmailSender, parseAddress, SANDBOX_SENDGRID_API_KEY } from '../integrations/email';
import { generateWebhookSecret, signWebhook } from '../integrations/webhook-sender';
import { createSandboxApp, startSandbox, type RunningSandbox } from './server';
import type { RecordedEmail } from './sendgrid';
import type { ReceivedRequest } from './webhook-receiver';

let sandbox: RunningSandbox;

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0 });
});

afterAll(async () => {
  await sandbox?.close();
});

const messages = async () =>
  ((await (await fetch(`${sandbox.url}/sendgrid/_messages`)).json()) as { messages: RecordedEmail[] }).messages;

describe('SendGrid emulator', () => {
  test('the official SDK sends through it (no API key configured) and a repeated idempotency key is one email', async () => {
    const email = createSendGridEmailSender({
      apiKey: undefined,
      sandboxUrl: sandbox.url,
      from: 'P11 Console <notify@p11.test>',
    });
    const first = await email.send({
      to: ['admin@example.test', 'ops@example.test'],
      subject: 'Endpoint disabled',
      text: 'It kept failing.',
      idempotencyKey: 'sandbox-test/1',
      category: 'webhook_endpoint_disabled',
    });
    expect(first.messageId).toMatch(/^[a-f0-9]{22}$/);
    const again = await email.send({
      to: ['admin@example.test'],
      subject: 'Endpoint disabled',
      text: 'again',
      idempotencyKey: 'sandbox-test/1',
    });
    expect(again.messageId).toBe(first.messageId);
    const recorded = (await messages()).filter((m) => m.customArgs.idempotency_key === 'sandbox-test/1');
    expect(recorded).toHaveLength(1);
    expect(recorded[0]).toMatchObject({
      from: { email: 'notify@p11.test', name: 'P11 Console' },
      to: ['admin@example.test', 'ops@example.test'],
      subject: 'Endpoint disabled',
      content: [{ type: 'text/plain', value: 'It kept failing.' }],
      categories: ['webhook_endpoint_disabled'],
    });
  });

  test('rejects a missing or malformed key like SendGrid (401) and an invalid payload with field errors (400)', async () => {
    const url = `${sandbox.url}/sendgrid/v3/mail/send`;
    const valid = {
      personalizations: [{ to: [{ email: 'a@example.test' }] }],
      from: { email: 'from@example.test' },
      subject: 'hi',
      content: [{ type: 'text/plain', value: 'hello' }],
    };
    const post = (body: unknown, key: string | null) =>
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
        body: JSON.stringify(body),
      });
    for (const key of [null, 'not-a-sendgrid-key']) {
      const res = await post(valid, key);
      expect(res.status).toBe(401);
      expect(((await res.json()) as { errors: unknown[] }).errors).toHaveLength(1);
    }
    const cases: [unknown, string][] = [
      [{ ...valid, personalizations: [] }, 'personalizations'],
      [{ ...valid, personalizations: [{ to: [{ email: 'nope' }] }] }, 'personalizations.0.to'],
      [{ ...valid, from: undefined }, 'from'],
      [{ ...valid, subject: undefined }, 'subject'],
      [{ ...valid, content: [] }, 'content'],
    ];
    for (const [body, field] of cases) {
      const res = await post(body, SANDBOX_SENDGRID_API_KEY);
      expect(res.status, field).toBe(400);
      const fields = ((await res.json()) as { errors: { field: string }[] }).errors.map((e) => e.field);
      expect(fields).toContain(field);
    }
    const ok = await post(valid, SANDBOX_SENDGRID_API_KEY);
    expect(ok.status).toBe(202);
    expect(ok.headers.get('x-message-id')).toBeTruthy();
  });

  test('parses "Name <address>" and bare addresses', () => {
    expect(parseAddress('P11 <n@p11.test>')).toEqual({ name: 'P11', email: 'n@p11.test' });
    expect(parseAddress('n@p11.test')).toEqual({ email: 'n@p11.test' });
  });
});

describe('webhook receiver', () => {
  const receiver = (name: string) => `${sandbox.url}/receivers/${name}`;
  const requests = async (name: string) =>
    ((await (await fetch(`${receiver(name)}/_requests`)).json()) as { requests: ReceivedRequest[] }).requests;
  const configure = (name: string, settings: unknown) =>
    fetch(`${receiver(name)}/_config`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(settings),
    });

  test('fails the next N requests as configured, then accepts, recording raw bodies and headers', async () => {
    expect((await configure('counting', { failNext: 2, status: 503 })).status).toBe(200);
    const statuses: number[] = [];
    for (const n of [1, 2, 3]) {
      const res = await fetch(receiver('counting'), {
        method: 'POST',
        headers: { 'x-n': String(n) },
        body: `{ "n": ${n} }`,
      });
      statuses.push(res.status);
    }
    expect(statuses).toEqual([503, 503, 200]);
    const recorded = await requests('counting');
    expect(recorded.map((r) => [r.seq, r.status, r.body, r.headers['x-n'], r.verified])).toEqual([
      [1, 503, '{ "n": 1 }', '1', null],
      [2, 503, '{ "n": 2 }', '2', null],
      [3, 200, '{ "n": 3 }', '3', null],
    ]);
    expect((await configure('counting', { failNext: -1 })).status).toBe(400);
    expect((await configure('counting', { unknown: true })).status).toBe(400);
  });

  test('verifies Standard Webhooks signatures once it knows the secret', async () => {
    const secret = generateWebhookSecret();
    await configure('verifying', { secret });
    const body = '{"id":"evt_receiver_1"}';
    const headers = signWebhook({ id: 'evt_receiver_1', timestamp: new Date(), body, secrets: [secret] });
    await fetch(receiver('verifying'), { method: 'POST', headers, body });
    await fetch(receiver('verifying'), { method: 'POST', headers, body: body.replace('1', '2') });
    const [good, bad] = await requests('verifying');
    expect(good).toMatchObject({ verified: true, verificationError: null });
    expect(bad).toMatchObject({ verified: false, verificationError: expect.stringMatching(/signature/i) });
  });

  test('the emulator host serves each service under its prefix', async () => {
    const res = await createSandboxApp().request('/');
    expect(await res.json()).toMatchObject({ services: ['/sendgrid', '/receivers'] });
    expect((await createSandboxApp().request('/sendgrid/_messages')).status).toBe(200);
  });
});
