import { sql } from 'drizzle-orm';
import { jsonb, pgTable, text, timestamp, uuid, index, uniqueIndex } from 'drizzle-orm/pg-core';
import { orgIdColumn, tenantIsolation } from './tenancy';

/** Products an organization can have enabled; the admin UI's sidebar lists only the enabled ones. */
export const PRODUCT_IDS = [
  'data-lake',
  'multichannel-bi',
  'lumaleasing',
  'tourspark',
  'leadpulse',
  'marketvision',
  'forgestudio',
  'socialpilot',
  'reviewflow',
  'churnsignal',
] as const;
export type ProductId = (typeof PRODUCT_IDS)[number];

export const SUBSCRIPTION_TIERS = ['starter', 'growth', 'enterprise'] as const;
export type SubscriptionTier = (typeof SUBSCRIPTION_TIERS)[number];

export const organizations = pgTable(
  'organizations',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    name: text('name').notNull(),
    slug: text('slug').notNull().unique(),
    subscriptionTier: text('subscription_tier', { enum: SUBSCRIPTION_TIERS }).notNull().default('starter'),
    enabledProducts: text('enabled_products')
      .array()
      .$type<ProductId[]>()
      .notNull()
      .default(sql`'{}'::text[]`),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  // An organization is its own tenant: the app role sees only the current one.
  () => [tenantIsolation(sql`id`)],
);

export interface PostalAddress {
  line1: string;
  line2?: string;
  city: string;
  region: string;
  postalCode: string;
  country: string;
}

/** Office hours per weekday in the property's timezone, "HH:MM" 24h; a missing day is closed. */
export type OfficeHours = Partial<
  Record<'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun', { open: string; close: string }>
>;

export const properties = pgTable(
  'properties',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orgId: orgIdColumn().references(() => organizations.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    /**
     * URL segment of the public chat page (/chat/<org-slug>/<property-slug>), unique in the organization.
     * Empty on insert means "derive it from the name": a trigger (migration 0003) fills it in.
     */
    slug: text('slug').notNull().default(''),
    address: jsonb('address').$type<PostalAddress>(),
    /** IANA zone, e.g. America/Los_Angeles: quiet hours, daily schedules and office hours are read in it. */
    timezone: text('timezone').notNull().default('America/Chicago'),
    officeHours: jsonb('office_hours').$type<OfficeHours>().notNull().default({}),
    contactPhone: text('contact_phone'),
    contactEmail: text('contact_email'),
    settings: jsonb('settings').$type<Record<string, unknown>>().notNull().default({}),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('properties_org_idx').on(t.orgId),
    uniqueIndex('properties_org_slug_unique').on(t.orgId, t.slug),
    tenantIsolation(),
  ],
);

export type Organization = typeof organizations.$inferSelect;
export type Property = typeof properties.$inferSelect;
