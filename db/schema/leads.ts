import { sql } from 'drizzle-orm';
import { index, integer, jsonb, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { organizations, properties } from './organizations';
import { orgIdColumn, tenantIsolation } from './tenancy';

/** Seed 001's funnel stages; a CRM's own status words are mapped onto these (activities/crm-import.ts). */
export const LEAD_STATUSES = ['new', 'tour_booked', 'leased'] as const;
export type LeadStatus = (typeof LEAD_STATUSES)[number];

/** What `contact_ciphertext` decrypts to. */
export interface LeadContact {
  name: string;
  email: string | null;
  /** E.164 when it could be normalised (lib/contact.ts), else as given. */
  phone: string | null;
  /** What the lead wrote when they inquired (website form, listing site), when anything. */
  message?: string | null;
}

/** Email domain classes LeadPulse uses (ml/lead-features.ts decides the class from the address). */
export const EMAIL_DOMAIN_CLASSES = ['corporate', 'free', 'disposable', 'none'] as const;
export type EmailDomainClass = (typeof EMAIL_DOMAIN_CLASSES)[number];

/**
 * Leads from every intake (CRM imports, website forms, the chat). Idempotent per `(source, external_id)`:
 * the same lead arriving twice is one row. Contact details are encrypted at rest (AES-GCM, lib/crypto.ts).
 */
export const factLeads = pgTable(
  'fact_leads',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orgId: orgIdColumn().references(() => organizations.id, { onDelete: 'cascade' }),
    propertyId: uuid('property_id').references(() => properties.id, { onDelete: 'set null' }),
    /** Where the lead came from, lower snake case: zillow, apartments_com, website, google_ads, meta, ... */
    source: text('source').notNull(),
    /** The intake's own id (CRM guest-card id); for rows without one, a hash of the row's content. */
    externalId: text('external_id').notNull(),
    contactCiphertext: text('contact_ciphertext').notNull(),
    status: text('status', { enum: LEAD_STATUSES }).notNull().default('new'),
    /** The CRM's status word as exported, kept for audit. */
    crmStatus: text('crm_status'),
    /** LeadPulse score 0-100, when scored. */
    aiScore: integer('ai_score'),
    /** The model version that produced ai_score (leadpulse_models.version). */
    aiScoreModelVersion: integer('ai_score_model_version'),
    aiScoredAt: timestamp('ai_scored_at', { withTimezone: true }),
    /**
     * Blind indexes of the contact (HMAC-SHA256 under a key derived from the encryption key, lib/crypto.ts):
     * inbound SMS and email find their lead by sender without decrypting every row.
     */
    phoneHash: text('phone_hash'),
    emailHash: text('email_hash'),
    /** LeadPulse features the contact would otherwise only give away decrypted. Not PII. */
    emailDomainClass: text('email_domain_class', { enum: EMAIL_DOMAIN_CLASSES }),
    /** SMS and emails exchanged with the lead (both directions); a LeadPulse feature. */
    interactions: integer('interactions').notNull().default(0),
    /** Minutes from our first outbound message to the lead's first reply; null until they reply. */
    firstResponseMinutes: integer('first_response_minutes'),
    /** When the lead first contacted the property (the CRM's date), not when we stored it. */
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull(),
    tourAt: timestamp('tour_at', { withTimezone: true }),
    leasedAt: timestamp('leased_at', { withTimezone: true }),
    unitType: text('unit_type'),
    /** The CRM import that created the row, when it came from one. */
    importId: uuid('import_id'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('fact_leads_source_external_unique').on(t.orgId, t.source, t.externalId),
    index('fact_leads_property_received_idx').on(t.propertyId, t.receivedAt),
    index('fact_leads_phone_hash_idx').on(t.phoneHash),
    index('fact_leads_email_hash_idx').on(t.emailHash),
    tenantIsolation(),
  ],
);

export const CRM_IMPORT_STATUSES = ['pending', 'running', 'succeeded', 'failed'] as const;
export type CrmImportStatus = (typeof CRM_IMPORT_STATUSES)[number];

export interface CrmImportRowError {
  /** 1-based line in the file, counting the header as line 1. */
  line: number;
  reason: string;
}

/**
 * One uploaded CRM leads export. The file is kept (as text) so the import workflow reads it by id; the same
 * file (by SHA-256) uploaded again is the same import and adds nothing.
 */
export const crmImports = pgTable(
  'crm_imports',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orgId: orgIdColumn().references(() => organizations.id, { onDelete: 'cascade' }),
    filename: text('filename').notNull(),
    fileSha256: text('file_sha256').notNull(),
    content: text('content').notNull(),
    /** Property for rows that name none. */
    defaultPropertyId: uuid('default_property_id').references(() => properties.id, { onDelete: 'set null' }),
    status: text('status', { enum: CRM_IMPORT_STATUSES }).notNull().default('pending'),
    /** The detected export format: entrata, yardi, or generic. */
    format: text('format'),
    rowsTotal: integer('rows_total').notNull().default(0),
    rowsImported: integer('rows_imported').notNull().default(0),
    rowsDuplicate: integer('rows_duplicate').notNull().default(0),
    rowErrors: jsonb('row_errors')
      .$type<CrmImportRowError[]>()
      .notNull()
      .default(sql`'[]'::jsonb`),
    error: text('error'),
    workflowId: text('workflow_id').notNull(),
    createdBy: text('created_by').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
  },
  (t) => [uniqueIndex('crm_imports_file_unique').on(t.orgId, t.fileSha256), tenantIsolation()],
);

export type FactLead = typeof factLeads.$inferSelect;
export type CrmImport = typeof crmImports.$inferSelect;
