/**
 * TourSpark's part of `npm start` in sandbox mode: the emulated Twilio Messaging Service and SendGrid account
 * are configured the way an operator configures the real consoles, so inbound SMS, delivery callbacks, email
 * events and email replies reach this API's webhooks.
 */
import type { Hono } from 'hono';
import type { AppEnv } from '../api/context';
import type { Config } from '../config';
import { DEFAULT_SEQUENCE, type SequenceDefinitionInput } from '../lib/tourspark-definition';

export async function pointSandboxWebhooksAt(sandboxUrl: string, config: Config): Promise<void> {
  const put = async (path: string, body: unknown) => {
    const res = await fetch(`${sandboxUrl}${path}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`sandbox ${path} → ${res.status} ${await res.text()}`);
  };
  // Twilio Console → Messaging Service → Integration → "Send a webhook".
  await put('/twilio/_config', { inboundRequestUrl: `${config.publicUrl}/webhooks/twilio/sms` });
  // SendGrid → Settings → Mail Settings → Event Webhook, and Inbound Parse for the reply domain.
  await put('/sendgrid/_config', {
    eventWebhookUrl: `${config.publicUrl}/webhooks/sendgrid/events`,
    inboundParseUrl: `${config.publicUrl}/webhooks/sendgrid/inbound/${config.email.sendgridInboundSecret}`,
  });
}

/**
 * A demo sequence on The Reserve that moves in minutes instead of days (SMS now, email after 2 minutes, SMS
 * after 5), so a new user sees a sequence progress; Harbor View Lofts keeps the default (5 minutes, 24 h, 48 h).
 */
export const DEMO_FAST_SEQUENCE: SequenceDefinitionInput = {
  ...DEFAULT_SEQUENCE,
  steps: [
    { id: 1, delay: '0s', action: 'sms', template: 'intro_sms' },
    { id: 2, delay: '2m', action: 'email', template: 'amenities_email' },
    { id: 3, delay: '5m', action: 'sms', template: 'tour_invite' },
  ],
  scheduler_url: 'https://tours.p11.local/the-reserve-at-sandpoint',
};

/** Three leads from three kinds of source, as external systems would send them (idempotent by externalId). */
const DEMO_LEADS = [
  {
    source: 'website',
    externalId: 'demo-web-1001',
    name: 'Jordan Ellis',
    email: 'jordan.ellis@northwind-logistics.com',
    phone: '+1 (208) 555-0142',
    message: 'Is the two-bedroom with the lake view still available in March?',
    unitType: '2BR',
  },
  {
    source: 'zillow',
    externalId: 'zl-7781',
    name: 'Priya Raman',
    email: 'priya.raman@gmail.com',
    phone: '208-555-0187',
    unitType: '1BR',
  },
  {
    source: 'google_ads',
    externalId: 'gclid-demo-3',
    name: 'Marcus Lee',
    email: null,
    phone: '+12085550163',
    unitType: 'Studio',
  },
];

export interface DemoTourSparkResult {
  leads: { id: string; workflowId: string; score: number | null; bucket: string | null }[];
}

/** Through the API, as a new user would: the fast sequence on The Reserve, then the demo leads. */
export async function seedDemoTourSpark(
  app: Hono<AppEnv>,
  apiKey: string,
  properties: { reserveId: string },
): Promise<DemoTourSparkResult> {
  const headers = { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' };
  const saved = await app.request(`/v1/tourspark/sequences/${properties.reserveId}`, {
    method: 'PUT',
    headers,
    body: JSON.stringify({ enabled: true, definition: DEMO_FAST_SEQUENCE }),
  });
  if (!saved.ok) throw new Error(`Could not save the demo sequence: ${saved.status} ${await saved.text()}`);
  const leads: DemoTourSparkResult['leads'] = [];
  for (const lead of DEMO_LEADS) {
    const body = Object.fromEntries(Object.entries({ ...lead, propertyId: properties.reserveId }).filter(([, v]) => v !== null));
    const res = await app.request('/v1/leads', { method: 'POST', headers, body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`Could not create demo lead ${lead.externalId}: ${res.status} ${await res.text()}`);
    leads.push((await res.json()) as DemoTourSparkResult['leads'][number]);
  }
  return { leads };
}
