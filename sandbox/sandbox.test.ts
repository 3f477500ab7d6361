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
  test('the official SDK sends through it (no API key configured); a repeated idempotency key is another email, as at SendGrid', async () => {
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
    // SendGrid has no idempotency: exactly-once is the caller's job (findSent), so the emulator must not hide a
    // duplicate send either.
    const again = await email.send({
      to: ['admin@example.test'],
      subject: 'Endpoint disabled',
      text: 'again',
      idempotencyKey: 'sandbox-test/1',
    });
    expect(again.messageId).toMatch(/^[a-f0-9]{22}$/);
    expect(again.messageId).not.toBe(first.messageId);
    const recorded = (await messages()).filter((m) => m.customArgs.idempotency_key === 'sandbox-test/1');
    expect(recorded.map((m) => m.messageId)).toEqual([first.messageId, again.messageId]);
    expect(recorded[0]).toMatchObject({
      from: { email: 'notify@p11.test', name: 'P11 Console' },
      to: ['admin@example.test', 'ops@example.test'],
      subject: 'Endpoint disabled',
      content: [{ type: 'text/plain', value: 'It kept failing.' }],
      categories: ['webhook_endpoint_disabled'],
      replyTo: null,
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

  test('the Email Activity API filters by the query language subset and answers 400 on what it cannot parse', async () => {
    const app = createSandboxApp();
    const auth = { authorization: `Bearer ${SANDBOX_SENDGRID_API_KEY}` };
    const send = async (to: string, key: string, subject = 'Tour') => {
      const res = await app.request('/sendgrid/v3/mail/send', {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({
          personalizations: [{ to: [{ email: to }] }],
          from: { email: 'from@p11.test' },
          subject,
          content: [{ type: 'text/plain', value: 'hi' }],
          custom_args: { idempotency_key: key, lead_id: 'l-1' },
        }),
      });
      expect(res.status).toBe(202);
      return res.headers.get('x-message-id')!;
    };
    const a = await send('a@example.test', 'k-1');
    const b = await send('b@example.test', 'k-2', 'Other');
    const query = async (q: string | null, extra = '', headers: Record<string, string> = auth) => {
      const res = await app.request(
        `/sendgrid/v3/messages?${q === null ? '' : `query=${encodeURIComponent(q)}&`}${extra}`,
        { headers },
      );
      const body = (await res.json()) as { messages?: { msg_id: string; to_email: string }[]; errors?: unknown[] };
      return { status: res.status, ids: body.messages?.map((m) => m.msg_id.split('.filter')[0]) ?? null, body };
    };
    const hour = 3_600_000;
    const iso = (ms: number) => new Date(ms).toISOString();
    expect((await query(null)).ids).toEqual([b, a]);
    expect((await query(null, 'limit=1')).ids).toEqual([b]);
    expect((await query(`unique_args['idempotency_key']="k-1"`)).ids).toEqual([a]);
    expect((await query(`(unique_args["idempotency_key"]="k-2")`)).ids).toEqual([b]);
    expect((await query(`unique_args['lead_id']="l-1" AND to_email="b@example.test"`)).ids).toEqual([b]);
    expect((await query(`subject="Tour"`)).ids).toEqual([a]);
    expect((await query(`subject!="Tour"`)).ids).toEqual([b]);
    expect((await query(`msg_id="${(await query(null)).body.messages![1]!.msg_id}"`)).ids).toEqual([a]);
    const between = (from: number, to: number) =>
      `(unique_args['idempotency_key']="k-1") AND last_event_time BETWEEN TIMESTAMP "${iso(from)}" AND TIMESTAMP "${iso(to)}"`;
    expect((await query(between(Date.now() - hour, Date.now() + hour))).ids).toEqual([a]);
    expect((await query(between(Date.now() + hour, Date.now() + 2 * hour))).ids).toEqual([]);
    expect((await query(`last_event_time>=TIMESTAMP "${iso(Date.now() - hour)}"`)).ids).toEqual([b, a]);
    expect((await query(`last_event_time<TIMESTAMP '${iso(Date.now() - hour)}'`)).ids).toEqual([]);

    for (const bad of [
      'to_email=',
      'to_email="a@example.test" OR subject="x"',
      'nonsense="x"',
      'last_event_time BETWEEN "a" AND "b"',
      'last_event_time BETWEEN TIMESTAMP "not a date" AND TIMESTAMP "2026-01-01T00:00:00Z"',
      '(to_email="a@example.test"',
      'to_email="a@example.test" trailing',
    ]) {
      const res = await query(bad);
      expect(res.status, bad).toBe(400);
      expect(res.body.errors, bad).toEqual([expect.objectContaining({ field: 'query', message: expect.any(String) })]);
    }
    expect((await query(null, 'limit=0')).status).toBe(400);
    expect((await query(null, 'limit=1001')).status).toBe(400);
    expect((await query(null, '', {})).status).toBe(401);
  });

  test('control endpoints validate their input', async () => {
    const app = createSandboxApp();
    const json = (method: string, path: string, body: unknown) =>
      app.request(`/sendgrid${path}`, {
        method,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect((await json('PUT', '/_config', { eventWebhookUrl: 'nope' })).status).toBe(400);
    expect((await json('PUT', '/_config', { other: 1 })).status).toBe(400);
    const ok = await json('PUT', '/_config', { eventWebhookUrl: 'http://127.0.0.1:9/e', eventDelayMs: 5 });
    expect(await ok.json()).toEqual({
      eventWebhookUrl: 'http://127.0.0.1:9/e',
      inboundParseUrl: null,
      eventDelayMs: 5,
    });
    expect((await json('POST', '/_inbound', { from: 'a@b.test' })).status).toBe(400);
    expect((await json('POST', '/_events', { event: 'open' })).status).toBe(400);
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
    expect(await res.json()).toMatchObject({
      services: ['/sendgrid', '/twilio', '/business-profile', '/slack', '/receivers'],
    });
    expect((await createSandboxApp().request('/sendgrid/_messages')).status).toBe(200);
    expect((await createSandboxApp().request('/twilio/_messages')).status).toBe(200);
    expect((await createSandboxApp().request('/business-profile/_replies')).status).toBe(200);
    expect((await createSandboxApp().request('/slack/_messages')).status).toBe(200);
  });
});
