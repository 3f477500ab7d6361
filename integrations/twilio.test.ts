/**
 * The platform's Twilio integration (the official SDK) against the sandbox's Twilio emulator, with a separate
 * HTTP server standing in for the platform's webhook routes.
 */
import twilio from 'twilio';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { SANDBOX_TWILIO } from '../config';
import { startCaptureServer, type CaptureServer, type CapturedRequest } from '../sandbox/capture-server';
import { startSandbox, type RunningSandbox } from '../sandbox/server';
import { SANDBOX_TWILIO_SERVICE_NUMBER, type SandboxSmsRecord } from '../sandbox/twilio';
import { SmsRejectedError, TWILIO_UNSUBSCRIBED_RECIPIENT, type SmsSender } from './sms';
import {
  createRebasedHttpClient,
  createTwilioSmsSender,
  rebase,
  twimlEmptyResponse,
  validateTwilioSignature,
} from './twilio';

let sandbox: RunningSandbox;
let receiver: CaptureServer;
let sms: SmsSender;

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0 });
  receiver = await startCaptureServer();
  sms = createTwilioSmsSender({ ...SANDBOX_TWILIO, apiUrl: `${sandbox.url}/twilio` });
});

afterAll(async () => {
  await receiver?.close();
  await sandbox?.close();
});

afterEach(async () => {
  await configure({ statusCallbackDelayMs: 20, inboundRequestUrl: null, failNextSends: 0 });
  receiver.respond(200);
});

async function configure(settings: Record<string, unknown>) {
  const res = await fetch(`${sandbox.url}/twilio/_config`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(settings),
  });
  expect(res.status).toBe(200);
}

async function inbound(from: string, body: string) {
  const res = await fetch(`${sandbox.url}/twilio/_inbound`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ from, body }),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as { messageSid: string; webhookStatus: number | null; optedOut: boolean };
}

async function emulatorMessages(): Promise<SandboxSmsRecord[]> {
  return ((await (await fetch(`${sandbox.url}/twilio/_messages`)).json()) as { messages: SandboxSmsRecord[] }).messages;
}

const paramsOf = (r: CapturedRequest) => Object.fromEntries(new URLSearchParams(r.body));
const signatureOf = (r: CapturedRequest) => r.headers['x-twilio-signature'] ?? '';

let numberSeq = 1000;
/** A fresh valid US mobile number per use, so tests sharing the emulator never see each other's messages. */
const freshNumber = () => `+1512555${String(numberSeq++).padStart(4, '0')}`;

describe('createTwilioSmsSender (official SDK) against the emulator', () => {
  test('sends through the Messaging Service; status callbacks arrive signed, and the SDK validates them', async () => {
    const to = freshNumber();
    const callbackPath = '/webhooks/twilio/status/lead-1/step-0';
    const sent = await sms.send({
      to,
      body: 'Hi Jo, thanks for asking about Maple Court!',
      statusCallbackUrl: `${receiver.url}${callbackPath}?x=1`,
    });
    expect(sent.providerMessageId).toMatch(/^SM[0-9a-f]{32}$/);
    expect(sent.status).toBe('accepted');

    const callbacks = await receiver.waitFor(callbackPath, 3);
    expect(callbacks.map((r) => paramsOf(r).MessageStatus)).toEqual(['queued', 'sent', 'delivered']);
    for (const request of callbacks) {
      const params = paramsOf(request);
      expect(request.contentType).toContain('application/x-www-form-urlencoded');
      expect(params).toMatchObject({
        MessageSid: sent.providerMessageId,
        SmsSid: sent.providerMessageId,
        AccountSid: SANDBOX_TWILIO.accountSid,
        MessagingServiceSid: SANDBOX_TWILIO.messagingServiceSid,
        From: SANDBOX_TWILIO_SERVICE_NUMBER,
        To: to,
      });
      expect(params.SmsStatus).toBe(params.MessageStatus);
      // The URL Twilio signs is the full callback URL, query string included.
      expect(request.url).toBe(`${receiver.url}${callbackPath}?x=1`);
      expect(validateTwilioSignature(SANDBOX_TWILIO.authToken, signatureOf(request), request.url, params)).toBe(true);
      // Tampered parameters, another URL, another token or no header: all rejected.
      expect(
        validateTwilioSignature(SANDBOX_TWILIO.authToken, signatureOf(request), request.url, {
          ...params,
          MessageStatus: 'failed',
        }),
      ).toBe(false);
      expect(
        validateTwilioSignature(SANDBOX_TWILIO.authToken, signatureOf(request), `${receiver.url}/elsewhere`, params),
      ).toBe(false);
      expect(validateTwilioSignature('another-auth-token', signatureOf(request), request.url, params)).toBe(false);
      expect(validateTwilioSignature(SANDBOX_TWILIO.authToken, undefined, request.url, params)).toBe(false);
    }
    expect(paramsOf(callbacks[2]!).ErrorCode).toBeUndefined();

    const [record] = (await emulatorMessages()).filter((m) => m.sid === sent.providerMessageId);
    expect(record).toMatchObject({
      direction: 'outbound-api',
      status: 'delivered',
      from: SANDBOX_TWILIO_SERVICE_NUMBER,
      body: 'Hi Jo, thanks for asking about Maple Court!',
    });
    expect(record!.statusCallbacks.map((s) => [s.status, s.httpStatus])).toEqual([
      ['queued', 200],
      ['sent', 200],
      ['delivered', 200],
    ]);
  });

  test('an unreachable handset ends undelivered with ErrorCode 30003', async () => {
    const to = '+15125550404';
    const sent = await sms.send({ to, body: 'unreachable', statusCallbackUrl: `${receiver.url}/status/undelivered` });
    const callbacks = await receiver.waitFor('/status/undelivered', 3);
    expect(callbacks.map((r) => paramsOf(r).MessageStatus)).toEqual(['queued', 'sent', 'undelivered']);
    expect(paramsOf(callbacks[2]!)).toMatchObject({ MessageSid: sent.providerMessageId, ErrorCode: '30003' });
    expect(
      validateTwilioSignature(
        SANDBOX_TWILIO.authToken,
        signatureOf(callbacks[2]!),
        callbacks[2]!.url,
        paramsOf(callbacks[2]!),
      ),
    ).toBe(true);
  });

  test('findSent finds the message with exactly that recipient and body, sent since the given time, and no other', async () => {
    const a = freshNumber();
    const b = freshNumber();
    const since = new Date(Date.now() - 1000);
    const target = await sms.send({ to: a, body: 'Step 1: hello' });
    await sms.send({ to: a, body: 'Step 2: hello again' });
    await sms.send({ to: b, body: 'Step 1: hello' });
    // Wait until the carrier steps have passed (date_sent set), then look the message up through the list API.
    await expect
      .poll(async () => (await emulatorMessages()).filter((m) => m.to === a && m.status === 'delivered').length)
      .toBe(2);

    expect(await sms.findSent({ to: a, body: 'Step 1: hello', since })).toEqual({
      providerMessageId: target.providerMessageId,
      status: 'delivered',
    });
    expect(await sms.findSent({ to: a, body: 'Step 1: hello!', since })).toBeNull();
    expect(await sms.findSent({ to: b, body: 'Step 2: hello again', since })).toBeNull();
    expect(await sms.findSent({ to: freshNumber(), body: 'Step 1: hello', since })).toBeNull();
    // Sent before `since`: not this attempt's message.
    expect(await sms.findSent({ to: a, body: 'Step 1: hello', since: new Date(Date.now() + 5000) })).toBeNull();
  });

  test('findSent also finds a message still accepted (no date_sent yet), as right after a crash', async () => {
    await configure({ statusCallbackDelayMs: 10_000 });
    const to = freshNumber();
    const since = new Date(Date.now() - 1000);
    const sent = await sms.send({ to, body: 'Still in the queue' });
    // The DateSent filter cannot match a message that has not been sent yet.
    const filtered = await twilio(SANDBOX_TWILIO.accountSid, SANDBOX_TWILIO.authToken, {
      httpClient: createRebasedHttpClient(`${sandbox.url}/twilio`),
    }).messages.list({ to, dateSentAfter: since, limit: 20 });
    expect(filtered).toHaveLength(0);
    expect(await sms.findSent({ to, body: 'Still in the queue', since })).toEqual({
      providerMessageId: sent.providerMessageId,
      status: 'accepted',
    });
  });

  test('STOP opts the number out (the next send is rejected with 21610); START opts it back in', async () => {
    const lead = freshNumber();
    await configure({ inboundRequestUrl: `${receiver.url}/webhooks/twilio/sms` });
    receiver.respond(200, twimlEmptyResponse(), 'text/xml');
    await sms.send({ to: lead, body: 'Want a tour?' });

    const stop = await inbound(lead, ' stop ');
    expect(stop).toMatchObject({ webhookStatus: 200, optedOut: true });
    const error = await sms.send({ to: lead, body: 'Still there?' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SmsRejectedError);
    expect((error as SmsRejectedError).code).toBe(TWILIO_UNSUBSCRIBED_RECIPIENT);
    expect((error as SmsRejectedError).message).toMatch(/unsubscribed recipient/i);

    // "stop please" is not a keyword: only the whole message counts.
    expect(await inbound(lead, 'START')).toMatchObject({ optedOut: false });
    const again = await sms.send({ to: lead, body: 'Welcome back' });
    expect(again.providerMessageId).toMatch(/^SM/);
    expect(await inbound(lead, 'stop please')).toMatchObject({ optedOut: false });

    const webhooks = await receiver.waitFor('/webhooks/twilio/sms', 3);
    expect(webhooks.map((r) => [paramsOf(r).Body, paramsOf(r).OptOutType])).toEqual([
      [' stop ', 'STOP'],
      ['START', 'START'],
      ['stop please', undefined],
    ]);
    for (const request of webhooks) {
      const params = paramsOf(request);
      expect(params).toMatchObject({
        MessageSid: expect.stringMatching(/^SM[0-9a-f]{32}$/),
        AccountSid: SANDBOX_TWILIO.accountSid,
        MessagingServiceSid: SANDBOX_TWILIO.messagingServiceSid,
        From: lead,
        To: SANDBOX_TWILIO_SERVICE_NUMBER,
        NumMedia: '0',
        NumSegments: '1',
        SmsStatus: 'received',
        ApiVersion: '2010-04-01',
      });
      expect(validateTwilioSignature(SANDBOX_TWILIO.authToken, signatureOf(request), request.url, params)).toBe(true);
      expect(
        validateTwilioSignature(SANDBOX_TWILIO.authToken, signatureOf(request), request.url, {
          ...params,
          Body: 'START',
        }),
      ).toBe(params.Body === 'START');
    }
    // The emulator sends no confirmation of its own: the platform confirms once.
    const outbound = (await emulatorMessages()).filter((m) => m.to === lead);
    expect(outbound.map((m) => m.body)).toEqual(['Want a tour?', 'Welcome back']);
    const inboundRecords = (await emulatorMessages()).filter((m) => m.from === lead && m.direction === 'inbound');
    expect(inboundRecords.map((m) => m.webhook?.response)).toEqual([
      twimlEmptyResponse(),
      twimlEmptyResponse(),
      twimlEmptyResponse(),
    ]);
  });

  test('invalid and landline numbers are rejected for good with their Twilio codes', async () => {
    for (const [to, code] of [
      ['+1555', 21211],
      ['5125550123', 21211],
      ['+15125550614', 21614],
    ] as const) {
      const error = await sms.send({ to, body: 'hello' }).catch((e: unknown) => e);
      expect(error, to).toBeInstanceOf(SmsRejectedError);
      expect((error as SmsRejectedError).code, to).toBe(code);
    }
  });

  test('bad credentials, throttling and server errors are rethrown as they are (the activity retries them)', async () => {
    const badAuth = createTwilioSmsSender({ ...SANDBOX_TWILIO, authToken: 'wrong', apiUrl: `${sandbox.url}/twilio` });
    const authError = await badAuth.send({ to: freshNumber(), body: 'x' }).catch((e: unknown) => e);
    expect(authError).toBeInstanceOf(twilio.RestException);
    expect(authError).not.toBeInstanceOf(SmsRejectedError);
    expect(authError).toMatchObject({ status: 401, code: 20003 });
    await expect(badAuth.findSent({ to: freshNumber(), body: 'x', since: new Date() })).rejects.toMatchObject({
      status: 401,
    });

    for (const status of [429, 503] as const) {
      await configure({ failNextSends: 1, failStatus: status });
      const to = freshNumber();
      const error = await sms.send({ to, body: 'retry me' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(twilio.RestException);
      expect(error).not.toBeInstanceOf(SmsRejectedError);
      expect((error as { status: number }).status).toBe(status);
      // The retry goes through, and the refused attempt left no message behind.
      await sms.send({ to, body: 'retry me' });
      expect((await emulatorMessages()).filter((m) => m.to === to)).toHaveLength(1);
    }
  });

  test('a network failure is rethrown (not a rejection)', async () => {
    const unreachable = createTwilioSmsSender({ ...SANDBOX_TWILIO, apiUrl: 'http://127.0.0.1:9/twilio' });
    const error = await unreachable.send({ to: freshNumber(), body: 'x' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(SmsRejectedError);
  });
});

describe('helpers', () => {
  test('rebase moves Twilio URLs (any product or region) to the base and leaves others alone', () => {
    expect(rebase('https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json?To=%2B1', 'http://h:1/twilio/')).toBe(
      'http://h:1/twilio/2010-04-01/Accounts/AC1/Messages.json?To=%2B1',
    );
    expect(rebase('https://api.dublin.ie1.twilio.com/2010-04-01/x', 'http://h:1/twilio')).toBe(
      'http://h:1/twilio/2010-04-01/x',
    );
    expect(rebase('https://example.com/a', 'http://h:1/twilio')).toBe('https://example.com/a');
  });

  test('twimlEmptyResponse is TwiML with no message', () => {
    expect(twimlEmptyResponse()).toBe('<?xml version="1.0" encoding="UTF-8"?><Response/>');
  });
});
