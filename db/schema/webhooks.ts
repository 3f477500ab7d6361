import { sql } from 'drizzle-orm';
import { boolean, index, integer, jsonb, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { organizations } from './organizations';
import { orgIdColumn, tenantIsolation } from './tenancy';

export const WEBHOOK_ENDPOINT_STATUSES = ['active', 'disabled'] as const;

/** A receiver registered by an organization. Secrets are encrypted (we must read them back to sign). */
export const webhookEndpoints = pgTable(
  'webhook_endpoints',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orgId: orgIdColumn().references(() => organizations.id, { onDelete: 'cascade' }),
    url: text('url').notNull(),
    description: text('description').notNull().default(''),
    /** Event types delivered to this endpoint; `webhook.test` is always delivered when asked for. */
    eventTypes: text('event_types').array().$type<string[]>().notNull(),
    secretCiphertext: text('secret_ciphertext').notNull(),
    /** After a rotation the previous secret also signs deliveries until it expires (24 h). */
    previousSecretCiphertext: text('previous_secret_ciphertext'),
    previousSecretExpiresAt: timestamp('previous_secret_expires_at', { withTimezone: true }),
    status: text('status', { enum: WEBHOOK_ENDPOINT_STATUSES }).notNull().default('active'),
    disabledAt: timestamp('disabled_at', { withTimezone: true }),
    disabledReason: text('disabled_reason'),
    /** Start of the current run of failed attempts; null after any success. */
    failingSince: timestamp('failing_since', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('webhook_endpoints_org_idx').on(t.orgId), tenantIsolation()],
);

/** Something that happened in an organization; delivered to every subscribed endpoint. */
export const webhookEvents = pgTable(
  'webhook_events',
  {
    /** "evt_…", derived from the publisher's idempotency key so a retried publish is the same event. */
    id: text('id').primaryKey(),
    orgId: orgIdColumn().references(() => organizations.id, { onDelete: 'cascade' }),
    type: text('type').notNull(),
    /** The exact JSON body sent to receivers. */
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('webhook_events_org_created_idx').on(t.orgId, t.createdAt), tenantIsolation()],
);

export const WEBHOOK_DELIVERY_STATUSES = ['pending', 'succeeded', 'failed', 'cancelled'] as const;
export type WebhookDeliveryStatus = (typeof WEBHOOK_DELIVERY_STATUSES)[number];

/** One event to one endpoint, driven by one webhook-delivery workflow. A replay is a new delivery. */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orgId: orgIdColumn().references(() => organizations.id, { onDelete: 'cascade' }),
    endpointId: uuid('endpoint_id')
      .notNull()
      .references(() => webhookEndpoints.id, { onDelete: 'cascade' }),
    eventId: text('event_id')
      .notNull()
      .references(() => webhookEvents.id, { onDelete: 'cascade' }),
    replayOfDeliveryId: uuid('replay_of_delivery_id'),
    status: text('status', { enum: WEBHOOK_DELIVERY_STATUSES }).notNull().default('pending'),
    attemptCount: integer('attempt_count').notNull().default(0),
    lastResponseStatus: integer('last_response_status'),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }),
    workflowId: text('workflow_id').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    completedAt: timestamp('completed_at', { withTimezone: true }),
  },
  (t) => [
    // The first delivery of an event to an endpoint is unique, so a retried fan-out adds nothing.
    uniqueIndex('webhook_deliveries_first_unique')
      .on(t.eventId, t.endpointId)
      .where(sql`replay_of_delivery_id is null`),
    index('webhook_deliveries_org_created_idx').on(t.orgId, t.createdAt),
    index('webhook_deliveries_endpoint_idx').on(t.endpointId),
    tenantIsolation(),
  ],
);

/** Each HTTP attempt of a delivery, as the receiver answered it. */
export const webhookAttempts = pgTable(
  'webhook_attempts',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orgId: orgIdColumn().references(() => organizations.id, { onDelete: 'cascade' }),
    deliveryId: uuid('delivery_id')
      .notNull()
      .references(() => webhookDeliveries.id, { onDelete: 'cascade' }),
    attemptNumber: integer('attempt_number').notNull(),
    requestedAt: timestamp('requested_at', { withTimezone: true }).notNull(),
    durationMs: integer('duration_ms').notNull(),
    responseStatus: integer('response_status'),
    /** First 2 KB of the receiver's answer, for debugging. */
    responseBody: text('response_body'),
    error: text('error'),
    succeeded: boolean('succeeded').notNull(),
  },
  (t) => [uniqueIndex('webhook_attempts_delivery_attempt_unique').on(t.deliveryId, t.attemptNumber), tenantIsolation()],
);

export type WebhookEndpoint = typeof webhookEndpoints.$inferSelect;
export type WebhookEvent = typeof webhookEvents.$inferSelect;
export type WebhookDelivery = typeof webhookDeliveries.$inferSelect;
export type WebhookAttempt = typeof webhookAttempts.$inferSelect;
