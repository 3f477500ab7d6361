import { boolean, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { organizations, properties } from './organizations';
import { orgIdColumn, tenantIsolation } from './tenancy';

/**
 * ReviewFlow AI (seed 000 section 9, seed 001 6.1): reviews from Google Business Profile (notifications and a
 * 6-hourly poll) and from external systems (`POST /v1/reviews`), each triaged by one workflow
 * (`review/<source>/<externalId>`, workflows/reviewflow-triage.ts). The workflow is the source of truth of a
 * review's triage; `reviews.status` mirrors it for lists, filters and the report.
 */

export const REVIEW_SENTIMENTS = ['positive', 'neutral', 'negative'] as const;
export type ReviewSentiment = (typeof REVIEW_SENTIMENTS)[number];

/** Topics the analysers tag (the LLM is held to this list so filters and the report stay meaningful). */
export const REVIEW_TOPICS = [
  'maintenance',
  'cleanliness',
  'noise',
  'staff',
  'management',
  'amenities',
  'parking',
  'pests',
  'safety',
  'mold',
  'pricing',
  'move_in',
  'move_out',
  'location',
  'communication',
  'package_handling',
  'pets',
] as const;
export type ReviewTopic = (typeof REVIEW_TOPICS)[number];

/**
 * - `triaging`: being analysed and drafted;
 * - `awaiting_approval`: a draft waits for staff (every neutral and negative review, positives without auto-reply);
 * - `scheduled`: a positive review's reply will auto-post when its delay ends (staff may still approve, edit,
 *   reject or regenerate it first);
 * - `posting`: the reply is being posted (or its uncertain outcome reconciled);
 * - `replied`: a reply is at the source; `rejected`: staff chose not to reply; `expired`: nobody decided in time
 *   (a negative's ticket stays open); `not_replyable`: the source takes no replies (an external system's review
 *   without a reply channel): triaged, drafted for staff to use elsewhere, never posted.
 */
export const REVIEW_STATUSES = [
  'triaging',
  'awaiting_approval',
  'scheduled',
  'posting',
  'replied',
  'rejected',
  'expired',
  'not_replyable',
] as const;
export type ReviewStatus = (typeof REVIEW_STATUSES)[number];

/**
 * A Google Business Profile location an organization connected, for one property. Credentials are an encrypted
 * JSON object `{ clientId, clientSecret, refreshToken }` (OAuth2, scope business.manage); never returned by the
 * API. A Temporal Schedule per connection polls it every 6 hours (`reviewflow/poll/<connectionId>`).
 */
export const reviewConnections = pgTable(
  'review_connections',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orgId: orgIdColumn().references(() => organizations.id, { onDelete: 'cascade' }),
    propertyId: uuid('property_id')
      .notNull()
      .references(() => properties.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    /** Business Profile account id (digits, without `accounts/`). */
    accountId: text('account_id').notNull(),
    /** Business Profile location id (digits, without `locations/`). */
    locationId: text('location_id').notNull(),
    credentialsCiphertext: text('credentials_ciphertext').notNull(),
    /** Whether the 6-hourly polling Schedule runs (unpaused). */
    pollingEnabled: boolean('polling_enabled').notNull().default(true),
    lastPolledAt: timestamp('last_polled_at', { withTimezone: true }),
    lastPollStatus: text('last_poll_status', { enum: ['succeeded', 'failed'] }),
    lastPollError: text('last_poll_error'),
    /** Reviews the last poll found new or changed (and handed to triage). */
    lastPollChanges: integer('last_poll_changes'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    // One organization per location: notifications name only the location, so it must identify the tenant.
    uniqueIndex('review_connections_location_unique').on(t.accountId, t.locationId),
    index('review_connections_org_idx').on(t.orgId),
    tenantIsolation(),
  ],
);

/**
 * Every review, from any source, once per `(source, external_id)` in the organization. `revision` counts
 * changes of its content (text or rating): an updated review bumps it and re-triages. Reviewer names are
 * public on the review sites, so they are stored in clear.
 */
export const reviews = pgTable(
  'reviews',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orgId: orgIdColumn().references(() => organizations.id, { onDelete: 'cascade' }),
    propertyId: uuid('property_id')
      .notNull()
      .references(() => properties.id, { onDelete: 'cascade' }),
    /** Where replies are posted back to; null for reviews submitted over the API. */
    connectionId: uuid('connection_id').references(() => reviewConnections.id, { onDelete: 'set null' }),
    /** `google` for Business Profile; lower_snake_case names of other sites (`yelp`, `apartments_com`). */
    source: text('source').notNull(),
    /** The source's review id (Business Profile's reviewId). */
    externalId: text('external_id').notNull(),
    /** The source's resource name (`accounts/1/locations/2/reviews/abc`) where it has one. */
    sourceName: text('source_name'),
    reviewerName: text('reviewer_name'),
    /** 1–5; null when the source has no stars. */
    rating: integer('rating'),
    /** Null for a rating without text. */
    text: text('text'),
    revision: integer('revision').notNull().default(1),
    /** SHA-256 of the normalised rating and text: a notification or poll that changes neither is not an update. */
    contentHash: text('content_hash').notNull(),
    /** Times at the source. */
    reviewCreatedAt: timestamp('review_created_at', { withTimezone: true }).notNull(),
    reviewUpdatedAt: timestamp('review_updated_at', { withTimezone: true }).notNull(),
    status: text('status', { enum: REVIEW_STATUSES }).notNull().default('triaging'),
    sentiment: text('sentiment', { enum: REVIEW_SENTIMENTS }),
    topics: jsonb('topics').$type<ReviewTopic[]>().notNull().default([]),
    urgent: boolean('urgent').notNull().default(false),
    /** What analysed it: 'llm:<model>' or 'local:<version>'. */
    analyzer: text('analyzer'),
    workflowId: text('workflow_id').notNull(),
    /** When the pending draft must be decided (reminder and escalation times are in the workflow's status). */
    decisionDueAt: timestamp('decision_due_at', { withTimezone: true }),
    /** A positive review's auto-post time, while scheduled. */
    autoPostAt: timestamp('auto_post_at', { withTimezone: true }),
    /** The reply at the source, as last read or posted. */
    replyText: text('reply_text'),
    repliedAt: timestamp('replied_at', { withTimezone: true }),
    /** Staff email who approved it, or 'auto' for an auto-posted reply. */
    repliedBy: text('replied_by'),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('reviews_source_unique').on(t.orgId, t.source, t.externalId),
    index('reviews_org_status_idx').on(t.orgId, t.status, t.receivedAt),
    index('reviews_property_idx').on(t.propertyId, t.receivedAt),
    tenantIsolation(),
  ],
);

export const DRAFT_STATUSES = ['pending', 'superseded', 'approved', 'rejected', 'expired'] as const;
export type DraftStatus = (typeof DRAFT_STATUSES)[number];

/**
 * Reply drafts, newest last. One is `pending` at a time per review; a regenerate or a re-triage supersedes it.
 * `template_key` names the template a local draft came from, so the next draft of the property avoids it (no two
 * consecutive replies identical).
 */
export const reviewDrafts = pgTable(
  'review_drafts',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orgId: orgIdColumn().references(() => organizations.id, { onDelete: 'cascade' }),
    reviewId: uuid('review_id')
      .notNull()
      .references(() => reviews.id, { onDelete: 'cascade' }),
    /** The review revision it answers. */
    reviewRevision: integer('review_revision').notNull(),
    /** 1, 2, ... per review; the workflow's idempotency key for writing it (`<workflowId>/draft/<seq>`). */
    seq: integer('seq').notNull(),
    text: text('text').notNull(),
    /** 'llm:<model>' or 'template'. */
    generator: text('generator').notNull(),
    templateKey: text('template_key'),
    /** Staff's instruction when it came from a regenerate. */
    instruction: text('instruction'),
    status: text('status', { enum: DRAFT_STATUSES }).notNull().default('pending'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('review_drafts_seq_unique').on(t.reviewId, t.seq), tenantIsolation()],
);

export const REPLY_POST_STATUSES = ['posting', 'posted', 'failed'] as const;
export type ReplyPostStatus = (typeof REPLY_POST_STATUSES)[number];

/**
 * One row per reply the platform posts, written as `posting` before the source is called. A retry that finds
 * `posting` reads the review's reply back from the source first and posts only if it is not there: exactly one
 * reply however the post times out or the worker dies.
 */
export const reviewReplies = pgTable(
  'review_replies',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orgId: orgIdColumn().references(() => organizations.id, { onDelete: 'cascade' }),
    reviewId: uuid('review_id')
      .notNull()
      .references(() => reviews.id, { onDelete: 'cascade' }),
    /** `<workflowId>/reply/<revision>/<draftSeq>`. */
    idempotencyKey: text('idempotency_key').notNull(),
    draftId: uuid('draft_id').references(() => reviewDrafts.id, { onDelete: 'set null' }),
    text: text('text').notNull(),
    status: text('status', { enum: REPLY_POST_STATUSES }).notNull(),
    /** 'auto' or the approving staff member's email. */
    approvedBy: text('approved_by').notNull(),
    approvedAt: timestamp('approved_at', { withTimezone: true }).notNull(),
    /** The text was edited by staff before approval. */
    edited: boolean('edited').notNull().default(false),
    /** Found at the source by a read-back rather than confirmed by our own call. */
    reconciled: boolean('reconciled').notNull().default(false),
    error: text('error'),
    attemptedAt: timestamp('attempted_at', { withTimezone: true }).notNull().defaultNow(),
    postedAt: timestamp('posted_at', { withTimezone: true }),
  },
  (t) => [uniqueIndex('review_replies_idempotency_unique').on(t.orgId, t.idempotencyKey), tenantIsolation()],
);

export const TICKET_STATUSES = ['open', 'resolved'] as const;
export type TicketStatus = (typeof TICKET_STATUSES)[number];

/**
 * A negative review's ticket in the dashboard (seed 000 9.2), one per review. It outlives the reply: a posted
 * reply does not fix the leak, so staff resolve the ticket themselves; an expired approval leaves it open.
 */
export const reviewTickets = pgTable(
  'review_tickets',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orgId: orgIdColumn().references(() => organizations.id, { onDelete: 'cascade' }),
    reviewId: uuid('review_id')
      .notNull()
      .references(() => reviews.id, { onDelete: 'cascade' }),
    propertyId: uuid('property_id')
      .notNull()
      .references(() => properties.id, { onDelete: 'cascade' }),
    status: text('status', { enum: TICKET_STATUSES }).notNull().default('open'),
    priority: text('priority', { enum: ['urgent', 'normal'] }).notNull(),
    title: text('title').notNull(),
    resolvedAt: timestamp('resolved_at', { withTimezone: true }),
    resolvedBy: text('resolved_by'),
    resolution: text('resolution'),
    openedAt: timestamp('opened_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('review_tickets_review_unique').on(t.reviewId),
    index('review_tickets_org_status_idx').on(t.orgId, t.status),
    tenantIsolation(),
  ],
);

export const REVIEW_EVENT_KINDS = [
  'received',
  'updated',
  'analysed',
  'drafted',
  'regenerated',
  'auto_post_scheduled',
  'approved',
  'rejected',
  'reminder_sent',
  'escalated',
  'expired',
  'posted',
  'post_reconciled',
  'post_failed',
  'ticket_opened',
  'ticket_resolved',
  'manager_notified',
  'slack_notified',
] as const;
export type ReviewEventKind = (typeof REVIEW_EVENT_KINDS)[number];

/**
 * The review page's history: what happened to a review and who did it. Written by activities with a key
 * (`<workflowId>/<what>`), so a retried activity records an event once.
 */
export const reviewEvents = pgTable(
  'review_events',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orgId: orgIdColumn().references(() => organizations.id, { onDelete: 'cascade' }),
    reviewId: uuid('review_id')
      .notNull()
      .references(() => reviews.id, { onDelete: 'cascade' }),
    kind: text('kind', { enum: REVIEW_EVENT_KINDS }).notNull(),
    /** Staff email, 'system', 'auto', an API key's name. */
    actor: text('actor').notNull(),
    details: jsonb('details').$type<Record<string, unknown>>().notNull().default({}),
    dedupeKey: text('dedupe_key').notNull(),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('review_events_dedupe_unique').on(t.orgId, t.dedupeKey),
    index('review_events_review_idx').on(t.reviewId, t.at),
    tenantIsolation(),
  ],
);

/**
 * An organization's ReviewFlow settings: auto-reply (positive reviews only; neutral and negative are never
 * auto-posted, whatever is set here), approval SLA durations, and the optional Slack incoming webhook (encrypted).
 * An organization without a row gets REVIEWFLOW_DEFAULTS (workflows/reviewflow.ts).
 */
export const reviewflowSettings = pgTable(
  'reviewflow_settings',
  {
    orgId: orgIdColumn()
      .primaryKey()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    autoReplyPositive: boolean('auto_reply_positive').notNull().default(false),
    autoReplyDelay: text('auto_reply_delay').notNull().default('30m'),
    reminderAfter: text('reminder_after').notNull().default('24h'),
    escalateAfter: text('escalate_after').notNull().default('48h'),
    expireAfter: text('expire_after').notNull().default('7d'),
    slackWebhookCiphertext: text('slack_webhook_ciphertext'),
    updatedBy: text('updated_by').notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  () => [tenantIsolation()],
);

/**
 * The voice a property's replies are written in, and who hears about its negative reviews. A property without a
 * row gets a persona derived from its name and contact details.
 */
export const reviewflowPersonas = pgTable(
  'reviewflow_personas',
  {
    orgId: orgIdColumn().references(() => organizations.id, { onDelete: 'cascade' }),
    propertyId: uuid('property_id')
      .notNull()
      .references(() => properties.id, { onDelete: 'cascade' }),
    /** Who signs the replies: "Maria, Community Manager" or "The Reserve Team". */
    signature: text('signature').notNull(),
    tone: text('tone', { enum: ['warm', 'professional', 'upbeat'] })
      .notNull()
      .default('warm'),
    /** How unhappy reviewers are asked to get in touch (the office phone or email when unset). */
    contactLine: text('contact_line'),
    /** Where negative-review notifications and reminders go (the property's contact email when unset). */
    managerEmail: text('manager_email'),
    updatedBy: text('updated_by').notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.propertyId] }), tenantIsolation()],
);

export type ReviewConnection = typeof reviewConnections.$inferSelect;
export type Review = typeof reviews.$inferSelect;
export type ReviewDraft = typeof reviewDrafts.$inferSelect;
export type ReviewReply = typeof reviewReplies.$inferSelect;
export type ReviewTicket = typeof reviewTickets.$inferSelect;
export type ReviewEvent = typeof reviewEvents.$inferSelect;
export type ReviewflowSettings = typeof reviewflowSettings.$inferSelect;
export type ReviewflowPersona = typeof reviewflowPersonas.$inferSelect;
