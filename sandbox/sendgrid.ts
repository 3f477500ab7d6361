/**
 * SendGrid v3 Mail Send emulator: same path, auth and error shapes as api.sendgrid.com for what the official
 * SDK sends, so `@sendgrid/mail` runs unchanged against it. Messages are kept in memory for tests and demos.
 */
import { Hono } from 'hono';
import { randomUUID } from 'node:crypto';

export interface RecordedEmail {
  messageId: string;
  receivedAt: string;
  from: { email: string; name?: string };
  to: string[];
  subject: string;
  content: { type: string; value: string }[];
  customArgs: Record<string, string>;
  categories: string[];
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

export function createSendGridEmulator() {
  const messages: RecordedEmail[] = [];
  const byIdempotencyKey = new Map<string, string>();

  return new Hono()
    .post('/v3/mail/send', async (c) => {
      const auth = c.req.header('authorization') ?? '';
      if (!/^Bearer SG\.\S+$/.test(auth)) {
        return c.json(
          errors([
            { message: 'The provided authorization grant is invalid, expired, or revoked', field: null, help: null },
          ]),
          401,
        );
      }
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
      // Idempotent by the sender's key: a retried activity must not show up as a second email.
      const key = customArgs.idempotency_key;
      const existing = key ? byIdempotencyKey.get(key) : undefined;
      if (existing) {
        c.header('X-Message-Id', existing);
        return c.body(null, 202);
      }
      const messageId = randomUUID().replaceAll('-', '').slice(0, 22);
      const personalizations = mail.personalizations as { to: { email: string }[]; subject?: string }[];
      messages.push({
        messageId,
        receivedAt: new Date().toISOString(),
        from: mail.from as RecordedEmail['from'],
        to: personalizations.flatMap((p) => p.to.map((t) => t.email)),
        subject: typeof mail.subject === 'string' ? mail.subject : (personalizations[0]?.subject ?? ''),
        content: (mail.content as RecordedEmail['content'] | undefined) ?? [],
        customArgs,
        categories: Array.isArray(mail.categories) ? (mail.categories as string[]) : [],
        raw: mail,
      });
      if (key) byIdempotencyKey.set(key, messageId);
      c.header('X-Message-Id', messageId);
      return c.body(null, 202);
    })
    .get('/_messages', (c) => c.json({ messages }))
    .delete('/_messages', (c) => {
      messages.length = 0;
      byIdempotencyKey.clear();
      return c.body(null, 204);
    });
}
