/**
 * Slack incoming-webhook emulator: `POST /services/T…/B…/…` takes the JSON message and answers `ok` as Slack
 * does. `GET /_messages` lists what arrived (tests, the demo); `POST /_config {failNext}` makes the next posts fail.
 */
import { Hono } from 'hono';

export interface SlackDelivery {
  path: string;
  body: unknown;
  at: string;
}

export function createSlackEmulator() {
  const messages: SlackDelivery[] = [];
  let failNext = 0;
  return new Hono()
    .post('/services/:team/:bot/:secret', async (c) => {
      const body = await c.req.json().catch(() => null);
      if (!body || typeof (body as { text?: unknown }).text !== 'string') return c.text('invalid_payload', 400);
      if (failNext > 0) {
        failNext--;
        return c.text('internal_error', 500);
      }
      messages.push({
        path: new URL(c.req.url).pathname.replace(/^.*\/services\//, '/services/'),
        body,
        at: new Date().toISOString(),
      });
      return c.text('ok');
    })
    .get('/_messages', (c) => {
      const path = c.req.query('path');
      return c.json({ messages: messages.filter((m) => !path || m.path === path) });
    })
    .post('/_config', async (c) => {
      const body = (await c.req.json().catch(() => ({}))) as { failNext?: number };
      failNext = Math.max(0, Number(body.failNext ?? 0));
      return c.json({ failNext });
    });
}
