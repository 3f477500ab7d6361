/**
 * A webhook receiver for demos and tests: records every request exactly as received (headers + raw body),
 * can be told to fail or stall the next requests, and verifies Standard Webhooks signatures when it knows
 * the endpoint's secret, the way a customer's receiver would.
 */
import { Hono } from 'hono';
import { Webhook } from 'standardwebhooks';
import { z } from 'zod';

export interface ReceivedRequest {
  seq: number;
  receivedAt: string;
  method: string;
  headers: Record<string, string>;
  body: string;
  /** What the receiver answered. */
  status: number;
  /** null when no secret is configured; otherwise whether the signature verified. */
  verified: boolean | null;
  verificationError: string | null;
}

interface ReceiverState {
  failNext: number;
  failStatus: number;
  delayMs: number;
  secret: string | null;
  requests: ReceivedRequest[];
}

const configSchema = z.strictObject({
  failNext: z.number().int().min(0).optional(),
  status: z.number().int().min(100).max(599).optional(),
  delayMs: z.number().int().min(0).max(120_000).optional(),
  secret: z.string().startsWith('whsec_').nullable().optional(),
});

export type ReceiverConfig = z.infer<typeof configSchema>;

const NAME = /^[A-Za-z0-9_.-]{1,100}$/;

export function createWebhookReceiver() {
  const receivers = new Map<string, ReceiverState>();
  const stateOf = (name: string): ReceiverState => {
    let state = receivers.get(name);
    if (!state) {
      state = { failNext: 0, failStatus: 500, delayMs: 0, secret: null, requests: [] };
      receivers.set(name, state);
    }
    return state;
  };

  return new Hono()
    .post('/:name/_config', async (c) => {
      const name = c.req.param('name');
      if (!NAME.test(name)) return c.json({ error: 'invalid receiver name' }, 400);
      const parsed = configSchema.safeParse(await c.req.json().catch(() => null));
      if (!parsed.success) return c.json({ error: 'invalid config', issues: parsed.error.issues }, 400);
      const state = stateOf(name);
      const config = parsed.data;
      if (config.failNext !== undefined) state.failNext = config.failNext;
      if (config.status !== undefined) state.failStatus = config.status;
      if (config.delayMs !== undefined) state.delayMs = config.delayMs;
      if (config.secret !== undefined) state.secret = config.secret;
      return c.json({
        name,
        failNext: state.failNext,
        status: state.failStatus,
        delayMs: state.delayMs,
        verifying: state.secret !== null,
      });
    })
    .get('/:name/_requests', (c) => c.json({ requests: receivers.get(c.req.param('name'))?.requests ?? [] }))
    .delete('/:name/_requests', (c) => {
      receivers.get(c.req.param('name'))?.requests.splice(0);
      return c.body(null, 204);
    })
    .post('/:name', async (c) => {
      const name = c.req.param('name');
      if (!NAME.test(name)) return c.json({ error: 'invalid receiver name' }, 400);
      const state = stateOf(name);
      const body = await c.req.text();
      const headers: Record<string, string> = {};
      c.req.raw.headers.forEach((value, key) => (headers[key] = value));
      let verified: boolean | null = null;
      let verificationError: string | null = null;
      if (state.secret) {
        try {
          new Webhook(state.secret).verify(body, headers);
          verified = true;
        } catch (err) {
          verified = false;
          verificationError = err instanceof Error ? err.message : String(err);
        }
      }
      const failing = state.failNext > 0;
      if (failing) state.failNext -= 1;
      const status = failing ? state.failStatus : 200;
      state.requests.push({
        seq: state.requests.length + 1,
        receivedAt: new Date().toISOString(),
        method: c.req.method,
        headers,
        body,
        status,
        verified,
        verificationError,
      });
      if (state.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, state.delayMs));
      return c.json(failing ? { ok: false, error: 'configured to fail' } : { ok: true }, status as 200);
    });
}
