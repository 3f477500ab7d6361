/**
 * SMS over Twilio's official SDK (Programmable Messaging through a Messaging Service). With no TWILIO_*
 * credentials config.ts points `apiUrl` at the sandbox's Twilio emulator and the same SDK code path runs.
 */
import twilio from 'twilio';
import type RequestClient from 'twilio/lib/base/RequestClient';
import { SmsRejectedError, type SentSms, type SmsSender } from './sms';

export interface TwilioSmsSenderOptions {
  accountSid: string;
  authToken: string;
  /** MG...: the Messaging Service picks the sender number and applies Advanced Opt-Out. */
  messagingServiceSid: string;
  /** `https://api.twilio.com` for the real API; the emulator's base (`<sandbox>/twilio`) otherwise. */
  apiUrl: string;
  /** Per request; the SDK's default is 30 s. */
  timeoutMs?: number;
}

export const TWILIO_API_URL = 'https://api.twilio.com';

/**
 * Twilio's SDK has no base-URL option: every request goes to `https://<product>.twilio.com/...`. This client
 * rewrites that origin to another base (the emulator), so the SDK's own request building, auth, paging and
 * error handling all run unchanged.
 */
class BaseUrlRequestClient extends twilio.RequestClient {
  constructor(
    private readonly base: string,
    timeoutMs: number | undefined,
  ) {
    super(timeoutMs ? { timeout: timeoutMs } : {});
  }

  override request<TData>(opts: RequestClient.RequestOptions<TData>) {
    return super.request<TData>({ ...opts, uri: rebase(opts.uri, this.base) });
  }
}

/** An SDK http client sending to `base` instead of Twilio's hosts (the emulator). */
export function createRebasedHttpClient(base: string, timeoutMs?: number): RequestClient {
  return new BaseUrlRequestClient(base.replace(/\/$/, ''), timeoutMs);
}

/** `https://api.twilio.com/2010-04-01/...` (or a regional host) → `<base>/2010-04-01/...`. */
export function rebase(uri: string, base: string): string {
  const url = new URL(uri);
  if (!/(^|\.)twilio\.com$/.test(url.hostname)) return uri;
  return `${base.replace(/\/$/, '')}${url.pathname}${url.search}`;
}

/** How many of the most recent messages to one number findSent looks through. */
const FIND_SENT_LIMIT = 50;

/**
 * HTTP statuses where Twilio rejected this message for good (bad or unsubscribed number, empty body, ...).
 * 401/403/404 are our configuration (credentials, account, service) and 429/5xx are transient: those are
 * rethrown unchanged so the activity retries instead of recording every message as rejected.
 */
function isPermanentRejection(status: number): boolean {
  return status >= 400 && status < 500 && status !== 401 && status !== 403 && status !== 404 && status !== 429;
}

export function createTwilioSmsSender(options: TwilioSmsSenderOptions): SmsSender {
  const apiUrl = options.apiUrl.replace(/\/$/, '');
  const client = twilio(options.accountSid, options.authToken, {
    ...(apiUrl !== TWILIO_API_URL ? { httpClient: createRebasedHttpClient(apiUrl, options.timeoutMs) } : {}),
    ...(options.timeoutMs ? { timeout: options.timeoutMs } : {}),
    // Retries are the activity's job (its retry policy is visible in Temporal); the SDK must not add its own.
    autoRetry: false,
  });
  const messages = client.api.v2010.accounts(options.accountSid).messages;

  return {
    async send(message) {
      try {
        const created = await messages.create({
          to: message.to,
          body: message.body,
          messagingServiceSid: options.messagingServiceSid,
          ...(message.statusCallbackUrl ? { statusCallback: message.statusCallbackUrl } : {}),
        });
        return { providerMessageId: created.sid, status: created.status };
      } catch (error) {
        if (error instanceof twilio.RestException && isPermanentRejection(error.status)) {
          throw new SmsRejectedError(error.message, typeof error.code === 'number' ? error.code : null);
        }
        throw error;
      }
    },

    async findSent({ to, body, since }) {
      // Twilio's date filters have one-second precision (and the SDK sends whole seconds): compare likewise.
      const sinceSecond = Math.floor(since.getTime() / 1000) * 1000;
      const isOurs = (m: { direction: string; body: string; to: string; dateCreated: Date | null }) =>
        m.direction.startsWith('outbound') &&
        m.to === to &&
        m.body === body &&
        (m.dateCreated === null || m.dateCreated.getTime() >= sinceSecond);
      const toResult = (m: { sid: string; status: string }): SentSms => ({
        providerMessageId: m.sid,
        status: m.status,
      });

      const sent = await messages.list({ to, dateSentAfter: since, limit: FIND_SENT_LIMIT });
      const found = sent.find(isOurs);
      if (found) return toResult(found);
      // A message still accepted/queued has no date_sent yet, so the DateSent filter cannot see it: look through
      // the newest messages to that number as well (a process that died right after create() lands here).
      const recent = await messages.list({ to, limit: FIND_SENT_LIMIT });
      const queued = recent.find(isOurs);
      return queued ? toResult(queued) : null;
    },
  };
}

/**
 * Whether a webhook request really came from Twilio: the X-Twilio-Signature header against the full URL Twilio
 * was configured with (as the public sees it, query string included) and the form-encoded POST parameters.
 */
export function validateTwilioSignature(
  authToken: string,
  signatureHeader: string | null | undefined,
  url: string,
  params: Record<string, string | string[]>,
): boolean {
  if (!signatureHeader) return false;
  try {
    return twilio.validateRequest(authToken, signatureHeader, url, params);
  } catch {
    // A malformed URL is an unverifiable request, not a server error.
    return false;
  }
}

/** What an inbound-message webhook answers: TwiML with no <Message>, so Twilio sends nothing back itself. */
export function twimlEmptyResponse(): string {
  return new twilio.twiml.MessagingResponse().toString();
}

/** The content type Twilio expects with twimlEmptyResponse(). */
export const TWIML_CONTENT_TYPE = 'text/xml; charset=utf-8';
