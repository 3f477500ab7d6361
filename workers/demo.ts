import type { Hono } from 'hono';
import type { AppEnv } from '../api/context';

/**
 * Registers the sandbox receiver as a webhook endpoint of the demo organization, through the public API
 * with the demo key (the same path an external system takes), so the demo has deliveries to look at.
 */
export async function seedDemoWebhookEndpoint(app: Hono<AppEnv>, apiKey: string, receiverUrl: string) {
  const headers = { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' };
  const existing = await app.request('/v1/webhook-endpoints', { headers });
  if (!existing.ok)
    throw new Error(`Could not list demo webhook endpoints: ${existing.status} ${await existing.text()}`);
  const body = (await existing.json()) as unknown;
  const list = Array.isArray(body) ? body : ((body as { endpoints?: unknown[] }).endpoints ?? []);
  if (list.length > 0) return;
  const types = (await (await app.request('/v1/webhook-event-types', { headers })).json()) as unknown;
  const eventTypes = (Array.isArray(types) ? types : ((types as { eventTypes?: unknown[] }).eventTypes ?? []))
    .map((t) => (typeof t === 'string' ? t : (t as { type: string }).type))
    .filter((t) => t !== 'webhook.test');
  const created = await app.request('/v1/webhook-endpoints', {
    method: 'POST',
    headers,
    body: JSON.stringify({ url: receiverUrl, description: 'Sandbox receiver (demo)', eventTypes }),
  });
  if (!created.ok)
    throw new Error(`Could not create the demo webhook endpoint: ${created.status} ${await created.text()}`);
}
