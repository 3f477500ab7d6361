import { index, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { organizations } from './organizations';
import { orgIdColumn, tenantIsolation } from './tenancy';

export const ACTOR_TYPES = ['user', 'api_key', 'system'] as const;
export type ActorType = (typeof ACTOR_TYPES)[number];

/** Who did what, when, to which record. Written in the same transaction as the change it records. */
export const auditLog = pgTable(
  'audit_log',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orgId: orgIdColumn().references(() => organizations.id, { onDelete: 'cascade' }),
    actorType: text('actor_type', { enum: ACTOR_TYPES }).notNull(),
    /** User id, API key id, or the name of the system component. */
    actorId: text('actor_id').notNull(),
    /** Human label at the time: an email or a key prefix. */
    actorLabel: text('actor_label').notNull(),
    /** Dotted verb, e.g. "webhook_endpoint.create". */
    action: text('action').notNull(),
    targetType: text('target_type').notNull(),
    targetId: text('target_id').notNull(),
    details: jsonb('details').$type<Record<string, unknown>>().notNull().default({}),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('audit_log_org_created_idx').on(t.orgId, t.createdAt), tenantIsolation()],
);

export type AuditEntry = typeof auditLog.$inferSelect;
