/**
 * Outbound webhooks per the Standard Webhooks spec (https://www.standardwebhooks.com): the HTTP client that
 * posts a signed body, and the signing itself (via the `standardwebhooks` reference library, so receivers can
 * verify with any off-the-shelf verifier: `standardwebhooks`, `svix`, ...).
 */
import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

export interface WebhookRequest {
  url: string;
  body: string;
  headers: Record<string, string>;
  /** Defaults to the sender's timeout. */
  timeoutMs?: number;
}

export interface WebhookResponse {
  status: number;
  /** The first 2 KB of the receiver's answer, for debugging. */
  body: string;
  durationMs: number;
}

/** One HTTP attempt. Any status is returned (2xx = success); network errors and timeouts throw. */
export interface WebhookSender {
  send(request: WebhookRequest): Promise<WebhookResponse>;
}

export const RESPONSE_BODY_LIMIT = 2048;

export function isSuccessStatus(status: number): boolean {
  return status >= 200 && status < 300;
}

export interface FetchWebhookSenderOptions {
  /** Per-request timeout unless the request sets its own; config.webhooks.requestTimeout (15 s) in production. */
  timeoutMs?: number;
  userAgent?: string;
}

export function createFetchWebhookSender(options: FetchWebhookSenderOptions = {}): WebhookSender {
  const userAgent = options.userAgent ?? 'P11-Console-Webhooks/1.0';
  const defaultTimeoutMs = options.timeoutMs ?? 15_000;
  return {
    async send(request) {
      const started = performance.now();
      const response = await fetch(request.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': userAgent, ...request.headers },
        body: request.body,
        // A redirect is an answer, not a success: following it would post signed data somewhere unregistered.
        redirect: 'manual',
        signal: AbortSignal.timeout(request.timeoutMs ?? defaultTimeoutMs),
      });
      const body = await readPrefix(response, RESPONSE_BODY_LIMIT);
      return { status: response.status, body, durationMs: Math.round(performance.now() - started) };
    },
  };
}

/** Reads at most `limit` bytes and drops the rest, so a receiver answering megabytes cannot fill our memory. */
async function readPrefix(response: Response, limit: number): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < limit) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  const bytes = Buffer.concat(chunks).subarray(0, limit);
  return new TextDecoder('utf-8', { fatal: false }).decode(bytes);
}

/** A new signing secret: `whsec_` + base64 of 32 random bytes (the spec allows 24-64). */
export function generateWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

export interface SignInput {
  /** The event id: stays the same across attempts and replays so receivers can deduplicate. */
  id: string;
  timestamp: Date;
  body: string;
  /** The current secret first; during a rotation window also the previous one. */
  secrets: string[];
}

/** The three Standard Webhooks headers; one space-separated `v1,` signature per secret. */
export function signWebhook(input: SignInput): Record<string, string> {
  if (input.secrets.length === 0) throw new Error('signWebhook: at least one secret is required');
  const signatures = input.secrets.map((secret) => new Webhook(secret).sign(input.id, input.timestamp, input.body));
  return {
    'webhook-id': input.id,
    'webhook-timestamp': String(Math.floor(input.timestamp.getTime() / 1000)),
    'webhook-signature': signatures.join(' '),
  };
}
