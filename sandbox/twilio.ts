/**
 * Twilio Programmable Messaging emulator (the 2010-04-01 Messages resource with one Messaging Service): the same
 * paths, HTTP Basic auth, form bodies, JSON shapes, error codes and paging envelope as api.twilio.com for what
 * TourSpark uses, so the official `twilio` SDK runs unchanged against it. Behaviour that matters to the
 * platform is Twilio's too: status callbacks (queued → sent → delivered | undelivered) and inbound-message
 * webhooks signed with X-Twilio-Signature, and the Messaging Service's Advanced Opt-Out (STOP opts the sender
 * out, later sends fail with 21610; START opts back in).
 *
 * Conventions for tests: a To number ending in 0404 is unreachable (undelivered, 30003); one ending in 0614 is a
 * landline (21614). Control endpoints (not Twilio's API) start with `_`.
 */
import { Hono, type Context } from 'hono';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { SANDBOX_TWILIO } from '../config';

/** The Messaging Service's only sender number (its "Sender Pool"). */
export const SANDBOX_TWILIO_SERVICE_NUMBER = '+15125550199';
const API_VERSION = '2010-04-01';
const MAX_BODY = 1600;

/** Advanced Opt-Out's default keywords (whole message, case-insensitive). */
const OPT_OUT_KEYWORDS = new Set(['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'REVOKE', 'OPTOUT']);
const OPT_IN_KEYWORDS = new Set(['START', 'UNSTOP', 'YES']);
const HELP_KEYWORDS = new Set(['HELP', 'INFO']);

export interface StatusCallbackDelivery {
  status: string;
  at: string;
  /** The receiver's HTTP status; null when the request failed (error says why). */
  httpStatus: number | null;
  error: string | null;
}

export interface EmulatedSms {
  sid: string;
  direction: 'outbound-api' | 'inbound';
  to: string;
  /** Null until the Messaging Service picks the sender (status queued). */
  from: string | null;
  body: string;
  status: string;
  messagingServiceSid: string | null;
  statusCallback: string | null;
  numSegments: number;
  errorCode: number | null;
  errorMessage: string | null;
  dateCreated: Date;
  dateUpdated: Date;
  dateSent: Date | null;
  /** Status callbacks posted for this message, in order. */
  statusCallbacks: StatusCallbackDelivery[];
  /** Inbound only: what the inbound webhook answered. */
  webhook: { url: string; httpStatus: number | null; error: string | null; response: string | null } | null;
  seq: number;
}

export interface TwilioEmulatorOptions {
  accountSid?: string;
  authToken?: string;
  messagingServiceSid?: string;
  serviceNumber?: string;
  statusCallbackDelayMs?: number;
}

interface TwilioErrorBody {
  code: number;
  message: string;
  more_info: string;
  status: number;
}

function twilioError(c: Context, status: number, code: number, message: string) {
  const body: TwilioErrorBody = { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status };
  return c.json(body, status as 400);
}

/** Twilio's date format in resource JSON: RFC 2822 in GMT, whole seconds. */
export function rfc2822(date: Date): string {
  return date.toUTCString().replace('GMT', '+0000');
}

const GSM7 =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const GSM7_EXTENDED = '^{}\\[~]|€\f';

/** SMS segments as carriers count them: GSM-7 160/153 per part (extended chars count twice), UCS-2 70/67. */
export function countSegments(body: string): number {
  const chars = [...body];
  const gsm = chars.every((ch) => GSM7.includes(ch) || GSM7_EXTENDED.includes(ch));
  if (gsm) {
    const septets = chars.reduce((n, ch) => n + (GSM7_EXTENDED.includes(ch) ? 2 : 1), 0);
    return septets <= 160 ? 1 : Math.ceil(septets / 153);
  }
  const units = body.length; // UTF-16 code units, as UCS-2 counts them
  return units <= 70 ? 1 : Math.ceil(units / 67);
}

/**
 * X-Twilio-Signature as Twilio computes it: HMAC-SHA1 with the auth token over the full URL followed by every
 * POST parameter name and value, sorted by name; base64. Written out here (not the SDK's helper) so the
 * platform's SDK validation is checked against an independent implementation.
 */
export function twilioSignature(authToken: string, url: string, params: Record<string, string>): string {
  const data = Object.keys(params)
    .sort()
    .reduce((acc, key) => acc + key + params[key], url);
  return createHmac('sha1', authToken).update(Buffer.from(data, 'utf-8')).digest('base64');
}

/** E.164 as Twilio accepts it for SMS; NANP numbers need a valid area code and exchange. */
function isValidE164(number: string): boolean {
  if (!/^\+[1-9]\d{7,14}$/.test(number)) return false;
  if (number.startsWith('+1')) return /^\+1[2-9]\d{2}[2-9]\d{6}$/.test(number);
  return true;
}

/** Twilio's rule for StatusCallback: an http(s) URL whose hostname is valid (no underscores). */
function isValidCallbackUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && !url.hostname.includes('_') && !/\s/.test(value);
  } catch {
    return false;
  }
}

function newSid(prefix: string): string {
  return prefix + randomBytes(16).toString('hex');
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** `YYYY-MM-DD` or an ISO date-time, as DateSent filters take; `endOfDay` for a date-only upper bound. */
function parseDateFilter(value: string, endOfDay: boolean): number | null {
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) {
    const start = Date.parse(`${value}T00:00:00Z`);
    if (Number.isNaN(start)) return null;
    return endOfDay ? start + 86_400_000 - 1 : start;
  }
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : ms;
}

const configSchema = z.strictObject({
  inboundRequestUrl: z.url().nullable().optional(),
  statusCallbackDelayMs: z.number().int().min(0).max(60_000).optional(),
  /** Answer the next N Messages.json creates with this status (429 or 5xx), as an overloaded Twilio does. */
  failNextSends: z.number().int().min(0).optional(),
  failStatus: z.union([z.literal(429), z.literal(500), z.literal(503)]).optional(),
});

const inboundSchema = z.strictObject({
  from: z.string().min(1),
  body: z.string(),
  to: z.string().min(1).optional(),
});

export function createTwilioEmulator(options: TwilioEmulatorOptions = {}) {
  const accountSid = options.accountSid ?? SANDBOX_TWILIO.accountSid;
  const authToken = options.authToken ?? SANDBOX_TWILIO.authToken;
  const serviceSid = options.messagingServiceSid ?? SANDBOX_TWILIO.messagingServiceSid;
  const serviceNumber = options.serviceNumber ?? SANDBOX_TWILIO_SERVICE_NUMBER;
  const state = {
    messages: [] as EmulatedSms[],
    optedOut: new Set<string>(),
    inboundRequestUrl: null as string | null,
    statusCallbackDelayMs: options.statusCallbackDelayMs ?? 30,
    failNextSends: 0,
    failStatus: 500 as 429 | 500 | 503,
    seq: 0,
  };
  const accountPath = `/${API_VERSION}/Accounts/${accountSid}`;

  function resourceJson(m: EmulatedSms) {
    const uri = `${accountPath}/Messages/${m.sid}.json`;
    return {
      account_sid: accountSid,
      api_version: API_VERSION,
      body: m.body,
      date_created: rfc2822(m.dateCreated),
      date_sent: m.dateSent ? rfc2822(m.dateSent) : null,
      date_updated: rfc2822(m.dateUpdated),
      direction: m.direction,
      error_code: m.errorCode,
      error_message: m.errorMessage,
      from: m.from,
      messaging_service_sid: m.messagingServiceSid,
      num_media: '0',
      num_segments: String(m.numSegments),
      price: null,
      price_unit: 'USD',
      sid: m.sid,
      status: m.status,
      subresource_uris: {
        media: `${accountPath}/Messages/${m.sid}/Media.json`,
        feedback: `${accountPath}/Messages/${m.sid}/Feedback.json`,
      },
      tags: null,
      to: m.to,
      uri,
    };
  }

  /** Posts a form-encoded, Twilio-signed webhook; resolves with the receiver's status and body or the error. */
  async function postSigned(url: string, params: Record<string, string>) {
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-twilio-signature': twilioSignature(authToken, url, params),
          'user-agent': 'TwilioProxy/1.1',
          'i-twilio-idempotency-token': randomBytes(16).toString('hex'),
        },
        body: new URLSearchParams(params).toString(),
        signal: AbortSignal.timeout(15_000),
      });
      return { httpStatus: res.status, response: await res.text(), error: null };
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause;
      return {
        httpStatus: null,
        response: null,
        error: `${err instanceof Error ? err.message : String(err)}${cause?.code ? ` (${cause.code})` : ''}`,
      };
    }
  }

  function setStatus(m: EmulatedSms, status: string) {
    const now = new Date();
    m.status = status;
    m.dateUpdated = now;
    if (status === 'queued' && !m.from) m.from = serviceNumber;
    if (status === 'sent') m.dateSent = now;
    if (status === 'undelivered') {
      m.errorCode = 30003;
      m.errorMessage = 'Unreachable destination handset';
    }
  }

  async function postStatusCallback(m: EmulatedSms) {
    if (!m.statusCallback) return;
    const params: Record<string, string> = {
      AccountSid: accountSid,
      ApiVersion: API_VERSION,
      From: m.from ?? serviceNumber,
      MessageSid: m.sid,
      MessageStatus: m.status,
      SmsSid: m.sid,
      SmsStatus: m.status,
      To: m.to,
    };
    if (m.messagingServiceSid) params.MessagingServiceSid = m.messagingServiceSid;
    if (m.errorCode !== null) params.ErrorCode = String(m.errorCode);
    if (m.status === 'delivered') params.RawDlrDoneDate = dlrDate(new Date());
    const result = await postSigned(m.statusCallback, params);
    m.statusCallbacks.push({
      status: m.status,
      at: new Date().toISOString(),
      httpStatus: result.httpStatus,
      error: result.error,
    });
  }

  /** The carrier's progress after acceptance, one step per delay, each step's callback posted before the next. */
  function progress(m: EmulatedSms) {
    const final = m.to.endsWith('0404') ? 'undelivered' : 'delivered';
    const steps = ['queued', 'sent', final];
    const next = (i: number) => {
      const timer = setTimeout(() => {
        const status = steps[i]!;
        setStatus(m, status);
        void postStatusCallback(m).then(() => {
          if (i + 1 < steps.length) next(i + 1);
        });
      }, state.statusCallbackDelayMs);
      // Pending carrier steps never keep a process (or a test run) alive.
      timer.unref();
    };
    next(0);
  }

  function authorized(c: Context): 'ok' | 'unauthenticated' | 'wrong-account' {
    const header = c.req.header('authorization') ?? '';
    const match = /^Basic\s+(\S+)$/i.exec(header);
    if (!match) return 'unauthenticated';
    const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const user = decoded.slice(0, colon);
    const password = decoded.slice(colon + 1);
    if (colon < 0 || !safeEqual(user, accountSid) || !safeEqual(password, authToken)) return 'unauthenticated';
    return c.req.param('accountSid') === accountSid ? 'ok' : 'wrong-account';
  }

  function authFailure(c: Context, result: 'unauthenticated' | 'wrong-account') {
    if (result === 'unauthenticated') {
      c.header('WWW-Authenticate', 'Basic realm="Twilio API"');
      return twilioError(c, 401, 20003, 'Authenticate');
    }
    return twilioError(c, 404, 20404, `The requested resource ${c.req.path} was not found`);
  }

  async function formOf(c: Context): Promise<Record<string, string>> {
    const text = await c.req.text();
    const params: Record<string, string> = {};
    for (const [key, value] of new URLSearchParams(text)) params[key] = value;
    return params;
  }

  function listPage(c: Context) {
    const url = new URL(c.req.url);
    const q = url.searchParams;
    const pageSize = Number(q.get('PageSize') ?? 50);
    const page = Number(q.get('Page') ?? 0);
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000) {
      return twilioError(c, 400, 20001, 'PageSize must be between 1 and 1000');
    }
    if (!Number.isInteger(page) || page < 0) return twilioError(c, 400, 20001, 'Page must be a non-negative integer');
    const filters: ((m: EmulatedSms) => boolean)[] = [];
    const to = q.get('To');
    const from = q.get('From');
    if (to) filters.push((m) => m.to === to);
    if (from) filters.push((m) => m.from === from);
    // An unencoded `DateSent>=x` arrives as the parameter "DateSent>" with value "x": both spellings mean "on or after".
    const bounds: [string, 'after' | 'before' | 'on'][] = [
      ['DateSent>', 'after'],
      ['DateSent>=', 'after'],
      ['DateSent<', 'before'],
      ['DateSent<=', 'before'],
      ['DateSent', 'on'],
    ];
    for (const [name, kind] of bounds) {
      const raw = q.get(name);
      if (raw === null) continue;
      // A date-only upper bound includes that whole day ("on or before"); a date-time is the instant itself.
      const bound = parseDateFilter(raw, kind === 'before');
      if (bound === null) return twilioError(c, 400, 20001, `Invalid ${name} value: ${raw}`);
      // Twilio keeps date_sent to the second: compare at that precision. Unsent messages have no date_sent.
      const sentSecond = (m: EmulatedSms) => (m.dateSent ? Math.floor(m.dateSent.getTime() / 1000) * 1000 : null);
      if (kind === 'after') filters.push((m) => (sentSecond(m) ?? -Infinity) >= bound);
      if (kind === 'before') filters.push((m) => (sentSecond(m) ?? Infinity) <= bound);
      if (kind === 'on') {
        const dayStart = parseDateFilter(raw.slice(0, 10), false)!;
        filters.push((m) => {
          const s = sentSecond(m);
          return s !== null && s >= dayStart && s < dayStart + 86_400_000;
        });
      }
    }
    const matching = state.messages
      .filter((m) => filters.every((f) => f(m)))
      .sort((a, b) => b.dateCreated.getTime() - a.dateCreated.getTime() || b.seq - a.seq);
    const start = page * pageSize;
    const items = matching.slice(start, start + pageSize);
    const pageUri = (p: number) => {
      const params = new URLSearchParams();
      for (const [key, value] of q) if (key !== 'Page' && key !== 'PageToken') params.append(key, value);
      params.set('PageSize', String(pageSize));
      params.set('Page', String(p));
      if (p > 0) {
        const last = matching[p * pageSize - 1];
        if (last) params.set('PageToken', `PA${last.sid}`);
      }
      return `${accountPath}/Messages.json?${params.toString()}`;
    };
    return c.json({
      end: start + Math.max(items.length - 1, 0),
      first_page_uri: pageUri(0),
      messages: items.map(resourceJson),
      next_page_uri: start + pageSize < matching.length ? pageUri(page + 1) : null,
      page,
      page_size: pageSize,
      previous_page_uri: page > 0 ? pageUri(page - 1) : null,
      start,
      uri: pageUri(page),
    });
  }

  return new Hono()
    .post(`/${API_VERSION}/Accounts/:accountSid/Messages.json`, async (c) => {
      const auth = authorized(c);
      if (auth !== 'ok') return authFailure(c, auth);
      if (state.failNextSends > 0) {
        state.failNextSends -= 1;
        return state.failStatus === 429
          ? twilioError(c, 429, 20429, 'Too Many Requests')
          : twilioError(c, state.failStatus, 20500, 'Internal Server Error');
      }
      const form = await formOf(c);
      const to = form.To?.trim() ?? '';
      const body = form.Body ?? '';
      if (!to) return twilioError(c, 400, 21604, "A 'To' phone number is required.");
      if (!form.From && !form.MessagingServiceSid)
        return twilioError(c, 400, 21603, "A 'From' phone number is required.");
      if (form.MessagingServiceSid && form.MessagingServiceSid !== serviceSid) {
        return twilioError(c, 400, 21701, `The Messaging Service Sid ${form.MessagingServiceSid} is invalid.`);
      }
      if (form.From && !form.MessagingServiceSid && form.From !== serviceNumber) {
        return twilioError(
          c,
          400,
          21606,
          `The From phone number ${form.From} is not a valid, SMS-capable inbound phone number or short code for your account.`,
        );
      }
      if (body === '' && !form.MediaUrl) return twilioError(c, 400, 21602, 'Message body is required.');
      if (body.length > MAX_BODY) {
        return twilioError(c, 400, 21617, 'The concatenated message body exceeds the 1600 character limit.');
      }
      if (!isValidE164(to)) return twilioError(c, 400, 21211, `Invalid 'To' Phone Number: ${to}`);
      if (to.endsWith('0614')) return twilioError(c, 400, 21614, `'To' number ${to} is not a valid mobile number`);
      if (state.optedOut.has(to)) return twilioError(c, 400, 21610, 'Attempt to send to unsubscribed recipient');
      if (form.StatusCallback !== undefined && !isValidCallbackUrl(form.StatusCallback)) {
        return twilioError(c, 400, 21609, `Invalid StatusCallback url: ${form.StatusCallback}`);
      }

      const now = new Date();
      const viaService = Boolean(form.MessagingServiceSid);
      const message: EmulatedSms = {
        sid: newSid('SM'),
        direction: 'outbound-api',
        to,
        from: viaService ? null : serviceNumber,
        body,
        // A Messaging Service accepts first and picks the sender later; a direct From send is queued at once.
        status: viaService ? 'accepted' : 'queued',
        messagingServiceSid: viaService ? serviceSid : null,
        statusCallback: form.StatusCallback || null,
        numSegments: countSegments(body),
        errorCode: null,
        errorMessage: null,
        dateCreated: now,
        dateUpdated: now,
        dateSent: null,
        statusCallbacks: [],
        webhook: null,
        seq: ++state.seq,
      };
      state.messages.push(message);
      progress(message);
      return c.json(resourceJson(message), 201);
    })
    .get(`/${API_VERSION}/Accounts/:accountSid/Messages.json`, (c) => {
      const auth = authorized(c);
      if (auth !== 'ok') return authFailure(c, auth);
      return listPage(c);
    })
    .get(`/${API_VERSION}/Accounts/:accountSid/Messages/:file`, (c) => {
      const auth = authorized(c);
      if (auth !== 'ok') return authFailure(c, auth);
      const sid = c.req.param('file').replace(/\.json$/, '');
      const message = state.messages.find((m) => m.sid === sid);
      if (!message || !c.req.param('file').endsWith('.json')) {
        return twilioError(c, 404, 20404, `The requested resource ${c.req.path} was not found`);
      }
      return c.json(resourceJson(message));
    })
    .put('/_config', async (c) => {
      const parsed = configSchema.safeParse(await c.req.json().catch(() => null));
      if (!parsed.success) return c.json({ error: 'invalid config', issues: parsed.error.issues }, 400);
      const config = parsed.data;
      if (config.inboundRequestUrl !== undefined) state.inboundRequestUrl = config.inboundRequestUrl;
      if (config.statusCallbackDelayMs !== undefined) state.statusCallbackDelayMs = config.statusCallbackDelayMs;
      if (config.failNextSends !== undefined) state.failNextSends = config.failNextSends;
      if (config.failStatus !== undefined) state.failStatus = config.failStatus;
      return c.json({
        accountSid,
        messagingServiceSid: serviceSid,
        serviceNumber,
        inboundRequestUrl: state.inboundRequestUrl,
        statusCallbackDelayMs: state.statusCallbackDelayMs,
        failNextSends: state.failNextSends,
        failStatus: state.failStatus,
      });
    })
    .post('/_inbound', async (c) => {
      const parsed = inboundSchema.safeParse(await c.req.json().catch(() => null));
      if (!parsed.success) return c.json({ error: 'invalid inbound message', issues: parsed.error.issues }, 400);
      const { from, body } = parsed.data;
      const to = parsed.data.to ?? serviceNumber;
      if (!isValidE164(from)) return c.json({ error: `from must be an E.164 number, got ${from}` }, 400);
      const now = new Date();
      const message: EmulatedSms = {
        sid: newSid('SM'),
        direction: 'inbound',
        to,
        from,
        body,
        status: 'received',
        messagingServiceSid: serviceSid,
        statusCallback: null,
        numSegments: countSegments(body),
        errorCode: null,
        errorMessage: null,
        dateCreated: now,
        dateUpdated: now,
        dateSent: now,
        statusCallbacks: [],
        webhook: null,
        seq: ++state.seq,
      };
      state.messages.push(message);
      // Advanced Opt-Out acts before the webhook, as Twilio's does: the platform learns of it from the message.
      const keyword = body.trim().toUpperCase();
      let optOutType: string | null = null;
      if (OPT_OUT_KEYWORDS.has(keyword)) {
        state.optedOut.add(from);
        optOutType = 'STOP';
      } else if (OPT_IN_KEYWORDS.has(keyword)) {
        state.optedOut.delete(from);
        optOutType = 'START';
      } else if (HELP_KEYWORDS.has(keyword)) {
        optOutType = 'HELP';
      }
      if (!state.inboundRequestUrl) {
        return c.json({ messageSid: message.sid, webhookStatus: null, optedOut: state.optedOut.has(from) });
      }
      const params: Record<string, string> = {
        ToCountry: 'US',
        ToState: 'TX',
        SmsMessageSid: message.sid,
        NumMedia: '0',
        ToCity: 'AUSTIN',
        FromZip: '',
        SmsSid: message.sid,
        FromState: '',
        SmsStatus: 'received',
        FromCity: '',
        Body: body,
        FromCountry: 'US',
        To: to,
        MessagingServiceSid: serviceSid,
        ToZip: '',
        NumSegments: String(message.numSegments),
        MessageSid: message.sid,
        AccountSid: accountSid,
        From: from,
        ApiVersion: API_VERSION,
        ...(optOutType ? { OptOutType: optOutType } : {}),
      };
      const result = await postSigned(state.inboundRequestUrl, params);
      message.webhook = { url: state.inboundRequestUrl, ...result };
      return c.json({
        messageSid: message.sid,
        webhookStatus: result.httpStatus,
        webhookError: result.error,
        optedOut: state.optedOut.has(from),
      });
    })
    .get('/_messages', (c) => c.json({ messages: state.messages.map(sandboxRecord) }))
    .delete('/_messages', (c) => {
      state.messages.length = 0;
      return c.body(null, 204);
    })
    .get('/_opt_outs', (c) => c.json({ optedOut: [...state.optedOut].sort() }))
    .delete('/_opt_outs', (c) => {
      state.optedOut.clear();
      return c.body(null, 204);
    });
}

/** What `GET /twilio/_messages` lists: both directions, with the callbacks and webhooks each one caused. */
export interface SandboxSmsRecord {
  sid: string;
  direction: 'outbound-api' | 'inbound';
  to: string;
  from: string | null;
  body: string;
  status: string;
  errorCode: number | null;
  numSegments: number;
  statusCallback: string | null;
  dateCreated: string;
  dateSent: string | null;
  statusCallbacks: StatusCallbackDelivery[];
  webhook: EmulatedSms['webhook'];
}

function sandboxRecord(m: EmulatedSms): SandboxSmsRecord {
  return {
    sid: m.sid,
    direction: m.direction,
    to: m.to,
    from: m.from,
    body: m.body,
    status: m.status,
    errorCode: m.errorCode,
    numSegments: m.numSegments,
    statusCallback: m.statusCallback,
    dateCreated: m.dateCreated.toISOString(),
    dateSent: m.dateSent?.toISOString() ?? null,
    statusCallbacks: [...m.statusCallbacks],
    webhook: m.webhook,
  };
}

/** Twilio's RawDlrDoneDate: the carrier's delivery-receipt time as YYMMDDhhmm. */
function dlrDate(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(date.getUTCFullYear() % 100)}${pad(date.getUTCMonth() + 1)}${pad(date.getUTCDate())}${pad(date.getUTCHours())}${pad(date.getUTCMinutes())}`;
}
