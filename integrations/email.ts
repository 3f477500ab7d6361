/**
 * Transactional email over SendGrid's official SDK. Without an API key the same SDK is pointed at the
 * sandbox's SendGrid emulator, so the code path is identical and tests see what was sent.
 */
import { Client } from '@sendgrid/client';
import { MailService } from '@sendgrid/mail';

export interface EmailMessage {
  to: string[];
  subject: string;
  text: string;
  html?: string;
  /**
   * Derived from what caused the email (e.g. endpoint id + disabledAt, or workflow + step): carried as the
   * `idempotency_key` custom arg, which findSent searches by so a retried activity can tell whether its
   * earlier attempt reached SendGrid. SendGrid itself does not dedupe on it.
   */
  idempotencyKey: string;
  category?: string;
  /** Where replies go (TourSpark: `reply+<leadId>@<replyDomain>`, routed back by Inbound Parse). */
  replyTo?: string;
  /** Extra custom args SendGrid echoes in Event Webhook events (lead_id, message_id), beside idempotency_key. */
  customArgs?: Record<string, string>;
}

export interface EmailSender {
  send(message: EmailMessage): Promise<{ messageId: string | null }>;
  /**
   * SendGrid's own record (Email Activity API, `GET /v3/messages`) of a message sent with this idempotency key
   * since `since`: how a send whose outcome is unknown is reconciled instead of repeated. Null when none.
   */
  findSent(query: { idempotencyKey: string; since: Date }): Promise<{ messageId: string } | null>;
}

export interface SendGridEmailSenderOptions {
  /** Unset: talk to the sandbox emulator with its sandbox key. */
  apiKey: string | undefined;
  /**
   * SendGrid's API base (config.email.sendgridApiUrl): `https://api.sendgrid.com`, or the emulator at
   * `<sandbox>/sendgrid`. Takes precedence over sandboxUrl.
   */
  apiUrl?: string;
  /** Older callers: the sandbox host, the emulator being at `<sandboxUrl>/sendgrid`. Used only without apiKey. */
  sandboxUrl?: string;
  from: string;
  timeoutMs?: number;
}

/** The key the sandbox emulator accepts (SendGrid keys start with "SG."). */
export const SANDBOX_SENDGRID_API_KEY = 'SG.sandbox.p11-console';

export const SENDGRID_API_URL = 'https://api.sendgrid.com';

/** How far past "now" the Email Activity time window reaches, so clock skew with SendGrid cannot hide a message. */
const ACTIVITY_WINDOW_SLACK_MS = 24 * 3600 * 1000;

/**
 * SendGrid's X-Message-Id is the prefix of the per-recipient ids (`<X-Message-Id>.filter...`) that Event Webhook
 * events and the Email Activity API carry: reduce those to the id send() returned.
 */
export function baseMessageId(sgMessageId: string): string {
  const at = sgMessageId.indexOf('.filter');
  return at > 0 ? sgMessageId.slice(0, at) : sgMessageId;
}

/** A value inside an Email Activity query string literal (the query language has no documented escapes). */
function queryLiteral(value: string): string {
  if (/["\\\r\n]/.test(value)) throw new Error(`cannot put ${JSON.stringify(value)} in an Email Activity query`);
  return `"${value}"`;
}

function resolveBaseUrl(options: SendGridEmailSenderOptions): string | null {
  const apiUrl = options.apiUrl?.replace(/\/$/, '');
  if (apiUrl) return apiUrl === SENDGRID_API_URL ? null : apiUrl;
  if (options.apiKey) return null;
  if (!options.sandboxUrl) throw new Error('createSendGridEmailSender: no apiKey, apiUrl or sandboxUrl');
  return `${options.sandboxUrl.replace(/\/$/, '')}/sendgrid`;
}

export function createSendGridEmailSender(options: SendGridEmailSenderOptions): EmailSender {
  // One MailService per sender rather than the SDK's module singleton, so two senders (tests, tenants) never
  // share a key or base URL.
  const mail = new MailService();
  const client = new Client();
  mail.setClient(client);
  // In this order: setApiKey resets the base URL to SendGrid's own.
  mail.setApiKey(options.apiKey ?? SANDBOX_SENDGRID_API_KEY);
  const baseUrl = resolveBaseUrl(options);
  if (baseUrl) client.setDefaultRequest('baseUrl', baseUrl);
  // A default request setting of the shared client: covers findSent's requests too.
  mail.setTimeout(options.timeoutMs ?? 15_000);
  const from = parseAddress(options.from);

  return {
    async send(message) {
      if (message.to.length === 0) throw new Error('EmailSender.send: no recipients');
      const [response] = await mail.send({
        to: message.to,
        from,
        subject: message.subject,
        text: message.text,
        ...(message.html ? { html: message.html } : {}),
        ...(message.replyTo ? { replyTo: parseAddress(message.replyTo) } : {}),
        // idempotency_key last: callers' args must not overwrite the key findSent searches by.
        customArgs: { ...message.customArgs, idempotency_key: message.idempotencyKey },
        ...(message.category ? { categories: [message.category] } : {}),
      });
      const header = response.headers['x-message-id'];
      return { messageId: typeof header === 'string' ? header : null };
    },

    /*
     * Note for callers: SendGrid's Email Activity is eventually consistent (a message can take a while to
     * appear) and needs the Email Activity add-on; a miss right after a crash is not proof of "never sent".
     */
    async findSent({ idempotencyKey, since }) {
      // last_event_time has whole-second precision: a message sent in the same second as `since` must match.
      const windowStart = new Date(Math.floor(since.getTime() / 1000) * 1000);
      const until = new Date(Date.now() + ACTIVITY_WINDOW_SLACK_MS);
      const query =
        `(unique_args['idempotency_key']=${queryLiteral(idempotencyKey)}) AND ` +
        `last_event_time BETWEEN TIMESTAMP ${queryLiteral(windowStart.toISOString())} AND TIMESTAMP ${queryLiteral(until.toISOString())}`;
      const [, body] = await client.request({
        method: 'GET',
        url: '/v3/messages',
        qs: { query, limit: 10 },
      });
      const messages = (body as { messages?: { msg_id?: unknown }[] } | undefined)?.messages ?? [];
      const first = messages.find((m) => typeof m.msg_id === 'string' && m.msg_id !== '');
      return first ? { messageId: baseMessageId(first.msg_id as string) } : null;
    },
  };
}

/** "Name <address>" or a bare address, as config.email.from allows either. */
export function parseAddress(value: string): { email: string; name?: string } {
  const match = /^\s*(.*?)\s*<([^>]+)>\s*$/.exec(value);
  if (!match) return { email: value.trim() };
  return match[1] ? { name: match[1], email: match[2]!.trim() } : { email: match[2]!.trim() };
}
