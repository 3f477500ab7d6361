/**
 * Twilio's and SendGrid's webhooks end to end: the API served over HTTP (PUBLIC_URL is its real address, since
 * Twilio signs the URL it posts to), the sandbox's Twilio and SendGrid emulators posting signed webhooks to it,
 * and TourSpark's worker running real sequences on the run's Temporal dev server.
 *
 * Covered: signatures and the Inbound Parse secret (403 / 404, nothing stored), an inbound SMS stored once and
 * delivered to the lead's workflow once however often Twilio retries it, delivery statuses that only move
 * forward, SendGrid's delivery, open, bounce and unsubscribe events, and email replies routed by our reply
 * address or by the sender, quoted history removed.
 */
import { serve, type ServerType } from '@hono/node-server';
import { count, eq } from 'drizzle-orm';
import type { Hono } from 'hono';
import { createSign, generateKeyPairSync, randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { SANDBOX_TWILIO } from '../config';
import { leadMessages, leadWorkflows } from '../db/schema';
import { withTenant } from '../db/tenancy';
import { SENDGRID_SIGNATURE_HEADER, SENDGRID_TIMESTAMP_HEADER } from '../integrations/sendgrid-webhooks';
import { DEFAULT_SEQUENCE } from '../lib/tourspark-definition';
import { SANDBOX_SENDGRID_EVENT_PRIVATE_KEY } from '../sandbox/sendgrid-keys';
import { startSandbox, type RunningSandbox } from '../sandbox/server';
import { SANDBOX_TWILIO_SERVICE_NUMBER, twilioSignature } from '../sandbox/twilio';
import { createTestApp, type TestApp } from '../test/app-fixture';
import { startTourSparkWorker, type TourSparkWorker } from '../test/tourspark-worker';
import { sequenceStatusQuery, tourSparkWorkflowId, type SequenceStatus } from '../workflows/tourspark';
import { createApp } from './app';
import type { AppEnv } from './context';

let server: ServerType;
let baseUrl: string;
let t: TestApp;
let app: Hono<AppEnv>;
let sandbox: RunningSandbox;
let worker: TourSparkWorker;

beforeAll(async () => {
  // The server listens before the app exists: PUBLIC_URL (what Twilio signs) must be its real address.
  let handler: Hono<AppEnv> | null = null;
  server = await new Promise<ServerType>((resolve) => {
    const s = serve(
      {
        fetch: (req) => (handler ? handler.fetch(req) : new Response('starting', { status: 503 })),
        port: 0,
        hostname: '127.0.0.1',
      },
      () => resolve(s),
    );
  });
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  sandbox = await startSandbox({ port: 0 });
  t = await createTestApp({ enabledProducts: ['tourspark', 'leadpulse'], env: { PUBLIC_URL: baseUrl } });
  worker = await startTourSparkWorker({
    name: 'provider-webhooks',
    database: t.database,
    encryptor: t.deps.encryptor,
    sandboxUrl: sandbox.url,
    publicUrl: baseUrl,
    replyDomain: t.deps.config.email.replyDomain,
  });
  app = createApp({ ...t.deps, toursparkTaskQueue: worker.taskQueue });
  handler = app;

  const configure = async (path: string, body: unknown) => {
    const res = await fetch(`${sandbox.url}${path}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(200);
  };
  // Callbacks a little after the send, so the send activity has stored the Message SID they name.
  await configure('/twilio/_config', {
    inboundRequestUrl: `${baseUrl}/webhooks/twilio/sms`,
    statusCallbackDelayMs: 700,
  });
  await configure('/sendgrid/_config', {
    eventWebhookUrl: `${baseUrl}/webhooks/sendgrid/events`,
    inboundParseUrl: `${baseUrl}/webhooks/sendgrid/inbound/${t.deps.config.email.sendgridInboundSecret}`,
    eventDelayMs: 700,
  });

  // Step 1 (SMS) and step 2 (email) within seconds; quiet hours a minute long in the middle of the night.
  const put = await app.request(`/v1/tourspark/sequences/${t.orgA.propertyId}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${t.orgA.apiKey.key}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      definition: {
        ...DEFAULT_SEQUENCE,
        steps: [
          { id: 1, delay: '1s', action: 'sms', template: 'intro_sms' },
          { id: 2, delay: '1s', action: 'email', template: 'amenities_email' },
          { id: 3, delay: '1h', action: 'sms', template: 'tour_invite' },
        ],
        exit_conditions: ['tour_booked', 'reply_received', 'opt_out'],
        quiet_hours: { start: '03:00', end: '03:01' },
      },
    }),
  });
  expect(put.status).toBe(200);
});

afterAll(async () => {
  await worker?.close();
  await sandbox?.close();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await t?.close();
});

async function eventually<T>(check: () => Promise<T>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

let phoneSeq = 0;
/** A lead whose sequence is running (its lead_workflows mirror written, so webhooks can find it by sender). */
async function leadWithSequence(overrides: Record<string, unknown> = {}) {
  const phone = `+1512555${String(2000 + ++phoneSeq)}`;
  const email = `lead${phoneSeq}-${randomUUID().slice(0, 6)}@example.com`;
  const res = await app.request('/v1/leads', {
    method: 'POST',
    headers: { authorization: `Bearer ${t.orgA.apiKey.key}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      propertyId: t.orgA.propertyId,
      source: 'website',
      externalId: randomUUID(),
      name: 'Riley Webhook',
      email,
      phone,
      ...overrides,
    }),
  });
  expect(res.status).toBe(201);
  const { id } = (await res.json()) as { id: string };
  await eventually(async () => {
    const [mirror] = await t.deps.db.select().from(leadWorkflows).where(eq(leadWorkflows.leadId, id));
    expect(mirror).toBeDefined();
  });
  return { id, phone: (overrides.phone as string | undefined) ?? phone, email: (overrides.email as string) ?? email };
}

function status(leadId: string): Promise<SequenceStatus> {
  return t.deps.temporal.workflow.getHandle(tourSparkWorkflowId(leadId)).query(sequenceStatusQuery);
}

async function messagesOf(leadId: string) {
  return t.deps.db.select().from(leadMessages).where(eq(leadMessages.leadId, leadId));
}

async function totalMessages() {
  const [row] = await t.deps.db.select({ n: count() }).from(leadMessages);
  return row!.n;
}

/** Signals named `name` in the run's history (across its runs under the ID, newest run). */
async function signalsReceived(leadId: string, name: string): Promise<number> {
  const history = await t.deps.temporal.workflow.getHandle(tourSparkWorkflowId(leadId)).fetchHistory();
  return (history.events ?? []).filter((e) => e.workflowExecutionSignaledEventAttributes?.signalName === name).length;
}

/** A Twilio webhook as Twilio would post it, signed for `url` (our public URL unless told otherwise). */
function twilioRequest(
  path: string,
  params: Record<string, string>,
  options: { signedUrl?: string; token?: string } = {},
) {
  const signature = twilioSignature(
    options.token ?? SANDBOX_TWILIO.authToken,
    options.signedUrl ?? `${baseUrl}${path}`,
    params,
  );
  return app.request(path, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature },
    body: new URLSearchParams(params).toString(),
  });
}

function inboundSmsParams(from: string, body: string, sid = `SM${randomUUID().replace(/-/g, '')}`) {
  return {
    MessageSid: sid,
    SmsSid: sid,
    AccountSid: SANDBOX_TWILIO.accountSid,
    MessagingServiceSid: SANDBOX_TWILIO.messagingServiceSid,
    From: from,
    To: SANDBOX_TWILIO_SERVICE_NUMBER,
    Body: body,
    NumMedia: '0',
    ApiVersion: '2010-04-01',
  };
}

describe('Twilio inbound SMS', () => {
  test('a missing, wrong or foreign signature is a 403 and stores nothing', async () => {
    const lead = await leadWithSequence();
    const before = await totalMessages();
    const params = inboundSmsParams(lead.phone, 'Hello?');
    const unsigned = await app.request('/webhooks/twilio/sms', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(params).toString(),
    });
    expect(unsigned.status).toBe(403);
    expect((await unsigned.json()).error.code).toBe('invalid_signature');
    expect((await twilioRequest('/webhooks/twilio/sms', params, { token: 'not-the-auth-token' })).status).toBe(403);
    // Signed for another URL (a replay against another endpoint).
    expect(
      (await twilioRequest('/webhooks/twilio/sms', params, { signedUrl: `${baseUrl}/webhooks/twilio/status` })).status,
    ).toBe(403);
    // A parameter changed after signing.
    const signature = twilioSignature(SANDBOX_TWILIO.authToken, `${baseUrl}/webhooks/twilio/sms`, params);
    const tampered = await app.request('/webhooks/twilio/sms', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature },
      body: new URLSearchParams({ ...params, Body: 'STOP' }).toString(),
    });
    expect(tampered.status).toBe(403);
    expect(await totalMessages()).toBe(before);
  });

  test("an inbound SMS from the emulator is stored once and reaches the lead's sequence", async () => {
    const lead = await leadWithSequence();
    const res = await fetch(`${sandbox.url}/twilio/_inbound`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ from: lead.phone, body: 'Do you allow dogs?' }),
    });
    const posted = (await res.json()) as { messageSid: string; webhookStatus: number };
    expect(posted.webhookStatus).toBe(200);
    const inbound = (await messagesOf(lead.id)).filter((m) => m.direction === 'inbound');
    expect(inbound).toHaveLength(1);
    expect(inbound[0]).toMatchObject({
      channel: 'sms',
      status: 'received',
      body: 'Do you allow dogs?',
      idempotencyKey: `twilio/${posted.messageSid}`,
      providerMessageId: posted.messageSid,
    });
    // The workflow got it: replying is an exit condition of this sequence, and the reply gets classified.
    await eventually(async () => expect((await status(lead.id)).exitReason).toBe('reply_received'));
    await eventually(async () => {
      const [row] = await t.deps.db.select().from(leadMessages).where(eq(leadMessages.id, inbound[0]!.id));
      expect(row!.intent).not.toBeNull();
    });
  });

  test('the same webhook twice (a Twilio retry) is one row and one signal; the answer is TwiML both times', async () => {
    const lead = await leadWithSequence();
    const params = inboundSmsParams(lead.phone, 'Can I see it Saturday?');
    for (let i = 0; i < 2; i++) {
      const res = await twilioRequest('/webhooks/twilio/sms', params);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/text\/xml/);
      expect(await res.text()).toMatch(/<Response\s*\/>|<Response><\/Response>/);
    }
    const rows = (await messagesOf(lead.id)).filter((m) => m.idempotencyKey === `twilio/${params.MessageSid}`);
    expect(rows).toHaveLength(1);
    await eventually(async () => expect((await status(lead.id)).exitReason).toBe('reply_received'));
    expect(await signalsReceived(lead.id, 'replyReceived')).toBe(1);
  });

  test('an SMS from a number with no sequence stores nothing and still answers TwiML', async () => {
    const before = await totalMessages();
    const res = await twilioRequest('/webhooks/twilio/sms', inboundSmsParams('+15125559876', 'wrong number?'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/xml/);
    expect(await totalMessages()).toBe(before);
  });
});

describe('Twilio status callbacks', () => {
  test("the emulator's callbacks move the step's SMS to delivered; a late or lesser status never moves it back", async () => {
    const lead = await leadWithSequence();
    const sms = await eventually(async () => {
      const [row] = (await messagesOf(lead.id)).filter((m) => m.direction === 'outbound' && m.stepId === 1);
      expect(row?.status).toBe('delivered');
      return row!;
    });
    expect(sms.providerMessageId).toMatch(/^SM/);
    const deliveredAt = sms.statusUpdatedAt;
    for (const late of ['sent', 'queued', 'undelivered', 'failed']) {
      const res = await twilioRequest('/webhooks/twilio/status', {
        MessageSid: sms.providerMessageId!,
        MessageStatus: late,
        AccountSid: SANDBOX_TWILIO.accountSid,
        ...(late === 'failed' ? { ErrorCode: '30003' } : {}),
      });
      expect(res.status).toBe(204);
    }
    const [after] = await t.deps.db.select().from(leadMessages).where(eq(leadMessages.id, sms.id));
    expect(after).toMatchObject({ status: 'delivered', statusDetail: sms.statusDetail });
    expect(after!.statusUpdatedAt).toEqual(deliveredAt);
  });

  test('a failure moves a sent message forward with its error code; unknown SIDs and statuses are acknowledged', async () => {
    const lead = await leadWithSequence();
    const sid = `SM${randomUUID().replace(/-/g, '')}`;
    const [row] = await withTenant(t.deps.db, t.orgA.id, (tx) =>
      tx
        .insert(leadMessages)
        .values({
          orgId: t.orgA.id,
          leadId: lead.id,
          direction: 'outbound',
          channel: 'sms',
          author: 'staff',
          idempotencyKey: `test/${sid}`,
          providerMessageId: sid,
          status: 'sent',
          body: 'Hello from the test',
        })
        .returning(),
    );
    const failed = await twilioRequest('/webhooks/twilio/status', {
      MessageSid: sid,
      MessageStatus: 'failed',
      ErrorCode: '30003',
    });
    expect(failed.status).toBe(204);
    const [after] = await t.deps.db.select().from(leadMessages).where(eq(leadMessages.id, row!.id));
    expect(after).toMatchObject({ status: 'failed', statusDetail: 'twilio:30003' });
    // Then a reordered "delivered" (same rank) does not overwrite the outcome.
    await twilioRequest('/webhooks/twilio/status', { MessageSid: sid, MessageStatus: 'delivered' });
    expect((await t.deps.db.select().from(leadMessages).where(eq(leadMessages.id, row!.id)))[0]!.status).toBe('failed');

    const unknown = await twilioRequest('/webhooks/twilio/status', {
      MessageSid: 'SMnotours',
      MessageStatus: 'delivered',
    });
    expect(unknown.status).toBe(204);
    const odd = await twilioRequest('/webhooks/twilio/status', { MessageSid: sid, MessageStatus: 'teleported' });
    expect(odd.status).toBe(204);
    const unsigned = await app.request('/webhooks/twilio/status', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ MessageSid: sid, MessageStatus: 'delivered' }).toString(),
    });
    expect(unsigned.status).toBe(403);
  });
});

/** Signs an Event Webhook body as SendGrid does (ECDSA P-256 over timestamp + body), with `key`. */
function sendGridRequest(
  events: unknown[],
  key = SANDBOX_SENDGRID_EVENT_PRIVATE_KEY,
  tamper?: (body: string) => string,
) {
  const body = JSON.stringify(events);
  const timestamp = String(Math.floor(Date.now() / 1000));
  const signature = createSign('sha256')
    .update(timestamp + body)
    .sign(key)
    .toString('base64');
  return app.request('/webhooks/sendgrid/events', {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      [SENDGRID_SIGNATURE_HEADER]: signature,
      [SENDGRID_TIMESTAMP_HEADER]: timestamp,
    },
    body: tamper ? tamper(body) : body,
  });
}

describe('SendGrid events', () => {
  test('a bad, foreign or missing signature is a 403 and changes nothing', async () => {
    const lead = await leadWithSequence();
    const email = await eventually(async () => {
      const [row] = (await messagesOf(lead.id)).filter((m) => m.channel === 'email' && m.direction === 'outbound');
      expect(row?.status).toBe('delivered');
      return row!;
    });
    const events = [
      { email: lead.email, timestamp: Math.floor(Date.now() / 1000), event: 'bounce', message_id: email.id },
    ];
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const foreign = await sendGridRequest(events, privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
    expect(foreign.status).toBe(403);
    const tampered = await sendGridRequest(events, undefined, (b) => b.replace('bounce', 'dropped'));
    expect(tampered.status).toBe(403);
    const unsigned = await app.request('/webhooks/sendgrid/events', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(events),
    });
    expect(unsigned.status).toBe(403);
    const [after] = await t.deps.db.select().from(leadMessages).where(eq(leadMessages.id, email.id));
    expect(after!.status).toBe('delivered');
  });

  test('delivered and open from the emulator move the step email forward; a late delivered does not undo opened', async () => {
    const lead = await leadWithSequence();
    const email = await eventually(async () => {
      const [row] = (await messagesOf(lead.id)).filter((m) => m.stepId === 2);
      expect(row?.status).toBe('delivered');
      return row!;
    });
    const open = await fetch(`${sandbox.url}/sendgrid/_events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ event: 'open', messageId: email.providerMessageId }),
    });
    expect(((await open.json()) as { httpStatus: number }).httpStatus).toBe(200);
    const opened = (await t.deps.db.select().from(leadMessages).where(eq(leadMessages.id, email.id)))[0]!;
    expect(opened.status).toBe('opened');
    // A re-delivered (SendGrid retries batches) "delivered" after the open.
    const late = await sendGridRequest([
      { email: lead.email, timestamp: Math.floor(Date.now() / 1000), event: 'delivered', message_id: email.id },
      { email: lead.email, timestamp: Math.floor(Date.now() / 1000), event: 'deferred', message_id: email.id },
      { email: lead.email, timestamp: Math.floor(Date.now() / 1000), event: 'processed', message_id: email.id },
    ]);
    expect(late.status).toBe(200);
    expect(await late.json()).toMatchObject({ received: 3, updated: 0 });
    expect((await t.deps.db.select().from(leadMessages).where(eq(leadMessages.id, email.id)))[0]!.status).toBe(
      'opened',
    );
  });

  test('a bounce from the emulator marks the email bounced with its reason', async () => {
    const lead = await leadWithSequence({ email: `nobody${randomUUID().slice(0, 6)}@bounce.test` });
    await eventually(async () => {
      const [row] = (await messagesOf(lead.id)).filter((m) => m.stepId === 2);
      expect(row?.status).toBe('bounced');
      expect(row?.statusDetail).toBeTruthy();
    });
  });

  test('an unsubscribe opts the lead out of email through its workflow', async () => {
    const lead = await leadWithSequence();
    const email = await eventually(async () => {
      const [row] = (await messagesOf(lead.id)).filter((m) => m.stepId === 2);
      expect(row?.providerMessageId).toBeTruthy();
      return row!;
    });
    const res = await fetch(`${sandbox.url}/sendgrid/_events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ event: 'unsubscribe', messageId: email.providerMessageId }),
    });
    expect(((await res.json()) as { httpStatus: number }).httpStatus).toBe(200);
    await eventually(async () => expect((await status(lead.id)).optedOut.email).toBe(true));
    const detail = await app.request(`/v1/leads/${lead.id}`, {
      headers: { authorization: `Bearer ${t.orgA.apiKey.key}` },
    });
    expect(((await detail.json()) as { optOuts: { email: { optedOut: boolean } } }).optOuts.email.optedOut).toBe(true);
  });

  test('a body that is not an event batch is a 400', async () => {
    const res = await sendGridRequest({ not: 'an array' } as never);
    expect(res.status).toBe(400);
  });
});

describe('SendGrid Inbound Parse', () => {
  const inboundPath = () => `/webhooks/sendgrid/inbound/${t.deps.config.email.sendgridInboundSecret}`;

  function inboundForm(fields: Record<string, string>) {
    const form = new FormData();
    for (const [k, v] of Object.entries(fields)) form.append(k, v);
    return form;
  }

  test('a wrong secret is a 404 and stores nothing', async () => {
    const lead = await leadWithSequence();
    const before = await totalMessages();
    for (const secret of ['nope', `${t.deps.config.email.sendgridInboundSecret}x`, '']) {
      const res = await app.request(`/webhooks/sendgrid/inbound/${secret}`, {
        method: 'POST',
        body: inboundForm({ from: lead.email, to: `reply+${lead.id}@reply.p11.local`, subject: 'Hi', text: 'Hello' }),
      });
      expect(res.status).toBe(404);
    }
    expect(await totalMessages()).toBe(before);
  });

  test("a reply to the lead's reply address is routed to it, quoted history removed", async () => {
    // The sender is not the lead's own address: the reply address is what names the lead.
    const lead = await leadWithSequence();
    const res = await fetch(`${sandbox.url}/sendgrid/_inbound`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        from: 'Riley <riley.other@example.net>',
        to: `reply+${lead.id}@${t.deps.config.email.replyDomain}`,
        subject: 'Re: Your tour of Property A',
        text: 'Saturday at 10 works for me.\n\nOn Tue, Nov 3, 2026 at 9:00 AM Property A <leasing@p11.local> wrote:\n> Hi Riley,\n> Reply STOP to opt out.',
      }),
    });
    const posted = (await res.json()) as { httpStatus: number; messageIdHeader: string };
    expect(posted.httpStatus).toBe(200);
    const [inbound] = (await messagesOf(lead.id)).filter((m) => m.direction === 'inbound');
    expect(inbound).toMatchObject({
      channel: 'email',
      body: 'Saturday at 10 works for me.',
      subject: 'Re: Your tour of Property A',
      idempotencyKey: `sendgrid/${posted.messageIdHeader}`,
    });
    await eventually(async () => expect((await status(lead.id)).exitReason).toBe('reply_received'));
  });

  test('a reply from the lead’s address to another address finds the lead by sender; a re-post is one row', async () => {
    const lead = await leadWithSequence();
    const fields = {
      headers: `Message-ID: <${randomUUID()}@mail.example.com>\nSubject: Question\n`,
      from: `Riley <${lead.email.toUpperCase()}>`,
      to: 'leasing@p11.local',
      subject: 'Question',
      text: 'Is parking included?',
      envelope: JSON.stringify({ to: ['leasing@p11.local'], from: lead.email }),
    };
    for (let i = 0; i < 2; i++) {
      const res = await app.request(inboundPath(), { method: 'POST', body: inboundForm(fields) });
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ routed: true, duplicate: i === 1 });
    }
    const inbound = (await messagesOf(lead.id)).filter((m) => m.direction === 'inbound');
    expect(inbound).toHaveLength(1);
    expect(inbound[0]!.body).toBe('Is parking included?');
    await eventually(async () => expect((await status(lead.id)).exitReason).toBe('reply_received'));
    expect(await signalsReceived(lead.id, 'replyReceived')).toBe(1);
  });

  test('an email from nobody we wrote to stores nothing', async () => {
    const before = await totalMessages();
    const res = await app.request(inboundPath(), {
      method: 'POST',
      body: inboundForm({ from: 'stranger@example.org', to: 'leasing@p11.local', subject: 'Hi', text: 'Hello' }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ routed: false });
    // A reply address naming a lead that does not exist falls back to the sender, who is nobody.
    const ghost = await app.request(inboundPath(), {
      method: 'POST',
      body: inboundForm({
        from: 'stranger@example.org',
        to: `reply+${randomUUID()}@reply.p11.local`,
        subject: 'x',
        text: 'y',
      }),
    });
    expect(await ghost.json()).toEqual({ routed: false });
    expect(await totalMessages()).toBe(before);
  });
});
