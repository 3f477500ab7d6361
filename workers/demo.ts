import type { Hono } from 'hono';
import { DateTime } from 'luxon';
import type { AppEnv } from '../api/context';
import { SANDBOX_ACCOUNTS, SANDBOX_CREDENTIALS } from '../sandbox/ad-world';

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

/**
 * Connects the demo organization's Meta ad account, Google Ads customer and GA4 property (the sandbox
 * emulators' accounts and credentials) through the public API, with campaign rules mapping campaigns to the two
 * demo communities and schedules on, then starts a 90-day backfill of each, so the dashboard has data right after
 * `npm start`. Does nothing once the organization has connections (restarts keep what is there).
 */
export async function seedDemoDataLake(
  app: Hono<AppEnv>,
  apiKey: string,
  properties: { reserveId: string; harborId: string },
  today: Date = new Date(),
) {
  const headers = { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' };
  const existing = await app.request('/v1/data-lake/connections', { headers });
  if (!existing.ok) throw new Error(`Could not list demo connections: ${existing.status} ${await existing.text()}`);
  const { connections } = (await existing.json()) as { connections: unknown[] };
  if (connections.length > 0) return;

  const rules = [
    { pattern: 'The Reserve at Sandpoint*', propertyId: properties.reserveId },
    { pattern: 'Harbor View Lofts*', propertyId: properties.harborId },
  ];
  const demoConnections = [
    {
      channel: 'meta',
      name: 'Sandpoint Living (Meta)',
      accountId: SANDBOX_ACCOUNTS.meta[0],
      credentials: SANDBOX_CREDENTIALS.meta,
      campaignRules: rules,
    },
    {
      channel: 'google_ads',
      name: 'Sandpoint Living (Google Ads)',
      accountId: SANDBOX_ACCOUNTS.google_ads[0],
      credentials: SANDBOX_CREDENTIALS.google_ads,
      campaignRules: rules,
    },
    {
      channel: 'ga4',
      name: 'reserve-sandpoint.example (GA4)',
      accountId: SANDBOX_ACCOUNTS.ga4[0],
      credentials: SANDBOX_CREDENTIALS.ga4,
      defaultPropertyId: properties.reserveId,
    },
  ];
  // 90 days ending yesterday, in the demo communities' timezone (the backfill's end defaults to yesterday).
  const start = DateTime.fromJSDate(today).setZone(DEMO_TIMEZONE).minus({ days: 90 }).toISODate()!;
  for (const connection of demoConnections) {
    const created = await app.request('/v1/data-lake/connections', {
      method: 'POST',
      headers,
      body: JSON.stringify({ ...connection, timezone: DEMO_TIMEZONE, schedulesEnabled: true }),
    });
    if (!created.ok) {
      throw new Error(
        `Could not create the demo ${connection.channel} connection: ${created.status} ${await created.text()}`,
      );
    }
    const { connection: view } = (await created.json()) as { connection: { id: string } };
    const backfill = await app.request(`/v1/data-lake/connections/${view.id}/backfill`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ start }),
    });
    if (!backfill.ok) {
      throw new Error(
        `Could not start the demo ${connection.channel} backfill: ${backfill.status} ${await backfill.text()}`,
      );
    }
    // Today so far, as the hourly schedule would (its first run may be up to an hour away).
    const today = await app.request(`/v1/data-lake/connections/${view.id}/sync`, {
      method: 'POST',
      headers,
      body: '{}',
    });
    if (!today.ok) {
      throw new Error(`Could not start the demo ${connection.channel} sync: ${today.status} ${await today.text()}`);
    }
  }
}

const DEMO_TIMEZONE = 'America/Los_Angeles';
