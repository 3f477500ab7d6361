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
   * Derived from what caused the email (e.g. endpoint id + disabledAt), so a retried activity sends one
   * email: carried as a custom arg the emulator (and our event webhooks) can dedupe on.
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
  /** Unset: talk to the sandbox emulator at `<sandboxUrl>/sendgrid` with its sandbox key. */
  apiKey: string | undefined;
  sandboxUrl: string;
  from: string;
  timeoutMs?: number;
}

/** The key the sandbox emulator accepts (SendGrid keys start with "SG."). */
export const SANDBOX_SENDGRID_API_KEY = 'SG.sandbox.p11-console';

export function createSendGridEmailSender(options: SendGridEmailSenderOptions): EmailSender {
  // One MailService per sender rather than the SDK's module singleton, so two senders (tests, tenants) never
  // share a key or base URL.
  const mail = new MailService();
  const client = new Client();
  mail.setClient(client);
  if (options.apiKey) {
    mail.setApiKey(options.apiKey);
  } else {
    // In this order: setApiKey resets the base URL to SendGrid's own.
    mail.setApiKey(SANDBOX_SENDGRID_API_KEY);
    client.setDefaultRequest('baseUrl', `${options.sandboxUrl.replace(/\/$/, '')}/sendgrid`);
  }
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
        customArgs: { idempotency_key: message.idempotencyKey },
        ...(message.category ? { categories: [message.category] } : {}),
      });
      const header = response.headers['x-message-id'];
      return { messageId: typeof header === 'string' ? header : null };
    },
  };
}

/** "Name <address>" or a bare address, as config.email.from allows either. */
export function parseAddress(value: string): { email: string; name?: string } {
  const match = /^\s*(.*?)\s*<([^>]+)>\s*$/.exec(value);
  if (!match) return { email: value.trim() };
  return match[1] ? { name: match[1], email: match[2]!.trim() } : { email: match[2]!.trim() };
}
