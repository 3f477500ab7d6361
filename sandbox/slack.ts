/**
 * Slack incoming-webhook emulator: `POST /services/T…/B…/<secret>` takes a JSON message (or Slack's older
 * form-encoded `payload=`) and answers `ok` as text/plain, as hooks.slack.com does; a message without text or
 * blocks gets Slack's 400 `no_text`, a revoked webhook 404 `no_service`.
 * `GET /_messages?path=` lists what arrived (tests, the demo); `POST /_config {failNext}` makes the next posts
 * answer 500; `POST /_config {revoke: path}` revokes a webhook. State belongs to the app instance.
 */
import { Hono } from 'hono';

export interface SlackDelivery {
  path: string;
  body: Record<string, unknown>;
  at: string;
}

export function createSlackEmulator() {
  const messages: SlackDelivery[] = [];
  const revoked = new Set<string>();
  let failNext = 0;
  return new Hono()
    .post('/services/:team/:bot/:secret', async (c) => {
      const path = `/services/${c.req.param('team')}/${c.req.param('bot')}/${c.req.param('secret')}`;
      if (revoked.has(path)) return c.text('no_service', 404);
      let body: unknown = null;
      const type = c.req.header('content-type') ?? '';
      if (type.includes('application/x-www-form-urlencoded')) {
        const payload = new URLSearchParams(await c.req.text()).get('payload');
        try {
          body = payload ? JSON.parse(payload) : null;
        } catch {
          body = null;
        }
      } else {
        body = await c.req.json().catch(() => null);
      }
      if (!body || typeof body !== 'object' || Array.isArray(body)) return c.text('invalid_payload', 400);
      const message = body as Record<string, unknown>;
      const hasText = typeof message.text === 'string' && message.text.trim() !== '';
      if (!hasText && !(Array.isArray(message.blocks) && message.blocks.length > 0)) return c.text('no_text', 400);
      if (failNext > 0) {
        failNext--;
        return c.text('internal_error', 500);
      }
      messages.push({ path, body: message, at: new Date().toISOString() });
      return c.text('ok');
    })
    .get('/_messages', (c) => {
      const path = c.req.query('path');
      return c.json({ messages: messages.filter((m) => !path || m.path === path) });
    })
    .post('/_config', async (c) => {
      const body = (await c.req.json().catch(() => ({}))) as {
        failNext?: unknown;
        revoke?: unknown;
        restore?: unknown;
      };
      if (body.failNext !== undefined) {
        const n = Number(body.failNext);
        if (!Number.isInteger(n) || n < 0) return c.json({ error: 'failNext: a whole number ≥ 0' }, 400);
        failNext = n;
      }
      for (const [field, apply] of [
        ['revoke', (p: string) => revoked.add(p)],
        ['restore', (p: string) => revoked.delete(p)],
      ] as const) {
        const value = body[field];
        if (value === undefined) continue;
        if (typeof value !== 'string' || !value.startsWith('/services/')) {
          return c.json({ error: `${field}: a webhook path like /services/T…/B…/secret` }, 400);
        }
        apply(value);
      }
      return c.json({ failNext, revoked: [...revoked] });
    });
}
