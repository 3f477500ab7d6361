/**
 * The Twilio emulator at the HTTP level: what api.twilio.com answers (shapes, codes, paging, filters) and what
 * it posts, checked without the SDK so the emulator's contract is pinned down on its own.
 */
import twilio from 'twilio';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { SANDBOX_TWILIO } from '../config';
import { startCaptureServer, type CaptureServer } from './capture-server';
import { startSandbox, type RunningSandbox } from './server';
import {
  countSegments,
  rfc2822,
  SANDBOX_TWILIO_SERVICE_NUMBER,
  twilioSignature,
  type SandboxSmsRecord,
} from './twilio';

let sandbox: RunningSandbox;
let receiver: CaptureServer;
let api: string;

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const AUTH = basic(SANDBOX_TWILIO.accountSid, SANDBOX_TWILIO.authToken);
const RFC2822 =
  /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} \+0000$/;

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0 });
  receiver = await startCaptureServer();
  api = `${sandbox.url}/twilio/2010-04-01/Accounts/${SANDBOX_TWILIO.accountSid}`;
});

afterAll(async () => {
  await receiver?.close();
  await sandbox?.close();
});

beforeEach(async () => {
  await control('PUT', '/_config', { statusCallbackDelayMs: 10, inboundRequestUrl: null });
  await control('DELETE', '/_messages');
  await control('DELETE', '/_opt_outs');
  receiver.respond(200);
});

async function control(method: string, path: string, body?: unknown) {
  const res = await fetch(`${sandbox.url}/twilio${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: res.status === 204 ? null : ((await res.json()) as Record<string, unknown>) };
}

async function create(params: Record<string, string>, auth = AUTH, url = `${api}/Messages.json`) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(params).toString(),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
}

async function get(pathAndQuery: string, auth = AUTH) {
  const res = await fetch(`${sandbox.url}/twilio${pathAndQuery}`, { headers: { authorization: auth } });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

const records = async () => (await control('GET', '/_messages')).body!.messages as SandboxSmsRecord[];

describe('Messages API', () => {
  test('HTTP Basic auth as Twilio checks it: 401 20003 without valid credentials, 404 for another account', async () => {
    const params = { To: '+15125550111', Body: 'x', MessagingServiceSid: SANDBOX_TWILIO.messagingServiceSid };
    for (const auth of [
      '',
      basic(SANDBOX_TWILIO.accountSid, 'wrong'),
      basic('ACffffffffffffffffffffffffffffffff', SANDBOX_TWILIO.authToken),
    ]) {
      const res = await create(params, auth);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Basic realm="Twilio API"');
      expect(res.body).toEqual({
        code: 20003,
        message: 'Authenticate',
        more_info: 'https://www.twilio.com/docs/errors/20003',
        status: 401,
      });
    }
    const other = await create(
      params,
      AUTH,
      `${sandbox.url}/twilio/2010-04-01/Accounts/AC0000000000000000000000000000ffff/Messages.json`,
    );
    expect(other.status).toBe(404);
    expect(other.body).toMatchObject({ code: 20404, status: 404 });
    expect((await get('/2010-04-01/Accounts/' + SANDBOX_TWILIO.accountSid + '/Messages.json', '')).status).toBe(401);
    expect(await records()).toHaveLength(0);
  });

  test('validation errors carry Twilio codes, messages and the error body shape', async () => {
    const service = SANDBOX_TWILIO.messagingServiceSid;
    const cases: [Record<string, string>, number][] = [
      [{ Body: 'x', MessagingServiceSid: service }, 21604],
      [{ To: '+15125550111', Body: 'x' }, 21603],
      [{ To: '+15125550111', MessagingServiceSid: service }, 21602],
      [{ To: '+15125550111', Body: '', MessagingServiceSid: service }, 21602],
      [{ To: '+1512555011', Body: 'x', MessagingServiceSid: service }, 21211],
      [{ To: '+15121550111', Body: 'x', MessagingServiceSid: service }, 21211],
      [{ To: 'not a number', Body: 'x', MessagingServiceSid: service }, 21211],
      [{ To: '+15125550614', Body: 'x', MessagingServiceSid: service }, 21614],
      [{ To: '+15125550111', Body: 'x', MessagingServiceSid: 'MG0000000000000000000000000000ffff' }, 21701],
      [{ To: '+15125550111', Body: 'x', From: '+15125550100' }, 21606],
      [{ To: '+15125550111', Body: 'x'.repeat(1601), MessagingServiceSid: service }, 21617],
      [{ To: '+15125550111', Body: 'x', MessagingServiceSid: service, StatusCallback: 'ftp://nope' }, 21609],
      [
        { To: '+15125550111', Body: 'x', MessagingServiceSid: service, StatusCallback: 'http://bad_host.test/x' },
        21609,
      ],
    ];
    for (const [params, code] of cases) {
      const res = await create(params);
      expect(res.status, String(code)).toBe(400);
      expect(res.body, String(code)).toEqual({
        code,
        message: expect.any(String),
        more_info: `https://www.twilio.com/docs/errors/${code}`,
        status: 400,
      });
    }
    expect(await records()).toHaveLength(0);
  });

  test('creates a message resource shaped like Twilio’s (accepted through a service, queued with a From)', async () => {
    const viaService = await create({
      To: '+15125550111',
      Body: 'Hello from Maple Court',
      MessagingServiceSid: SANDBOX_TWILIO.messagingServiceSid,
    });
    expect(viaService.status).toBe(201);
    const sid = viaService.body.sid as string;
    expect(sid).toMatch(/^SM[0-9a-f]{32}$/);
    expect(viaService.body).toEqual({
      account_sid: SANDBOX_TWILIO.accountSid,
      api_version: '2010-04-01',
      body: 'Hello from Maple Court',
      date_created: expect.stringMatching(RFC2822),
      date_sent: null,
      date_updated: expect.stringMatching(RFC2822),
      direction: 'outbound-api',
      error_code: null,
      error_message: null,
      from: null,
      messaging_service_sid: SANDBOX_TWILIO.messagingServiceSid,
      num_media: '0',
      num_segments: '1',
      price: null,
      price_unit: 'USD',
      sid,
      status: 'accepted',
      subresource_uris: {
        media: `/2010-04-01/Accounts/${SANDBOX_TWILIO.accountSid}/Messages/${sid}/Media.json`,
        feedback: `/2010-04-01/Accounts/${SANDBOX_TWILIO.accountSid}/Messages/${sid}/Feedback.json`,
      },
      tags: null,
      to: '+15125550111',
      uri: `/2010-04-01/Accounts/${SANDBOX_TWILIO.accountSid}/Messages/${sid}.json`,
    });

    const direct = await create({ To: '+15125550112', Body: 'é'.repeat(161), From: SANDBOX_TWILIO_SERVICE_NUMBER });
    expect(direct.status).toBe(201);
    expect(direct.body).toMatchObject({
      status: 'queued',
      from: SANDBOX_TWILIO_SERVICE_NUMBER,
      messaging_service_sid: null,
      num_segments: '2',
    });

    // Once the carrier steps ran, the resource shows the sender, date_sent and the final status.
    await expect
      .poll(
        async () => (await get(`/2010-04-01/Accounts/${SANDBOX_TWILIO.accountSid}/Messages/${sid}.json`)).body.status,
      )
      .toBe('delivered');
    const fetched = await get(`/2010-04-01/Accounts/${SANDBOX_TWILIO.accountSid}/Messages/${sid}.json`);
    expect(fetched.body).toMatchObject({
      sid,
      from: SANDBOX_TWILIO_SERVICE_NUMBER,
      date_sent: expect.stringMatching(RFC2822),
    });
    const missing = await get(`/2010-04-01/Accounts/${SANDBOX_TWILIO.accountSid}/Messages/SM${'0'.repeat(32)}.json`);
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ code: 20404, status: 404 });
  });

  test('lists newest first in Twilio’s paging envelope, filtered by To, From and DateSent', async () => {
    const service = SANDBOX_TWILIO.messagingServiceSid;
    const sids: string[] = [];
    for (const body of ['one', 'two', 'three']) {
      sids.push((await create({ To: '+15125550121', Body: body, MessagingServiceSid: service })).body.sid as string);
    }
    await create({ To: '+15125550122', Body: 'other', MessagingServiceSid: service });
    await expect.poll(async () => (await records()).every((m) => m.status === 'delivered')).toBe(true);

    const listPath = `/2010-04-01/Accounts/${SANDBOX_TWILIO.accountSid}/Messages.json`;
    const first = await get(`${listPath}?To=%2B15125550121&PageSize=2`);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ page: 0, page_size: 2, start: 0, end: 1, previous_page_uri: null });
    expect(first.body.messages.map((m: { sid: string }) => m.sid)).toEqual([sids[2], sids[1]]);
    expect(first.body.uri).toMatch(new RegExp(`^${listPath.replaceAll('.', '\\.')}\\?`));
    expect(first.body.next_page_uri).toContain('Page=1');
    const second = await get(first.body.next_page_uri);
    expect(second.body.messages.map((m: { sid: string }) => m.sid)).toEqual([sids[0]]);
    expect(second.body).toMatchObject({ page: 1, next_page_uri: null, start: 2, end: 2 });
    expect(second.body.previous_page_uri).toContain('Page=0');

    const fromService = await get(`${listPath}?From=${encodeURIComponent(SANDBOX_TWILIO_SERVICE_NUMBER)}`);
    expect(fromService.body.messages).toHaveLength(4);

    // Unencoded `DateSent>=x` reaches a server as the parameter "DateSent>" (the SDK's dateSentAfter); encoded
    // `DateSent%3E%3D` as "DateSent>=". Both mean "on or after", to the second.
    const earlier = new Date(Date.now() - 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const later = new Date(Date.now() + 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const count = async (query: string) => (await get(`${listPath}?To=%2B15125550121&${query}`)).body.messages.length;
    expect(await count(`DateSent>=${earlier}`)).toBe(3);
    expect(await count(`DateSent%3E=${earlier}`)).toBe(3);
    expect(await count(`DateSent%3E%3D=${earlier}`)).toBe(3);
    expect(await count(`DateSent>=${later}`)).toBe(0);
    expect(await count(`DateSent<=${earlier}`)).toBe(0);
    expect(await count(`DateSent<=${later}`)).toBe(3);
    const today = new Date().toISOString().slice(0, 10);
    expect(await count(`DateSent=${today}`)).toBe(3);
    expect(await count(`DateSent<=${today}`)).toBe(3);
    expect((await get(`${listPath}?DateSent>=yesterday`)).status).toBe(400);
    expect((await get(`${listPath}?PageSize=0`)).status).toBe(400);
  });

  test('a send to a number that texted STOP fails with 21610 until it texts START', async () => {
    const lead = '+15125550131';
    const params = { To: lead, Body: 'hi', MessagingServiceSid: SANDBOX_TWILIO.messagingServiceSid };
    for (const keyword of ['STOP', 'stopall', 'Unsubscribe', 'cancel', 'END', 'quit']) {
      await control('POST', '/_inbound', { from: lead, body: keyword });
      expect((await create(params)).body, keyword).toMatchObject({ code: 21610, status: 400 });
      expect((await control('GET', '/_opt_outs')).body).toEqual({ optedOut: [lead] });
      const optIn = keyword === 'END' ? 'unstop' : keyword === 'quit' ? 'YES' : 'START';
      await control('POST', '/_inbound', { from: lead, body: optIn });
      expect((await create(params)).status, optIn).toBe(201);
    }
    await control('POST', '/_inbound', { from: lead, body: 'please stop texting me' });
    expect((await create(params)).status).toBe(201);
  });
});

describe('webhooks the emulator posts', () => {
  test('status callbacks carry Twilio’s parameters, signed as Twilio signs; failures are recorded', async () => {
    const url = `${receiver.url}/status?lead_id=1`;
    const ok = await create({
      To: '+15125550141',
      Body: 'hi',
      MessagingServiceSid: SANDBOX_TWILIO.messagingServiceSid,
      StatusCallback: url,
    });
    const callbacks = await receiver.waitFor('/status', 3);
    for (const request of callbacks) {
      const params = Object.fromEntries(new URLSearchParams(request.body));
      expect(Object.keys(params).sort()).toEqual(
        [
          'AccountSid',
          'ApiVersion',
          'From',
          'MessageSid',
          'MessageStatus',
          'MessagingServiceSid',
          'SmsSid',
          'SmsStatus',
          'To',
          ...(params.MessageStatus === 'delivered' ? ['RawDlrDoneDate'] : []),
        ].sort(),
      );
      expect(params.MessageSid).toBe(ok.body.sid);
      // The emulator's own signature code agrees with the official SDK's, byte for byte.
      expect(request.headers['x-twilio-signature']).toBe(
        twilio.getExpectedTwilioSignature(SANDBOX_TWILIO.authToken, url, params),
      );
      expect(request.headers['x-twilio-signature']).toBe(twilioSignature(SANDBOX_TWILIO.authToken, url, params));
    }

    receiver.respond(500);
    const failing = await create({
      To: '+15125550142',
      Body: 'hi',
      MessagingServiceSid: SANDBOX_TWILIO.messagingServiceSid,
      StatusCallback: `${receiver.url}/failing`,
    });
    await receiver.waitFor('/failing', 3);
    const unreachable = await create({
      To: '+15125550143',
      Body: 'hi',
      MessagingServiceSid: SANDBOX_TWILIO.messagingServiceSid,
      StatusCallback: 'http://127.0.0.1:9/down',
    });
    await expect
      .poll(async () => (await records()).find((m) => m.sid === unreachable.body.sid)?.statusCallbacks.length)
      .toBe(3);
    const all = await records();
    const failed = all.find((m) => m.sid === failing.body.sid)!;
    expect(failed.status).toBe('delivered');
    expect(failed.statusCallbacks.map((s) => s.httpStatus)).toEqual([500, 500, 500]);
    const down = all.find((m) => m.sid === unreachable.body.sid)!;
    expect(down.statusCallbacks.every((s) => s.httpStatus === null && s.error)).toBe(true);
  });

  test('inbound messages are recorded and posted to the configured URL, signed; without a URL nothing is posted', async () => {
    const without = await control('POST', '/_inbound', { from: '+15125550151', body: 'hello?' });
    expect(without.body).toMatchObject({ messageSid: expect.stringMatching(/^SM[0-9a-f]{32}$/), webhookStatus: null });

    const url = `${receiver.url}/inbound`;
    await control('PUT', '/_config', { inboundRequestUrl: url });
    receiver.respond(200, '<?xml version="1.0" encoding="UTF-8"?><Response/>', 'text/xml');
    const posted = await control('POST', '/_inbound', { from: '+15125550151', body: 'Can I tour Saturday? 🙂' });
    expect(posted.body).toMatchObject({ webhookStatus: 200 });
    const [request] = await receiver.waitFor('/inbound', 1);
    const params = Object.fromEntries(new URLSearchParams(request!.body));
    expect(params).toMatchObject({
      MessageSid: posted.body!.messageSid,
      SmsSid: posted.body!.messageSid,
      SmsMessageSid: posted.body!.messageSid,
      AccountSid: SANDBOX_TWILIO.accountSid,
      MessagingServiceSid: SANDBOX_TWILIO.messagingServiceSid,
      From: '+15125550151',
      To: SANDBOX_TWILIO_SERVICE_NUMBER,
      Body: 'Can I tour Saturday? 🙂',
      NumMedia: '0',
      NumSegments: '1',
      SmsStatus: 'received',
      ApiVersion: '2010-04-01',
    });
    expect(params.OptOutType).toBeUndefined();
    expect(twilio.validateRequest(SANDBOX_TWILIO.authToken, request!.headers['x-twilio-signature']!, url, params)).toBe(
      true,
    );

    const listed = await records();
    expect(listed.map((m) => [m.direction, m.from, m.to, m.status])).toEqual([
      ['inbound', '+15125550151', SANDBOX_TWILIO_SERVICE_NUMBER, 'received'],
      ['inbound', '+15125550151', SANDBOX_TWILIO_SERVICE_NUMBER, 'received'],
    ]);
    expect(listed[1]!.webhook).toMatchObject({ url, httpStatus: 200 });

    expect((await control('POST', '/_inbound', { from: 'nope', body: 'x' })).status).toBe(400);
    expect((await control('POST', '/_inbound', { body: 'x' })).status).toBe(400);
    expect((await control('PUT', '/_config', { inboundRequestUrl: 'not a url' })).status).toBe(400);
    expect((await control('PUT', '/_config', { unknown: 1 })).status).toBe(400);
    expect((await control('DELETE', '/_messages')).status).toBe(204);
    expect(await records()).toEqual([]);
  });
});

describe('helpers', () => {
  test('segments count like carriers: GSM-7 160/153 (extended chars double), UCS-2 70/67', () => {
    expect(countSegments('a'.repeat(160))).toBe(1);
    expect(countSegments('a'.repeat(161))).toBe(2);
    expect(countSegments('a'.repeat(306))).toBe(2);
    expect(countSegments('a'.repeat(307))).toBe(3);
    expect(countSegments('{'.repeat(80))).toBe(1);
    expect(countSegments('{'.repeat(81))).toBe(2);
    expect(countSegments('🙂'.repeat(35))).toBe(1);
    expect(countSegments('ü'.repeat(160))).toBe(1);
    expect(countSegments('ł'.repeat(71))).toBe(2);
  });

  test('RFC 2822 dates as Twilio writes them', () => {
    expect(rfc2822(new Date('2026-03-05T07:08:09.500Z'))).toBe('Thu, 05 Mar 2026 07:08:09 +0000');
  });
});
