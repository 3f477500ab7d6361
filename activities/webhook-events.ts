/**
 * The catalog of webhook event types: what receivers can subscribe to and the shape of each event's `data`.
 * Pure (zod only) so the API, the activities and tests share one definition; workflows see it as types only.
 */
import { z } from 'zod';

const uuid = z.uuid();

export const WEBHOOK_EVENT_CATALOG = {
  'lead.created': {
    description: 'A lead was captured (website form, chat, CRM import).',
    data: z.strictObject({
      leadId: uuid,
      propertyId: uuid.nullable(),
      source: z.string().min(1).max(100),
      firstName: z.string().max(200).nullable(),
      lastName: z.string().max(200).nullable(),
      email: z.email().nullable(),
      phone: z.string().max(40).nullable(),
    }),
  },
  'workflow.failed': {
    description: 'A workflow run of this organization failed; links to it in the Temporal Web UI by id.',
    data: z.strictObject({
      workflowId: z.string().min(1),
      runId: z.string().min(1),
      workflowType: z.string().min(1),
      message: z.string(),
    }),
  },
  'webhook.test': {
    description: 'Sent on request to one endpoint to check that it receives and verifies deliveries.',
    data: z.strictObject({
      message: z.string(),
      endpointId: uuid,
    }),
  },
} as const satisfies Record<string, { description: string; data: z.ZodType }>;

export type WebhookEventType = keyof typeof WEBHOOK_EVENT_CATALOG;
export type WebhookEventData<T extends WebhookEventType = WebhookEventType> = z.infer<
  (typeof WEBHOOK_EVENT_CATALOG)[T]['data']
>;

export const WEBHOOK_EVENT_TYPES = Object.keys(WEBHOOK_EVENT_CATALOG) as [WebhookEventType, ...WebhookEventType[]];

/** Event ids are chosen by publishers (derived from their idempotency key) so a retried publish is one event. */
export const WEBHOOK_EVENT_ID = /^evt_[A-Za-z0-9_-]{6,64}$/;

/** An event as a publisher hands it over; `createdAt` is ISO-8601 and fixed by the publisher (retries keep it). */
export type WebhookEventInput = {
  [T in WebhookEventType]: { id: string; type: T; data: WebhookEventData<T>; createdAt: string };
}[WebhookEventType];

/** The JSON body receivers get; signed as sent. */
export interface WebhookPayload {
  id: string;
  type: WebhookEventType;
  createdAt: string;
  orgId: string;
  data: Record<string, unknown>;
}

export function isWebhookEventType(value: string): value is WebhookEventType {
  return Object.hasOwn(WEBHOOK_EVENT_CATALOG, value);
}

/** Validates an event's data against its type's schema; throws a ZodError (or Error for an unknown type). */
export function buildWebhookPayload(orgId: string, event: WebhookEventInput): WebhookPayload {
  if (!isWebhookEventType(event.type)) throw new Error(`Unknown webhook event type "${String(event.type)}"`);
  if (!WEBHOOK_EVENT_ID.test(event.id)) throw new Error(`Invalid webhook event id "${event.id}"`);
  const createdAt = new Date(event.createdAt);
  if (Number.isNaN(createdAt.getTime())) throw new Error(`Invalid event createdAt "${event.createdAt}"`);
  const data = WEBHOOK_EVENT_CATALOG[event.type].data.parse(event.data) as Record<string, unknown>;
  return { id: event.id, type: event.type, createdAt: createdAt.toISOString(), orgId, data };
}

/** The catalog as the API lists it: each type with a JSON Schema of its data. */
export function describeWebhookEventTypes() {
  return WEBHOOK_EVENT_TYPES.map((type) => ({
    type,
    description: WEBHOOK_EVENT_CATALOG[type].description,
    dataSchema: z.toJSONSchema(WEBHOOK_EVENT_CATALOG[type].data),
  }));
}
