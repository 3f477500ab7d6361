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
  const { endpoints } = (await existing.json()) as { endpoints: unknown[] };
  if (endpoints.length > 0) return;
  const types = await app.request('/v1/webhook-event-types', { headers });
  const { eventTypes: catalog } = (await types.json()) as { eventTypes: { type: string }[] };
  // Everything an integration would subscribe to; test events are sent to one endpoint on request.
  const eventTypes = catalog.map((t) => t.type).filter((t) => t !== 'webhook.test');
  const created = await app.request('/v1/webhook-endpoints', {
    method: 'POST',
    headers,
    body: JSON.stringify({ url: receiverUrl, description: 'Sandbox receiver (demo)', eventTypes }),
  });
  if (!created.ok)
    throw new Error(`Could not create the demo webhook endpoint: ${created.status} ${await created.text()}`);
}
