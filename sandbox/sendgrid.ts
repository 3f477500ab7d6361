/**
 * SendGrid v3 emulator: Mail Send and the Email Activity API (`GET /v3/messages`, the query shapes our code
 * uses) with the same paths, auth and error shapes as api.sendgrid.com, so `@sendgrid/mail` and
 * `@sendgrid/client` run unchanged against it. Like SendGrid it accepts every valid request, duplicates
 * included: exactly-once is our code's job, and tests must see a duplicate if our code makes one.
 *
 * After each send it posts Event Webhook batches (processed, then delivered, or bounce for addresses at
 * bounce.test), signed with ECDSA P-256 like SendGrid's Signed Event Webhook, and it can post Inbound Parse
 * requests (a reply to one of our emails) as multipart/form-data. Control endpoints start with `_`.
 */
import { Hono, type Context } from 'hono';
import { createSign, randomBytes, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { SANDBOX_SENDGRID_EVENT_PRIVATE_KEY } from './sendgrid-keys';

export interface RecordedEmail {
  messageId: string;
  receivedAt: string;
  from: { email: string; name?: string };
  to: string[];
  subject: string;
  content: { type: string; value: string }[];
  /** reply_to.email, when set. */
  replyTo: string | null;
  customArgs: Record<string, string>;
  categories: string[];
  /** Per recipient: processed → delivered | bounce (and later events posted through `_events`). */
  events: { email: string; event: string; timestamp: number }[];
  /** The request body as SendGrid received it. */
  raw: Record<string, unknown>;
}

interface SendGridError {
  message: string;
  field: string | null;
  help: string | null;
}

const EMAIL = /^[^\s@<>]+@[^\s@<>]+$/;

function errors(list: SendGridError[]) {
  return { errors: list };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function emailOf(value: unknown): string | null {
  return isRecord(value) && typeof value.email === 'string' && EMAIL.test(value.email) ? value.email : null;
}

/** The checks SendGrid makes that matter for us; messages mirror SendGrid's wording. */
function validateMail(body: unknown): SendGridError[] {
  if (!isRecord(body)) return [{ message: 'Bad Request', field: null, help: null }];
  const problems: SendGridError[] = [];
  const personalizations = body.personalizations;
  if (!Array.isArray(personalizations) || personalizations.length === 0) {
    problems.push({
      message: 'The personalizations field is required and must have at least one personalization.',
      field: 'personalizations',
      help: null,
    });
  } else {
    personalizations.forEach((p, i) => {
      const to = isRecord(p) ? p.to : undefined;
      if (!Array.isArray(to) || to.length === 0) {
        problems.push({
          message:
            'The to array is required for all personalization objects, and must have at least one email object with a valid email address.',
          field: `personalizations.${i}.to`,
          help: null,
        });
      } else if (to.some((t) => emailOf(t) === null)) {
        problems.push({ message: 'Does not contain a valid address.', field: `personalizations.${i}.to`, help: null });
      }
    });
  }
  if (emailOf(body.from) === null) {
    problems.push({
      message:
        'The from object must be provided for every email send. It is an object that requires the email parameter, but may also contain a name parameter.',
      field: 'from',
      help: null,
    });
  }
  const hasTemplate = typeof body.template_id === 'string';
  const subjectInPersonalization =
    Array.isArray(personalizations) && personalizations.every((p) => isRecord(p) && typeof p.subject === 'string');
  if (!hasTemplate && !(typeof body.subject === 'string' && body.subject !== '') && !subjectInPersonalization) {
    problems.push({
      message:
        'The subject is required. You can get around this requirement if you use a template with a subject defined or if every personalization has a subject defined.',
      field: 'subject',
      help: null,
    });
  }
  const content = body.content;
  if (!hasTemplate) {
    if (!Array.isArray(content) || content.length === 0) {
      problems.push({
        message:
          'Unless a valid template_id is provided, the content parameter is required. There must be at least one defined content block.',
        field: 'content',
        help: null,
      });
    } else if (
      content.some((c) => !isRecord(c) || typeof c.type !== 'string' || typeof c.value !== 'string' || c.value === '')
    ) {
      problems.push({
        message: 'The content value must be a string at least one character in length.',
        field: 'content.0.value',
        help: null,
      });
    }
  }
  return problems;
}

/** SendGrid's Signed Event Webhook headers (the emulator's own copy: it must not lean on our verifying code). */
const SIGNATURE_HEADER = 'X-Twilio-Email-Event-Webhook-Signature';
const TIMESTAMP_HEADER = 'X-Twilio-Email-Event-Webhook-Timestamp';

/** Recipients at this domain bounce (550 5.1.1), as a mailbox that does not exist. */
export const BOUNCE_DOMAIN = 'bounce.test';

const EVENT_TYPES = [
  'processed',
  'dropped',
  'delivered',
  'deferred',
  'bounce',
  'open',
  'click',
  'spamreport',
  'unsubscribe',
  'group_unsubscribe',
  'group_resubscribe',
] as const;

export interface EventWebhookPost {
  at: string;
  url: string;
  events: Record<string, unknown>[];
  httpStatus: number | null;
  error: string | null;
}

export interface InboundParsePost {
  at: string;
  url: string;
  fields: Record<string, string>;
  httpStatus: number | null;
  error: string | null;
}

export interface SendGridEmulatorOptions {
  /** PEM (PKCS#8) ECDSA P-256 key the Event Webhook is signed with. */
  eventSigningKey?: string;
  eventDelayMs?: number;
}

const configSchema = z.strictObject({
  eventWebhookUrl: z.url().nullable().optional(),
  inboundParseUrl: z.url().nullable().optional(),
  eventDelayMs: z.number().int().min(0).max(60_000).optional(),
});

const eventSchema = z.strictObject({
  event: z.enum(EVENT_TYPES),
  /** The X-Message-Id send answered with (or an sg_message_id). */
  messageId: z.string().min(1),
  /** Defaults to the message's first recipient. */
  email: z.string().optional(),
  url: z.string().optional(),
  reason: z.string().optional(),
});

const inboundSchema = z.strictObject({
  /** "Name <address>" or a bare address, as the From header. */
  from: z.string().min(3),
  to: z.union([z.string().min(3), z.array(z.string().min(3)).min(1)]),
  subject: z.string(),
  text: z.string().optional(),
  html: z.string().optional(),
  /** The Message-ID of the email this replies to (In-Reply-To and References). */
  inReplyTo: z.string().optional(),
});

function unauthorized(c: Context) {
  return c.json(
    errors([{ message: 'The provided authorization grant is invalid, expired, or revoked', field: null, help: null }]),
    401,
  );
}

function hasValidKey(c: Context): boolean {
  return /^Bearer SG\.\S+$/.test(c.req.header('authorization') ?? '');
}

/** Bare address of "Name <address>" or of an address. */
function addressOf(value: string): string {
  const match = /<([^>]+)>\s*$/.exec(value);
  return (match ? match[1]! : value).trim();
}

// ---- Email Activity query language (the subset our code and common callers use) ----

interface ActivityRow {
  msg_id: string;
  from_email: string;
  to_email: string;
  subject: string;
  status: string;
  categories: string[];
  customArgs: Record<string, string>;
  lastEventTime: number;
  opens: number;
  clicks: number;
  /** Send order, newest first on equal times. */
  seq: number;
}

type Predicate = (row: ActivityRow) => boolean;

export class ActivityQueryError extends Error {}

type Token =
  | { kind: 'lparen' | 'rparen' }
  | { kind: 'op'; value: string }
  | { kind: 'string'; value: string }
  | { kind: 'word'; value: string }
  | { kind: 'uniqueArg'; name: string };

function tokenize(query: string): Token[] {
  const tokens: Token[] = [];
  const pattern =
    /\s*(?:(\()|(\))|(!=|>=|<=|=|>|<)|"([^"]*)"|'([^']*)'|unique_args\[\s*(?:"([^"]*)"|'([^']*)')\s*\]|([A-Za-z_][A-Za-z0-9_]*))\s*/y;
  let at = 0;
  while (at < query.length) {
    pattern.lastIndex = at;
    const m = pattern.exec(query);
    if (!m || m[0].length === 0) throw new ActivityQueryError(`cannot parse query at "${query.slice(at, at + 20)}"`);
    at = pattern.lastIndex;
    if (m[1]) tokens.push({ kind: 'lparen' });
    else if (m[2]) tokens.push({ kind: 'rparen' });
    else if (m[3]) tokens.push({ kind: 'op', value: m[3] });
    else if (m[4] !== undefined || m[5] !== undefined) tokens.push({ kind: 'string', value: (m[4] ?? m[5])! });
    else if (m[6] !== undefined || m[7] !== undefined) tokens.push({ kind: 'uniqueArg', name: (m[6] ?? m[7])! });
    else if (m[8]) tokens.push({ kind: 'word', value: m[8] });
  }
  return tokens;
}

const TEXT_FIELDS = ['msg_id', 'from_email', 'to_email', 'subject', 'status'] as const;

/** `query` of GET /v3/messages → a row predicate; ActivityQueryError when it is outside the supported subset. */
export function parseActivityQuery(query: string): Predicate {
  const tokens = tokenize(query);
  let i = 0;
  const peek = () => tokens[i];
  const isWord = (t: Token | undefined, word: string) => t?.kind === 'word' && t.value.toUpperCase() === word;
  const expectString = (): string => {
    const t = tokens[i++];
    if (t?.kind !== 'string') throw new ActivityQueryError('expected a quoted value');
    return t.value;
  };
  const timestamp = (): number => {
    if (!isWord(tokens[i++], 'TIMESTAMP')) throw new ActivityQueryError('expected TIMESTAMP "<ISO 8601>"');
    const raw = expectString();
    const ms = /^\d+$/.test(raw) ? Number(raw) * 1000 : Date.parse(raw);
    if (!Number.isFinite(ms)) throw new ActivityQueryError(`invalid timestamp ${raw}`);
    return ms;
  };
  const compare = (op: string, value: string, actual: string | string[]): boolean => {
    const values = Array.isArray(actual) ? actual : [actual];
    if (op === '=') return values.includes(value);
    if (op === '!=') return !values.includes(value);
    throw new ActivityQueryError(`operator ${op} is not supported for text fields`);
  };

  const condition = (): Predicate => {
    const t = tokens[i++];
    if (t?.kind === 'lparen') {
      const inner = conjunction();
      if (tokens[i++]?.kind !== 'rparen') throw new ActivityQueryError('missing )');
      return inner;
    }
    if (t?.kind === 'uniqueArg') {
      const op = tokens[i++];
      if (op?.kind !== 'op') throw new ActivityQueryError('expected an operator');
      const value = expectString();
      return (row) => compare(op.value, value, row.customArgs[t.name] ?? []);
    }
    if (t?.kind !== 'word') throw new ActivityQueryError('expected a field name');
    const name = t.value.toLowerCase();
    if (name === 'last_event_time') {
      if (isWord(peek(), 'BETWEEN')) {
        i++;
        const from = timestamp();
        if (!isWord(tokens[i++], 'AND')) throw new ActivityQueryError('expected AND in BETWEEN');
        const to = timestamp();
        return (row) => row.lastEventTime >= from && row.lastEventTime <= to;
      }
      const op = tokens[i++];
      if (op?.kind !== 'op' || op.value === '!=') throw new ActivityQueryError('expected a comparison');
      const bound = peek()?.kind === 'string' ? Date.parse(expectString()) : timestamp();
      if (!Number.isFinite(bound)) throw new ActivityQueryError('invalid timestamp');
      return (row) => {
        const v = row.lastEventTime;
        return op.value === '='
          ? v === bound
          : op.value === '>'
            ? v > bound
            : op.value === '>='
              ? v >= bound
              : op.value === '<'
                ? v < bound
                : v <= bound;
      };
    }
    const op = tokens[i++];
    if (op?.kind !== 'op') throw new ActivityQueryError('expected an operator');
    const value = expectString();
    if (name === 'categories') return (row) => compare(op.value, value, row.categories);
    if ((TEXT_FIELDS as readonly string[]).includes(name)) {
      const field = name as (typeof TEXT_FIELDS)[number];
      return (row) => compare(op.value, value, row[field]);
    }
    throw new ActivityQueryError(`unknown field ${t.value}`);
  };

  const conjunction = (): Predicate => {
    const parts = [condition()];
    while (isWord(peek(), 'AND')) {
      i++;
      parts.push(condition());
    }
    if (isWord(peek(), 'OR')) throw new ActivityQueryError('OR is not supported by this emulator');
    return (row) => parts.every((p) => p(row));
  };

  if (tokens.length === 0) return () => true;
  const predicate = conjunction();
  if (i !== tokens.length) throw new ActivityQueryError('unexpected text after the query');
  return predicate;
}

// ---- The emulator ----

export function createSendGridEmulator(options: SendGridEmulatorOptions = {}) {
  const signingKey = options.eventSigningKey ?? SANDBOX_SENDGRID_EVENT_PRIVATE_KEY;
  const messages: RecordedEmail[] = [];
  const eventPosts: EventWebhookPost[] = [];
  const inboundPosts: InboundParsePost[] = [];
  const config = {
    eventWebhookUrl: null as string | null,
    inboundParseUrl: null as string | null,
    eventDelayMs: options.eventDelayMs ?? 30,
  };

  /** `<X-Message-Id>.filter...-<recipient index>.0`, as SendGrid's per-recipient ids look. */
  const sgMessageId = (message: RecordedEmail, index: number) =>
    `${message.messageId}.filterdrecv-p11sandbox-${message.messageId.slice(0, 8)}-${index}.0`;

  function eventFor(message: RecordedEmail, email: string, event: string, extra: Record<string, unknown> = {}) {
    const index = Math.max(0, message.to.indexOf(email));
    const timestamp = Math.floor(Date.now() / 1000);
    message.events.push({ email, event, timestamp });
    // Custom args go at the top level, under SendGrid's own fields (which win on a clash), as SendGrid sends them.
    return {
      ...message.customArgs,
      email,
      timestamp,
      'smtp-id': `<${message.messageId}@ismtpd0001p1iad2.sendgrid.net>`,
      event,
      ...(message.categories.length ? { category: message.categories } : {}),
      sg_event_id: randomBytes(16).toString('base64url'),
      sg_message_id: sgMessageId(message, index),
      ...extra,
    };
  }

  /** Signs and posts one batch; records the outcome. */
  async function postEvents(events: Record<string, unknown>[]): Promise<EventWebhookPost | null> {
    const url = config.eventWebhookUrl;
    if (!url || events.length === 0) return null;
    const body = JSON.stringify(events);
    const timestamp = String(Math.floor(Date.now() / 1000));
    // ECDSA P-256 over SHA-256 of timestamp + payload; node emits the DER signature SendGrid base64-encodes.
    const signature = createSign('sha256')
      .update(timestamp + body)
      .sign(signingKey)
      .toString('base64');
    const post: EventWebhookPost = { at: new Date().toISOString(), url, events, httpStatus: null, error: null };
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'SendGrid Event API',
          [SIGNATURE_HEADER]: signature,
          [TIMESTAMP_HEADER]: timestamp,
        },
        body,
        signal: AbortSignal.timeout(15_000),
      });
      await res.arrayBuffer();
      post.httpStatus = res.status;
    } catch (err) {
      post.error = err instanceof Error ? err.message : String(err);
    }
    eventPosts.push(post);
    return post;
  }

  /** processed for every recipient, then delivered or bounce, one batch per step. */
  function deliver(message: RecordedEmail) {
    const later = (fn: () => Promise<unknown>) => setTimeout(() => void fn(), config.eventDelayMs).unref();
    later(async () => {
      await postEvents(message.to.map((email) => eventFor(message, email, 'processed')));
      later(() =>
        postEvents(
          message.to.map((email) =>
            email.toLowerCase().endsWith(`@${BOUNCE_DOMAIN}`)
              ? eventFor(message, email, 'bounce', {
                  reason: '550 5.1.1 The email account that you tried to reach does not exist.',
                  status: '5.1.1',
                  type: 'bounce',
                  bounce_classification: 'Invalid Address',
                })
              : eventFor(message, email, 'delivered', { response: '250 2.0.0 OK', ip: '127.0.0.1', tls: 1 }),
          ),
        ),
      );
    });
  }

  function activityRows(): ActivityRow[] {
    return messages.flatMap((message) =>
      message.to.map((email, index) => {
        const events = message.events.filter((e) => e.email === email);
        const last = events.at(-1);
        const delivered = events.some((e) => e.event === 'delivered');
        const failed = events.some((e) => e.event === 'bounce' || e.event === 'dropped');
        return {
          msg_id: sgMessageId(message, index),
          from_email: message.from.email,
          to_email: email,
          subject: message.subject,
          status: failed ? 'not_delivered' : delivered ? 'delivered' : 'processed',
          categories: message.categories,
          customArgs: message.customArgs,
          lastEventTime: last ? last.timestamp * 1000 : Date.parse(message.receivedAt),
          opens: events.filter((e) => e.event === 'open').length,
          clicks: events.filter((e) => e.event === 'click').length,
          seq: messages.indexOf(message),
        };
      }),
    );
  }

  return new Hono()
    .post('/v3/mail/send', async (c) => {
      if (!hasValidKey(c)) return unauthorized(c);
      let body: unknown;
      try {
        body = await c.req.json();
      } catch {
        return c.json(errors([{ message: 'Bad Request', field: null, help: null }]), 400);
      }
      const problems = validateMail(body);
      if (problems.length) return c.json(errors(problems), 400);
      const mail = body as Record<string, unknown>;
      const customArgs = (isRecord(mail.custom_args) ? mail.custom_args : {}) as Record<string, string>;
      // SendGrid's X-Message-Id: 22 characters. No dedupe by any key: SendGrid has none.
      const messageId = randomUUID().replaceAll('-', '').slice(0, 22);
      const personalizations = mail.personalizations as { to: { email: string }[]; subject?: string }[];
      const message: RecordedEmail = {
        messageId,
        receivedAt: new Date().toISOString(),
        from: mail.from as RecordedEmail['from'],
        to: personalizations.flatMap((p) => p.to.map((t) => t.email)),
        subject: typeof mail.subject === 'string' ? mail.subject : (personalizations[0]?.subject ?? ''),
        content: (mail.content as RecordedEmail['content'] | undefined) ?? [],
        replyTo: emailOf(mail.reply_to),
        customArgs,
        categories: Array.isArray(mail.categories) ? (mail.categories as string[]) : [],
        events: [],
        raw: mail,
      };
      messages.push(message);
      deliver(message);
      c.header('X-Message-Id', messageId);
      return c.body(null, 202);
    })
    .get('/v3/messages', (c) => {
      if (!hasValidKey(c)) return unauthorized(c);
      const limitRaw = c.req.query('limit') ?? '10';
      const limit = Number(limitRaw);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
        return c.json(
          errors([{ message: 'limit must be an integer between 1 and 1000', field: 'limit', help: null }]),
          400,
        );
      }
      let predicate: Predicate;
      try {
        predicate = parseActivityQuery(c.req.query('query') ?? '');
      } catch (err) {
        const reason = err instanceof ActivityQueryError ? err.message : 'invalid query';
        return c.json(errors([{ message: `invalid query: ${reason}`, field: 'query', help: null }]), 400);
      }
      const rows = activityRows()
        .filter(predicate)
        .sort((a, b) => b.lastEventTime - a.lastEventTime || b.seq - a.seq)
        .slice(0, limit);
      return c.json({
        messages: rows.map((r) => ({
          from_email: r.from_email,
          msg_id: r.msg_id,
          subject: r.subject,
          to_email: r.to_email,
          status: r.status,
          opens_count: r.opens,
          clicks_count: r.clicks,
          last_event_time: new Date(r.lastEventTime).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        })),
      });
    })
    .put('/_config', async (c) => {
      const parsed = configSchema.safeParse(await c.req.json().catch(() => null));
      if (!parsed.success) return c.json({ error: 'invalid config', issues: parsed.error.issues }, 400);
      if (parsed.data.eventWebhookUrl !== undefined) config.eventWebhookUrl = parsed.data.eventWebhookUrl;
      if (parsed.data.inboundParseUrl !== undefined) config.inboundParseUrl = parsed.data.inboundParseUrl;
      if (parsed.data.eventDelayMs !== undefined) config.eventDelayMs = parsed.data.eventDelayMs;
      return c.json(config);
    })
    .post('/_events', async (c) => {
      const parsed = eventSchema.safeParse(await c.req.json().catch(() => null));
      if (!parsed.success) return c.json({ error: 'invalid event', issues: parsed.error.issues }, 400);
      const { event, messageId, url, reason } = parsed.data;
      const base = messageId.split('.filter')[0];
      const message = messages.find((m) => m.messageId === base);
      if (!message) return c.json({ error: `no message ${messageId}` }, 404);
      const email = parsed.data.email ?? message.to[0]!;
      if (!message.to.includes(email)) return c.json({ error: `${email} is not a recipient of ${messageId}` }, 400);
      if (!config.eventWebhookUrl) return c.json({ error: 'no eventWebhookUrl configured' }, 409);
      const extra: Record<string, unknown> = {};
      if (event === 'click') extra.url = url ?? 'https://example.test/';
      if (event === 'open' || event === 'click') {
        extra.useragent = 'Mozilla/5.0 (sandbox)';
        extra.ip = '127.0.0.1';
      }
      if (event === 'open') extra.sg_machine_open = false;
      if (reason || event === 'dropped' || event === 'deferred' || event === 'bounce') {
        extra.reason = reason ?? 'Sandbox event';
      }
      const payload = eventFor(message, email, event, extra);
      const post = await postEvents([payload]);
      return c.json({ event: payload, httpStatus: post?.httpStatus ?? null, error: post?.error ?? null });
    })
    .get('/_events', (c) => c.json({ posts: eventPosts }))
    .post('/_inbound', async (c) => {
      const parsed = inboundSchema.safeParse(await c.req.json().catch(() => null));
      if (!parsed.success) return c.json({ error: 'invalid inbound email', issues: parsed.error.issues }, 400);
      const url = config.inboundParseUrl;
      if (!url) return c.json({ error: 'no inboundParseUrl configured' }, 409);
      const input = parsed.data;
      const to = Array.isArray(input.to) ? input.to : [input.to];
      const fromAddress = addressOf(input.from);
      const fromDomain = fromAddress.split('@')[1] ?? 'example.test';
      const messageIdHeader = `<${randomUUID()}@${fromDomain}>`;
      const boundary = randomBytes(12).toString('hex');
      const headerLines = [
        `Received: by mx0047p1mdw1.sendgrid.net with SMTP id ${randomBytes(8).toString('hex')} ${new Date().toUTCString()}`,
        `Received: from mail.${fromDomain} (unknown [127.0.0.1]) by mx0047p1mdw1.sendgrid.net (Postfix)`,
        'MIME-Version: 1.0',
        `From: ${input.from}`,
        `Date: ${new Date().toUTCString().replace('GMT', '+0000')}`,
        `Message-ID: ${messageIdHeader}`,
        ...(input.inReplyTo ? [`In-Reply-To: ${input.inReplyTo}`, `References: ${input.inReplyTo}`] : []),
        `Subject: ${input.subject}`,
        `To: ${to.join(', ')}`,
        `Content-Type: multipart/alternative; boundary="${boundary}"`,
      ];
      const fields: Record<string, string> = {
        headers: headerLines.join('\n') + '\n',
        dkim: `{@${fromDomain} : pass}`,
        'content-ids': '{}',
        to: to.join(', '),
        from: input.from,
        ...(input.text !== undefined ? { text: input.text } : {}),
        ...(input.html !== undefined ? { html: input.html } : {}),
        sender_ip: '127.0.0.1',
        envelope: JSON.stringify({ to: to.map(addressOf), from: fromAddress }),
        attachments: '0',
        subject: input.subject,
        spam_score: '0.1',
        charsets: JSON.stringify({
          to: 'UTF-8',
          from: 'UTF-8',
          subject: 'UTF-8',
          ...(input.text !== undefined ? { text: 'UTF-8' } : {}),
          ...(input.html !== undefined ? { html: 'UTF-8' } : {}),
        }),
        SPF: 'pass',
      };
      const form = new FormData();
      for (const [key, value] of Object.entries(fields)) form.append(key, value);
      const post: InboundParsePost = { at: new Date().toISOString(), url, fields, httpStatus: null, error: null };
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'user-agent': 'Sendlib/1.0 mx.sendgrid.net' },
          body: form,
          signal: AbortSignal.timeout(15_000),
        });
        await res.arrayBuffer();
        post.httpStatus = res.status;
      } catch (err) {
        post.error = err instanceof Error ? err.message : String(err);
      }
      inboundPosts.push(post);
      return c.json({ messageIdHeader, httpStatus: post.httpStatus, error: post.error });
    })
    .get('/_inbound', (c) => c.json({ posts: inboundPosts }))
    .get('/_messages', (c) => c.json({ messages }))
    .delete('/_messages', (c) => {
      messages.length = 0;
      eventPosts.length = 0;
      inboundPosts.length = 0;
      return c.body(null, 204);
    });
}
