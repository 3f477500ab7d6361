/**
 * What SendGrid posts to us: Event Webhook batches (delivery, bounce, unsubscribe, ... signed with ECDSA) and
 * Inbound Parse (a reply to one of our emails, as multipart/form-data). The API's public webhook routes use
 * these helpers; the sandbox emulator produces the same requests.
 */
import { EventWebhook } from '@sendgrid/eventwebhook';
import { convert as htmlToText } from 'html-to-text';
import { parseAddress } from './email';

/** Signed Event Webhook headers (Mail Settings → Signed Event Webhook Requests). */
export const SENDGRID_SIGNATURE_HEADER = 'X-Twilio-Email-Event-Webhook-Signature';
export const SENDGRID_TIMESTAMP_HEADER = 'X-Twilio-Email-Event-Webhook-Timestamp';

export interface VerifyOptions {
  /** Reject timestamps further than this from `now` (replay protection). Unset: no age check. */
  toleranceSeconds?: number;
  now?: Date;
}

/**
 * Whether an Event Webhook request is SendGrid's: the ECDSA P-256 signature (base64 DER) over timestamp + raw
 * body, checked with the public key from the SendGrid console (base64 DER, as shown there, or PEM). The body
 * must be the exact bytes received: re-serialized JSON does not verify.
 */
export function verifySendGridEventSignature(
  publicKeyBase64: string,
  rawBody: string | Buffer,
  signature: string | null | undefined,
  timestamp: string | null | undefined,
  options: VerifyOptions = {},
): boolean {
  if (!publicKeyBase64 || !signature || !timestamp) return false;
  if (options.toleranceSeconds !== undefined) {
    const seconds = Number(timestamp);
    const now = (options.now ?? new Date()).getTime() / 1000;
    if (!Number.isFinite(seconds) || Math.abs(now - seconds) > options.toleranceSeconds) return false;
  }
  try {
    const webhook = new EventWebhook();
    const key = webhook.convertPublicKeyToECDSA(publicKeyBase64);
    return webhook.verifySignature(key, rawBody, signature, timestamp);
  } catch {
    // A malformed key or signature (not base64 DER) is an unverifiable request, not a server error.
    return false;
  }
}

export type SendGridEventType =
  | 'processed'
  | 'dropped'
  | 'delivered'
  | 'deferred'
  | 'bounce'
  | 'open'
  | 'click'
  | 'spamreport'
  | 'unsubscribe'
  | 'group_unsubscribe'
  | 'group_resubscribe';

export interface SendGridEvent {
  email: string;
  /** Unix seconds. */
  timestamp: number;
  /** One of SendGridEventType; kept as a string so a new SendGrid event type does not fail the batch. */
  event: SendGridEventType | (string & {});
  /** `<X-Message-Id>.filter...`: baseMessageId() in integrations/email.ts gives the id send() returned. */
  sg_message_id: string | null;
  /** Unique per event: what a receiver dedupes on (SendGrid delivers at least once). */
  sg_event_id: string | null;
  'smtp-id': string | null;
  /** bounce/dropped/deferred: SendGrid's explanation. */
  reason: string | null;
  /** bounce: the SMTP status (e.g. 5.1.1). */
  status: string | null;
  /** bounce: "bounce" or "blocked". */
  type: string | null;
  category: string[];
  /** The custom args of the send (idempotency_key, lead_id, message_id, ...), which SendGrid puts at top level. */
  customArgs: Record<string, string>;
  /** Everything SendGrid sent for this event. */
  raw: Record<string, unknown>;
}

/** Event fields SendGrid defines; every other top-level field of an event is one of our custom args. */
const SENDGRID_EVENT_FIELDS = new Set([
  'email',
  'timestamp',
  'event',
  'smtp-id',
  'sg_event_id',
  'sg_message_id',
  'category',
  'reason',
  'status',
  'response',
  'attempt',
  'type',
  'bounce_classification',
  'url',
  'url_offset',
  'useragent',
  'ip',
  'tls',
  'cert_err',
  'asm_group_id',
  'marketing_campaign_id',
  'marketing_campaign_name',
  'marketing_campaign_version',
  'marketing_campaign_split_id',
  'mc_stats',
  'pool',
  'sg_machine_open',
  'sg_content_type',
  'sg_template_id',
  'sg_template_name',
  'send_at',
  'singlesend_id',
  'singlesend_name',
  'template_id',
  'template_version_id',
  'phase_id',
  'post_type',
  'unique_args',
]);

export class SendGridPayloadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SendGridPayloadError';
  }
}

function stringOrNull(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return null;
}

/**
 * An Event Webhook body (a JSON array of events) → typed events. Throws SendGridPayloadError when the body is
 * not such an array, or an event lacks email/event/timestamp (answer 400: SendGrid will not fix it by retrying).
 */
export function parseSendGridEvents(rawBody: string | Buffer): SendGridEvent[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof rawBody === 'string' ? rawBody : rawBody.toString('utf8'));
  } catch {
    throw new SendGridPayloadError('Event Webhook body is not JSON');
  }
  if (!Array.isArray(parsed)) throw new SendGridPayloadError('Event Webhook body is not an array of events');
  return parsed.map((item, index) => {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      throw new SendGridPayloadError(`event ${index} is not an object`);
    }
    const raw = item as Record<string, unknown>;
    const timestamp = Number(raw.timestamp);
    if (typeof raw.email !== 'string' || typeof raw.event !== 'string' || !Number.isFinite(timestamp)) {
      throw new SendGridPayloadError(`event ${index} lacks email, event or timestamp`);
    }
    const customArgs: Record<string, string> = {};
    for (const [key, value] of Object.entries(raw)) {
      if (SENDGRID_EVENT_FIELDS.has(key)) continue;
      const text = stringOrNull(value);
      if (text !== null) customArgs[key] = text;
    }
    // Older integrations (the SMTP API) nest them under unique_args: accept that shape too.
    if (typeof raw.unique_args === 'object' && raw.unique_args !== null) {
      for (const [key, value] of Object.entries(raw.unique_args as Record<string, unknown>)) {
        const text = stringOrNull(value);
        if (text !== null && !(key in customArgs)) customArgs[key] = text;
      }
    }
    const category = Array.isArray(raw.category)
      ? raw.category.filter((c): c is string => typeof c === 'string')
      : typeof raw.category === 'string'
        ? [raw.category]
        : [];
    return {
      email: raw.email,
      timestamp,
      event: raw.event,
      sg_message_id: stringOrNull(raw.sg_message_id),
      sg_event_id: stringOrNull(raw.sg_event_id),
      'smtp-id': stringOrNull(raw['smtp-id']),
      reason: stringOrNull(raw.reason),
      status: stringOrNull(raw.status),
      type: stringOrNull(raw.type),
      category,
      customArgs,
      raw,
    };
  });
}

export interface InboundEmail {
  from: { email: string; name: string | null };
  /**
   * Recipient addresses, lowercased, deduplicated: the SMTP envelope's recipients first (where the message was
   * really delivered, e.g. `reply+<leadId>@<replyDomain>` even when Bcc'd), then the To and Cc headers.
   */
  to: string[];
  subject: string;
  /** Plain text; derived from the HTML part when the sender sent only HTML. */
  text: string;
  html: string | null;
  /** The message's headers as posted (lowercased names; a repeated header's values joined by ", "). */
  headers: Record<string, string>;
  /** The Message-ID header (`<...>`), null when absent. */
  messageIdHeader: string | null;
  /** In-Reply-To: the Message-ID of our email this replies to, when the mail client kept it. */
  inReplyTo: string | null;
  /** The new text of the reply, with the quoted earlier message ("On ... wrote:", "> ...") removed. */
  replyText: string;
  envelope: { from: string | null; to: string[] } | null;
  /** SendGrid's SPF verdict (e.g. "pass"), null when not posted. */
  spf: string | null;
  dkim: string | null;
}

/** One or more addresses from a header value: `"Name" <a@b>, c@d`. */
export function parseAddressList(value: string): string[] {
  const addresses: string[] = [];
  // Split on commas outside quotes and angle brackets.
  let current = '';
  let quoted = false;
  let angle = false;
  for (const ch of value) {
    if (ch === '"') quoted = !quoted;
    else if (ch === '<' && !quoted) angle = true;
    else if (ch === '>' && !quoted) angle = false;
    if (ch === ',' && !quoted && !angle) {
      addresses.push(current);
      current = '';
    } else current += ch;
  }
  addresses.push(current);
  return addresses
    .map((a) => parseAddress(a).email.replace(/^"|"$/g, '').trim().toLowerCase())
    .filter((a) => a.includes('@'));
}

/** RFC 5322 header block → lowercased name → value (folded lines unfolded). */
export function parseHeaderBlock(block: string): Record<string, string> {
  const headers: Record<string, string> = {};
  const unfolded = block.replace(/\r\n/g, '\n').replace(/\n[ \t]+/g, ' ');
  for (const line of unfolded.split('\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  return headers;
}

/**
 * The reply's own words: everything before the quoted original. Mail clients quote differently; these are the
 * common markers (Gmail/Apple "On ... wrote:", Outlook's "-----Original Message-----" / "From: ..." block, and
 * "> " lines).
 */
export function stripQuotedReply(text: string): string {
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  const kept: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const trimmed = line.trim();
    if (/^-{2,}\s*Original Message\s*-{2,}$/i.test(trimmed)) break;
    if (/^On\b.*\bwrote:\s*$/i.test(trimmed)) break;
    // "On Tue, Mar 3, 2026 at 10:00 AM P11 <x@y>\nwrote:" wrapped over two lines.
    if (/^On\b/i.test(trimmed) && /^wrote:\s*$/i.test((lines[i + 1] ?? '').trim())) break;
    if (/^From:\s.+/i.test(trimmed) && kept.length > 0 && (lines[i - 1] ?? '').trim() === '') {
      const next = (lines[i + 1] ?? '').trim();
      if (/^(Sent|Date|To|Subject):/i.test(next)) break;
    }
    if (trimmed.startsWith('>')) continue;
    kept.push(line);
  }
  return kept.join('\n').trim();
}

function field(form: FormData | Record<string, string>, name: string): string | null {
  if (typeof FormData !== 'undefined' && form instanceof FormData) {
    const value = form.get(name);
    return typeof value === 'string' ? value : null;
  }
  const value = (form as Record<string, string | undefined>)[name];
  return typeof value === 'string' ? value : null;
}

/**
 * An Inbound Parse POST (multipart/form-data, "raw" off) → the reply. Throws SendGridPayloadError when the
 * sender address is missing, which no real Inbound Parse post lacks.
 */
export function parseInboundParse(form: FormData | Record<string, string>): InboundEmail {
  const fromHeader = field(form, 'from');
  if (!fromHeader) throw new SendGridPayloadError('Inbound Parse post without a from field');
  const fromParsed = parseAddress(fromHeader);
  const fromEmail = fromParsed.email.replace(/^"|"$/g, '').trim().toLowerCase();
  if (!fromEmail.includes('@')) throw new SendGridPayloadError(`Inbound Parse from is not an address: ${fromHeader}`);

  let envelope: InboundEmail['envelope'] = null;
  const envelopeRaw = field(form, 'envelope');
  if (envelopeRaw) {
    try {
      const parsed = JSON.parse(envelopeRaw) as { from?: unknown; to?: unknown };
      envelope = {
        from: typeof parsed.from === 'string' ? parsed.from : null,
        to: Array.isArray(parsed.to)
          ? parsed.to.filter((t): t is string => typeof t === 'string').map((t) => t.trim().toLowerCase())
          : [],
      };
    } catch {
      envelope = null;
    }
  }

  const headers = parseHeaderBlock(field(form, 'headers') ?? '');
  const to = [
    ...new Set([
      ...(envelope?.to ?? []),
      ...parseAddressList(field(form, 'to') ?? headers.to ?? ''),
      ...parseAddressList(field(form, 'cc') ?? headers.cc ?? ''),
    ]),
  ];
  const html = field(form, 'html');
  const textField = field(form, 'text');
  const text =
    textField !== null && textField.trim() !== ''
      ? textField
      : html
        ? htmlToText(html, { wordwrap: false, selectors: [{ selector: 'img', format: 'skip' }] })
        : '';

  return {
    from: { email: fromEmail, name: fromParsed.name?.replace(/^"|"$/g, '') || null },
    to,
    subject: field(form, 'subject') ?? headers.subject ?? '',
    text,
    html: html && html !== '' ? html : null,
    headers,
    messageIdHeader: headers['message-id'] ?? null,
    inReplyTo: headers['in-reply-to'] ?? null,
    replyText: stripQuotedReply(text),
    envelope,
    spf: field(form, 'SPF'),
    dkim: field(form, 'dkim'),
  };
}
