import { boolean, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { organizations, properties } from './organizations';
import { factLeads } from './leads';
import { orgIdColumn, tenantIsolation } from './tenancy';
import type { SequenceDefinition } from '../../lib/tourspark-definition';

/**
 * A property's follow-up sequence (seed 000 4.2: steps with delay, action and template; exit conditions), with
 * its message templates, quiet hours and scheduler link. Validated by lib/tourspark-definition.ts on every
 * write. A property without a row follows DEFAULT_SEQUENCE. A running sequence keeps the definition it started
 * with (snapshotted into its workflow input), so editing never changes a lead's sequence half-way.
 */
export const toursparkSequences = pgTable(
  'tourspark_sequences',
  {
    orgId: orgIdColumn().references(() => organizations.id, { onDelete: 'cascade' }),
    propertyId: uuid('property_id')
      .notNull()
      .references(() => properties.id, { onDelete: 'cascade' }),
    /** New leads of this property get no sequence while false (they are still scored and published). */
    enabled: boolean('enabled').notNull().default(true),
    definition: jsonb('definition').$type<SequenceDefinition>().notNull(),
    updatedBy: text('updated_by').notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.propertyId] }), tenantIsolation()],
);

export const LEAD_WORKFLOW_STATUSES = ['active', 'paused', 'completed', 'converted', 'exited'] as const;
export type LeadWorkflowStatus = (typeof LEAD_WORKFLOW_STATUSES)[number];

export const SEQUENCE_EXIT_REASONS = ['tour_booked', 'reply_received', 'opt_out', 'completed', 'cancelled'] as const;
export type SequenceExitReason = (typeof SEQUENCE_EXIT_REASONS)[number];

/**
 * Seed 000 4.1's state table, kept as a mirror of each lead's sequence workflow (`tourspark/lead/<leadId>`)
 * for SQL, BI and the admin UI's lists. The workflow is the source of truth; it writes this row after every
 * transition (an activity), so the row may trail the workflow by one step, never lead it.
 */
export const leadWorkflows = pgTable(
  'lead_workflows',
  {
    leadId: uuid('lead_id')
      .primaryKey()
      .references(() => factLeads.id, { onDelete: 'cascade' }),
    orgId: orgIdColumn().references(() => organizations.id, { onDelete: 'cascade' }),
    propertyId: uuid('property_id').references(() => properties.id, { onDelete: 'set null' }),
    workflowId: text('workflow_id').notNull(),
    /** Steps sent so far (0 before the first); the seed's `current_step`. */
    currentStep: integer('current_step').notNull().default(0),
    totalSteps: integer('total_steps').notNull(),
    status: text('status', { enum: LEAD_WORKFLOW_STATUSES }).notNull().default('active'),
    exitReason: text('exit_reason', { enum: SEQUENCE_EXIT_REASONS }),
    /** Why automation is paused: 'staff_reply', 'operator', ... */
    pausedReason: text('paused_reason'),
    /** A reply the automation could not answer is waiting for staff. */
    needsStaff: boolean('needs_staff').notNull().default(false),
    /** When the next step is due (after its delay, or after quiet hours); null when none is waiting. */
    nextActionAt: timestamp('next_action_at', { withTimezone: true }),
    lastActionAt: timestamp('last_action_at', { withTimezone: true }),
    startedAt: timestamp('started_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('lead_workflows_org_status_idx').on(t.orgId, t.status), tenantIsolation()],
);

export const MESSAGE_CHANNELS = ['sms', 'email'] as const;
export type MessageChannel = (typeof MESSAGE_CHANNELS)[number];
export const MESSAGE_DIRECTIONS = ['outbound', 'inbound'] as const;
export type MessageDirection = (typeof MESSAGE_DIRECTIONS)[number];

/**
 * Outbound: 'sending' is written before the provider is called and is what makes a send exactly-once (a retry
 * that finds 'sending' asks the provider before sending again); 'sent' once the provider accepted it; then the
 * provider's callbacks move it on (delivered, undelivered, failed, bounced, ...). Inbound: 'received'.
 */
export const MESSAGE_STATUSES = [
  'sending',
  'sent',
  'delivered',
  'undelivered',
  'failed',
  'bounced',
  'dropped',
  'opened',
  'received',
  'skipped',
] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

export const REPLY_INTENTS = ['book_tour', 'question', 'unsubscribe', 'resubscribe', 'other'] as const;
export type ReplyIntent = (typeof REPLY_INTENTS)[number];

/** Who or what wrote an outbound message. */
export const MESSAGE_AUTHORS = ['sequence', 'auto_reply', 'staff', 'system'] as const;
export type MessageAuthor = (typeof MESSAGE_AUTHORS)[number];

/**
 * Every SMS and email exchanged with a lead: the timeline of the lead page. Addresses are not stored here
 * (they are the lead's encrypted contact); bodies are, as staff read them.
 */
export const leadMessages = pgTable(
  'lead_messages',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orgId: orgIdColumn().references(() => organizations.id, { onDelete: 'cascade' }),
    leadId: uuid('lead_id')
      .notNull()
      .references(() => factLeads.id, { onDelete: 'cascade' }),
    direction: text('direction', { enum: MESSAGE_DIRECTIONS }).notNull(),
    channel: text('channel', { enum: MESSAGE_CHANNELS }).notNull(),
    author: text('author', { enum: MESSAGE_AUTHORS }),
    /**
     * Outbound: `<workflowId>/<what>` (e.g. `tourspark/lead/<id>/step/2`): one row, and one provider message,
     * per key, however often the activity runs. Inbound: `<provider>/<provider message id>`.
     */
    idempotencyKey: text('idempotency_key').notNull(),
    /** Twilio's Message SID or SendGrid's message id. */
    providerMessageId: text('provider_message_id'),
    status: text('status', { enum: MESSAGE_STATUSES }).notNull(),
    /** Provider error code or our reason (opted_out, quiet_hours, no_phone, ...). */
    statusDetail: text('status_detail'),
    /** The sequence step that sent it, when a step did. */
    stepId: integer('step_id'),
    template: text('template'),
    subject: text('subject'),
    body: text('body').notNull(),
    /** Inbound replies: what the classifier made of them, and by which classifier ('llm' or 'local'). */
    intent: text('intent', { enum: REPLY_INTENTS }),
    classifier: text('classifier'),
    /** When the send was first attempted (reconciliation looks for provider records since then). */
    attemptedAt: timestamp('attempted_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    statusUpdatedAt: timestamp('status_updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('lead_messages_idempotency_unique').on(t.orgId, t.idempotencyKey),
    index('lead_messages_lead_idx').on(t.leadId, t.createdAt),
    index('lead_messages_provider_idx').on(t.providerMessageId),
    tenantIsolation(),
  ],
);

/**
 * Opt-outs per address, not per lead: STOP from a phone number stops every sequence to that number in the
 * organization (carriers and Twilio treat it so), and a new inquiry from it does not re-subscribe it. START or
 * UNSTOP deletes the row. `address_hash` is the blind index used on fact_leads.
 */
export const toursparkOptOuts = pgTable(
  'tourspark_opt_outs',
  {
    orgId: orgIdColumn().references(() => organizations.id, { onDelete: 'cascade' }),
    channel: text('channel', { enum: MESSAGE_CHANNELS }).notNull(),
    addressHash: text('address_hash').notNull(),
    /** The inbound keyword or event that opted the address out: STOP, UNSUBSCRIBE, sendgrid:unsubscribe, staff. */
    source: text('source').notNull(),
    /** The lead whose reply (or page) opted the address out, for the timeline. */
    leadId: uuid('lead_id'),
    optedOutAt: timestamp('opted_out_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.channel, t.addressHash] }), tenantIsolation()],
);

export type ToursparkSequence = typeof toursparkSequences.$inferSelect;
export type LeadWorkflow = typeof leadWorkflows.$inferSelect;
export type LeadMessage = typeof leadMessages.$inferSelect;
export type ToursparkOptOut = typeof toursparkOptOuts.$inferSelect;
