/**
 * The platform's SendGrid integration (the official SDKs) against the sandbox's SendGrid emulator: sending with
 * reply-to and custom args, reconciling through the Email Activity API, and the two webhooks SendGrid posts
 * (signed Event Webhook, Inbound Parse) received by a separate HTTP server and read with our helpers.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { SANDBOX_SENDGRID_EVENT_PUBLIC_KEY } from '../config';
import { startCaptureServer, type CaptureServer, type CapturedRequest } from '../sandbox/capture-server';
import { startSandbox, type RunningSandbox } from '../sandbox/server';
import type { RecordedEmail } from '../sandbox/sendgrid';
import { baseMessageId, createSendGridEmailSender, type EmailSender } from './email';
import {
  parseInboundParse,
  parseSendGridEvents,
  SENDGRID_SIGNATURE_HEADER,
  SENDGRID_TIMESTAMP_HEADER,
  SendGridPayloadError,
  stripQuotedReply,
  verifySendGridEventSignature,
} from './sendgrid-webhooks';

let sandbox: RunningSandbox;
let receiver: CaptureServer;
let email: EmailSender;

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0 });
  receiver = await startCaptureServer();
  // As workers/dependencies.ts builds it from config.email when no SENDGRID_API_KEY is set.
  email = createSendGridEmailSender({
    apiKey: undefined,
    apiUrl: `${sandbox.url}/sendgrid`,
    from: 'Maple Court <leasing@p11.test>',
  });
});

afterAll(async () => {
  await receiver?.close();
  await sandbox?.close();
});

afterEach(async () => {
  await configure({ eventWebhookUrl: null, inboundParseUrl: null, eventDelayMs: 10 });
  receiver.respond(200);
});

async function configure(settings: Record<string, unknown>) {
  const res = await fetch(`${sandbox.url}/sendgrid/_config`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(settings),
  });
  expect(res.status).toBe(200);
}

async function control(path: string, body: unknown) {
  const res = await fetch(`${sandbox.url}/sendgrid${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

const recorded = async () =>
  ((await (await fetch(`${sandbox.url}/sendgrid/_messages`)).json()) as { messages: RecordedEmail[] }).messages;

const verify = (r: CapturedRequest, body = r.body) =>
  verifySendGridEventSignature(
    SANDBOX_SENDGRID_EVENT_PUBLIC_KEY,
    body,
    r.headers[SENDGRID_SIGNATURE_HEADER.toLowerCase()],
    r.headers[SENDGRID_TIMESTAMP_HEADER.toLowerCase()],
  );

/** What the API route does with an Inbound Parse request: read the multipart body as FormData. */
const formOf = (r: CapturedRequest) =>
  new Request('http://api.test/inbound', {
    method: 'POST',
    headers: { 'content-type': r.contentType },
    body: r.body,
  }).formData();

describe('createSendGridEmailSender (official SDK) against the emulator', () => {
  test('sends reply-to and custom args; a caller’s custom arg cannot replace idempotency_key', async () => {
    const sent = await email.send({
      to: ['jo@example.test'],
      subject: 'Your tour at Maple Court',
      text: 'Pick a time: https://example.test/book',
      html: '<p>Pick a time: <a href="https://example.test/book">book</a></p>',
      idempotencyKey: 'tourspark/lead/l-1/step-1',
      category: 'tourspark',
      replyTo: 'reply+l-1@reply.p11.local',
      customArgs: { lead_id: 'l-1', message_id: 'm-1', idempotency_key: 'not-this' },
    });
    expect(sent.messageId).toMatch(/^[a-f0-9]{22}$/);
    const [message] = (await recorded()).filter((m) => m.messageId === sent.messageId);
    expect(message).toMatchObject({
      from: { email: 'leasing@p11.test', name: 'Maple Court' },
      to: ['jo@example.test'],
      replyTo: 'reply+l-1@reply.p11.local',
      customArgs: { lead_id: 'l-1', message_id: 'm-1', idempotency_key: 'tourspark/lead/l-1/step-1' },
      categories: ['tourspark'],
      content: [
        { type: 'text/plain', value: 'Pick a time: https://example.test/book' },
        { type: 'text/html', value: '<p>Pick a time: <a href="https://example.test/book">book</a></p>' },
      ],
    });
    expect(message!.raw.reply_to).toEqual({ email: 'reply+l-1@reply.p11.local' });
  });

  test('two sends with one idempotency key are two messages; findSent finds the key’s message and no other', async () => {
    const since = new Date();
    const key = `tourspark/lead/l-2/step-${Date.now()}`;
    const first = await email.send({ to: ['a@example.test'], subject: 's', text: 't', idempotencyKey: key });
    const second = await email.send({ to: ['a@example.test'], subject: 's', text: 't', idempotencyKey: key });
    const other = await email.send({ to: ['a@example.test'], subject: 's', text: 't', idempotencyKey: `${key}-other` });
    expect(new Set([first.messageId, second.messageId, other.messageId]).size).toBe(3);
    expect((await recorded()).filter((m) => m.customArgs.idempotency_key === key)).toHaveLength(2);

    const found = await email.findSent({ idempotencyKey: key, since });
    expect([first.messageId, second.messageId]).toContain(found?.messageId);
    expect(await email.findSent({ idempotencyKey: `${key}-other`, since })).toEqual({ messageId: other.messageId });
    expect(await email.findSent({ idempotencyKey: `${key}-never-sent`, since })).toBeNull();
    // Sent before the window: not this attempt's message.
    expect(await email.findSent({ idempotencyKey: key, since: new Date(Date.now() + 60_000) })).toBeNull();
    await expect(email.findSent({ idempotencyKey: 'has "quotes"', since })).rejects.toThrow(/Email Activity query/);
  });

  test('a real key with the sandbox URL, and a missing URL, are handled as configured', async () => {
    const withKey = createSendGridEmailSender({
      apiKey: 'SG.some-real-looking.key',
      apiUrl: `${sandbox.url}/sendgrid`,
      from: 'n@p11.test',
    });
    expect(
      (await withKey.send({ to: ['k@example.test'], subject: 's', text: 't', idempotencyKey: 'k' })).messageId,
    ).toBeTruthy();
    expect(() => createSendGridEmailSender({ apiKey: undefined, from: 'n@p11.test' })).toThrow(/sandboxUrl/);
  });
});

describe('Event Webhook', () => {
  test('processed then delivered/bounce batches arrive signed; our verifier accepts them and rejects tampering', async () => {
    await configure({ eventWebhookUrl: `${receiver.url}/webhooks/sendgrid/events` });
    const sent = await email.send({
      to: ['jo@example.test', 'nobody@bounce.test'],
      subject: 'Your tour',
      text: 'hi',
      idempotencyKey: 'events-1',
      category: 'tourspark',
      customArgs: { lead_id: 'l-3', message_id: 'm-3' },
    });
    // Earlier tests' messages may post their late events here too (SendGrid posts to the URL configured at
    // event time): look at this message's batches only.
    const [processedPost, finalPost] = await receiver.waitForMatching(
      '/webhooks/sendgrid/events',
      (r) => r.body.includes(sent.messageId!),
      2,
    );
    for (const post of [processedPost!, finalPost!]) {
      expect(post.contentType).toContain('application/json');
      expect(post.headers[SENDGRID_TIMESTAMP_HEADER.toLowerCase()]).toMatch(/^\d{10}$/);
      expect(verify(post)).toBe(true);
      expect(verify(post, post.body.replace('jo@example.test', 'jo@evil.test'))).toBe(false);
      expect(verify(post, post.body + ' ')).toBe(false);
      expect(
        verifySendGridEventSignature(
          SANDBOX_SENDGRID_EVENT_PUBLIC_KEY,
          post.body,
          post.headers[SENDGRID_SIGNATURE_HEADER.toLowerCase()],
          String(Number(post.headers[SENDGRID_TIMESTAMP_HEADER.toLowerCase()]) + 1),
        ),
      ).toBe(false);
    }

    const processed = parseSendGridEvents(processedPost!.body);
    expect(processed.map((e) => [e.event, e.email])).toEqual([
      ['processed', 'jo@example.test'],
      ['processed', 'nobody@bounce.test'],
    ]);
    const final = parseSendGridEvents(finalPost!.body);
    expect(final.map((e) => [e.event, e.email])).toEqual([
      ['delivered', 'jo@example.test'],
      ['bounce', 'nobody@bounce.test'],
    ]);
    for (const event of [...processed, ...final]) {
      expect(baseMessageId(event.sg_message_id!)).toBe(sent.messageId);
      expect(event.customArgs).toEqual({ idempotency_key: 'events-1', lead_id: 'l-3', message_id: 'm-3' });
      expect(event.category).toEqual(['tourspark']);
      expect(event.timestamp).toBeGreaterThan(1_700_000_000);
    }
    expect(new Set([...processed, ...final].map((e) => e.sg_event_id)).size).toBe(4);
    expect(final[1]).toMatchObject({ reason: expect.stringContaining('5.1.1'), status: '5.1.1', type: 'bounce' });
    // Custom args sit at the top level of each event, as SendGrid sends them.
    expect(JSON.parse(finalPost!.body)[0]).toMatchObject({
      lead_id: 'l-3',
      message_id: 'm-3',
      idempotency_key: 'events-1',
    });

    // The Email Activity API reflects the outcome per recipient.
    const activity = await fetch(
      `${sandbox.url}/sendgrid/v3/messages?limit=5&query=${encodeURIComponent(`unique_args['idempotency_key']="events-1"`)}`,
      { headers: { authorization: 'Bearer SG.sandbox.p11-console' } },
    );
    const rows = ((await activity.json()) as { messages: { to_email: string; status: string }[] }).messages;
    expect(rows.map((r) => [r.to_email, r.status]).sort()).toEqual([
      ['jo@example.test', 'delivered'],
      ['nobody@bounce.test', 'not_delivered'],
    ]);
  });

  test('an event posted on demand (unsubscribe) arrives signed with the message’s custom args', async () => {
    const sent = await email.send({
      to: ['lee@example.test'],
      subject: 's',
      text: 't',
      idempotencyKey: 'events-2',
      customArgs: { lead_id: 'l-4' },
    });
    expect((await control('/_events', { event: 'unsubscribe', messageId: sent.messageId })).status).toBe(409);
    await configure({ eventWebhookUrl: `${receiver.url}/on-demand` });
    const posted = await control('/_events', { event: 'unsubscribe', messageId: sent.messageId });
    expect(posted.status).toBe(200);
    expect(posted.body.httpStatus).toBe(200);
    const [unsubscribe] = await receiver.waitForMatching(
      '/on-demand',
      (r) => r.body.includes('"unsubscribe"') && r.body.includes(sent.messageId!),
      1,
    );
    expect(verify(unsubscribe!)).toBe(true);
    const [event] = parseSendGridEvents(unsubscribe!.body);
    expect(event).toMatchObject({
      event: 'unsubscribe',
      email: 'lee@example.test',
      customArgs: { lead_id: 'l-4', idempotency_key: 'events-2' },
    });
    expect(baseMessageId(event!.sg_message_id!)).toBe(sent.messageId);

    expect((await control('/_events', { event: 'open', messageId: 'nope' })).status).toBe(404);
    expect((await control('/_events', { event: 'open', messageId: sent.messageId, email: 'x@y.test' })).status).toBe(
      400,
    );
    expect((await control('/_events', { event: 'exploded', messageId: sent.messageId })).status).toBe(400);
  });

  test('parseSendGridEvents rejects what is not an event batch; the verifier never throws', () => {
    expect(() => parseSendGridEvents('not json')).toThrow(SendGridPayloadError);
    expect(() => parseSendGridEvents('{"email":"a@b"}')).toThrow(SendGridPayloadError);
    expect(() => parseSendGridEvents('[{"email":"a@b","event":"open"}]')).toThrow(/timestamp/);
    const [legacy] = parseSendGridEvents(
      JSON.stringify([{ email: 'a@b.test', event: 'open', timestamp: 1, unique_args: { lead_id: 'x' }, n: 2 }]),
    );
    expect(legacy!.customArgs).toEqual({ lead_id: 'x', n: '2' });
    expect(verifySendGridEventSignature(SANDBOX_SENDGRID_EVENT_PUBLIC_KEY, '[]', 'bm90IGEgc2ln', '1')).toBe(false);
    expect(verifySendGridEventSignature('not a key', '[]', 'bm90IGEgc2ln', '1')).toBe(false);
    expect(verifySendGridEventSignature(SANDBOX_SENDGRID_EVENT_PUBLIC_KEY, '[]', undefined, '1')).toBe(false);
    expect(verifySendGridEventSignature('', '[]', 'x', '1')).toBe(false);
  });

  test('the optional age check rejects stale timestamps before checking the signature', async () => {
    await configure({ eventWebhookUrl: `${receiver.url}/aged` });
    const sent = await email.send({ to: ['old@example.test'], subject: 's', text: 't', idempotencyKey: 'aged' });
    const [post] = await receiver.waitForMatching('/aged', (r) => r.body.includes(sent.messageId!), 1);
    const args = [
      SANDBOX_SENDGRID_EVENT_PUBLIC_KEY,
      post!.body,
      post!.headers[SENDGRID_SIGNATURE_HEADER.toLowerCase()],
      post!.headers[SENDGRID_TIMESTAMP_HEADER.toLowerCase()],
    ] as const;
    expect(verifySendGridEventSignature(...args, { toleranceSeconds: 300 })).toBe(true);
    expect(
      verifySendGridEventSignature(...args, { toleranceSeconds: 300, now: new Date(Date.now() + 3_600_000) }),
    ).toBe(false);
  });
});

describe('Inbound Parse', () => {
  test('a reply is posted as multipart/form-data and parsed into sender, recipients, text and threading headers', async () => {
    const route = '/webhooks/sendgrid/inbound/secret-123';
    expect((await control('/_inbound', { from: 'a@b.test', to: 'c@d.test', subject: 's', text: 't' })).status).toBe(
      409,
    );
    await configure({ inboundParseUrl: `${receiver.url}${route}` });
    const posted = await control('/_inbound', {
      from: 'Jo Lee <Jo.Lee@Example.test>',
      to: 'reply+l-5@reply.p11.local',
      subject: 'Re: Your tour at Maple Court',
      text: 'Saturday at 10 works for me!\n\nOn Mon, Mar 2, 2026 at 9:00 AM Maple Court <leasing@p11.test> wrote:\n> Pick a time',
      inReplyTo: '<original@p11.test>',
    });
    expect(posted.status).toBe(200);
    expect(posted.body.httpStatus).toBe(200);
    const [request] = await receiver.waitFor(route, 1);
    expect(request!.contentType).toMatch(/^multipart\/form-data; boundary=/);
    const form = await formOf(request!);
    expect(JSON.parse(form.get('envelope') as string)).toEqual({
      to: ['reply+l-5@reply.p11.local'],
      from: 'Jo.Lee@Example.test',
    });
    expect(JSON.parse(form.get('charsets') as string)).toMatchObject({ text: 'UTF-8', subject: 'UTF-8' });

    const parsed = parseInboundParse(form);
    expect(parsed).toMatchObject({
      from: { email: 'jo.lee@example.test', name: 'Jo Lee' },
      to: ['reply+l-5@reply.p11.local'],
      subject: 'Re: Your tour at Maple Court',
      html: null,
      messageIdHeader: posted.body.messageIdHeader,
      inReplyTo: '<original@p11.test>',
      replyText: 'Saturday at 10 works for me!',
      spf: 'pass',
      envelope: { to: ['reply+l-5@reply.p11.local'], from: 'Jo.Lee@Example.test' },
    });
    expect(parsed.text).toContain('> Pick a time');
    expect(parsed.headers).toMatchObject({
      subject: 'Re: Your tour at Maple Court',
      references: '<original@p11.test>',
    });
  });

  test('an HTML-only reply gets its text derived from the HTML', async () => {
    await configure({ inboundParseUrl: `${receiver.url}/html-only` });
    await control('/_inbound', {
      from: 'sam@example.test',
      to: ['Leasing <reply+l-6@reply.p11.local>', 'other@p11.test'],
      subject: 'Re: tour',
      html: '<div>Is the <b>2 bedroom</b> still available?</div><blockquote>On Mon wrote:<br>Pick a time</blockquote>',
    });
    const [request] = await receiver.waitFor('/html-only', 1);
    const form = await formOf(request!);
    expect(form.get('text')).toBeNull();
    const parsed = parseInboundParse(form);
    expect(parsed.from).toEqual({ email: 'sam@example.test', name: null });
    expect(parsed.to).toEqual(['reply+l-6@reply.p11.local', 'other@p11.test']);
    expect(parsed.text).toContain('Is the 2 bedroom still available?');
    expect(parsed.replyText).toBe('Is the 2 bedroom still available?');
    expect(parsed.html).toContain('<b>2 bedroom</b>');
  });

  test('parseInboundParse takes a plain record too, and refuses a post without a sender', () => {
    const parsed = parseInboundParse({
      from: '"Lee, Sam" <sam@example.test>',
      to: '"Leasing, Maple" <reply+l-7@reply.p11.local>, x@y.test',
      subject: 'hi',
      text: 'Yes',
      headers: 'Message-ID: <m@x>\nIn-Reply-To:\n <folded@p11.test>\n',
    });
    expect(parsed.from).toEqual({ email: 'sam@example.test', name: 'Lee, Sam' });
    expect(parsed.to).toEqual(['reply+l-7@reply.p11.local', 'x@y.test']);
    expect(parsed.inReplyTo).toBe('<folded@p11.test>');
    expect(() => parseInboundParse({ to: 'a@b.test' })).toThrow(SendGridPayloadError);
    expect(() => parseInboundParse({ from: 'nobody' })).toThrow(SendGridPayloadError);
  });

  test('stripQuotedReply keeps the reply’s own words', () => {
    expect(stripQuotedReply('Sounds good\n\n-----Original Message-----\nFrom: x')).toBe('Sounds good');
    expect(stripQuotedReply('Yes!\nOn Tue, Mar 3, 2026 at 10:00 AM Maple Court <l@p11.test>\nwrote:\n> hi')).toBe(
      'Yes!',
    );
    expect(stripQuotedReply('Top\n> quoted\nBottom')).toBe('Top\nBottom');
    expect(stripQuotedReply('Thanks\n\nFrom: Maple Court\nSent: Monday\nSubject: tour')).toBe('Thanks');
  });
});
