import { index, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { organizations } from './organizations';
import { orgIdColumn, tenantIsolation } from './tenancy';

/** Things the organization's staff must know about (shown in the admin UI and emailed to admins). */
export const notifications = pgTable(
  'notifications',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orgId: orgIdColumn().references(() => organizations.id, { onDelete: 'cascade' }),
    kind: text('kind').notNull(),
    title: text('title').notNull(),
    body: text('body').notNull(),
    /** Idempotency key of whatever raised it, so a retried activity notifies once. */
    dedupeKey: text('dedupe_key').notNull().unique(),
    details: jsonb('details').$type<Record<string, unknown>>().notNull().default({}),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    readAt: timestamp('read_at', { withTimezone: true }),
  },
  (t) => [index('notifications_org_created_idx').on(t.orgId, t.createdAt), tenantIsolation()],
);

export type Notification = typeof notifications.$inferSelect;
