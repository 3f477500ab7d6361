import { sql } from 'drizzle-orm';
import {
  bigint,
  date,
  index,
  integer,
  jsonb,
  numeric,
  pgTable,
  pgView,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { organizations, properties } from './organizations';
import { orgIdColumn, tenantIsolation } from './tenancy';

/** Ad and analytics platforms an organization connects. `channel` is also the fact table's channel_id. */
export const AD_CHANNELS = ['meta', 'google_ads', 'ga4'] as const;
export type AdChannel = (typeof AD_CHANNELS)[number];

/** Days re-pulled by the daily sync so the platforms' attribution restatements land. */
export const DEFAULT_LOOKBACK_DAYS: Record<AdChannel, number> = { meta: 28, google_ads: 14, ga4: 2 };

/** Falls back from explicit mappings: the first rule whose pattern the campaign name contains wins. */
export interface CampaignRule {
  /** Case-insensitive; `*` matches any run of characters; without `*` it matches anywhere in the name. */
  pattern: string;
  propertyId: string;
}

export const SYNC_STATUSES = ['running', 'succeeded', 'failed'] as const;
export type SyncStatus = (typeof SYNC_STATUSES)[number];

/**
 * One Meta ad account, Google Ads customer or GA4 property of an organization. Credentials are an encrypted
 * JSON object (see integrations/ad-platforms.ts for each channel's shape); they are never returned by the API.
 */
export const adConnections = pgTable(
  'ad_connections',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orgId: orgIdColumn().references(() => organizations.id, { onDelete: 'cascade' }),
    channel: text('channel', { enum: AD_CHANNELS }).notNull(),
    name: text('name').notNull(),
    /** The platform's own id: Meta ad account id (digits, without act_), Google Ads customer id, GA4 property id. */
    accountId: text('account_id').notNull(),
    credentialsCiphertext: text('credentials_ciphertext').notNull(),
    /** IANA zone the daily schedule and "today" are read in; defaults from the default property. */
    timezone: text('timezone').notNull(),
    /** Property for campaigns neither mapped nor matched by a rule; GA4 rows always land here. */
    defaultPropertyId: uuid('default_property_id').references(() => properties.id, { onDelete: 'set null' }),
    campaignRules: jsonb('campaign_rules').$type<CampaignRule[]>().notNull().default([]),
    lookbackDays: integer('lookback_days').notNull(),
    /** Whether the daily and hourly Temporal Schedules exist (unpaused) for this connection. */
    schedulesEnabled: text('schedules_enabled', { enum: ['on', 'off'] })
      .notNull()
      .default('on'),
    lastSyncAt: timestamp('last_sync_at', { withTimezone: true }),
    lastSyncStatus: text('last_sync_status', { enum: SYNC_STATUSES }),
    lastSyncError: text('last_sync_error'),
    /** Set when the platform rejected the credentials; cleared by a successful sync or new credentials. */
    credentialsInvalidAt: timestamp('credentials_invalid_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('ad_connections_account_unique').on(t.orgId, t.channel, t.accountId),
    index('ad_connections_org_idx').on(t.orgId),
    tenantIsolation(),
  ],
);

/**
 * Every campaign a sync has seen, with the property it maps to. `mappedBy` says why: an explicit mapping
 * set by staff, a campaign rule, the connection's default property, or null when it is unmapped (its facts
 * are kept with property_id null and listed so someone can map them).
 */
export const adCampaigns = pgTable(
  'ad_campaigns',
  {
    orgId: orgIdColumn().references(() => organizations.id, { onDelete: 'cascade' }),
    connectionId: uuid('connection_id')
      .notNull()
      .references(() => adConnections.id, { onDelete: 'cascade' }),
    campaignId: text('campaign_id').notNull(),
    name: text('name').notNull(),
    /** Set by staff; wins over rules. */
    explicitPropertyId: uuid('explicit_property_id').references(() => properties.id, { onDelete: 'set null' }),
    /** The resolved property (explicit, else rule, else default), copied onto the facts. */
    propertyId: uuid('property_id').references(() => properties.id, { onDelete: 'set null' }),
    mappedBy: text('mapped_by', { enum: ['explicit', 'rule', 'default'] }),
    firstSeenAt: timestamp('first_seen_at', { withTimezone: true }).notNull().defaultNow(),
    lastSeenAt: timestamp('last_seen_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.connectionId, t.campaignId] }),
    index('ad_campaigns_org_idx').on(t.orgId),
    tenantIsolation(),
  ],
);

export const SYNC_TRIGGERS = ['manual', 'schedule_daily', 'schedule_hourly', 'backfill'] as const;
export type SyncTrigger = (typeof SYNC_TRIGGERS)[number];

/** One run of the sync workflow over a date range (a backfill has one per month). */
export const adSyncRuns = pgTable(
  'ad_sync_runs',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orgId: orgIdColumn().references(() => organizations.id, { onDelete: 'cascade' }),
    connectionId: uuid('connection_id')
      .notNull()
      .references(() => adConnections.id, { onDelete: 'cascade' }),
    workflowId: text('workflow_id').notNull(),
    runId: text('run_id').notNull(),
    trigger: text('trigger', { enum: SYNC_TRIGGERS }).notNull(),
    rangeStart: date('range_start', { mode: 'string' }).notNull(),
    rangeEnd: date('range_end', { mode: 'string' }).notNull(),
    status: text('status', { enum: SYNC_STATUSES }).notNull().default('running'),
    pages: integer('pages').notNull().default(0),
    rowsFetched: integer('rows_fetched').notNull().default(0),
    factsUpserted: integer('facts_upserted').notNull().default(0),
    /** Facts of the range this run did not see again (the platform no longer reports them), removed. */
    factsRemoved: integer('facts_removed').notNull().default(0),
    error: text('error'),
    startedAt: timestamp('started_at', { withTimezone: true }).notNull().defaultNow(),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
  },
  (t) => [
    // A retried "begin" activity finds its run instead of starting a second one.
    uniqueIndex('ad_sync_runs_workflow_run_unique').on(t.workflowId, t.runId),
    index('ad_sync_runs_connection_idx').on(t.connectionId, t.startedAt),
    tenantIsolation(),
  ],
);

/** Raw pages exactly as each platform answered, per sync run and page, with the request that fetched them. */
function rawTable(name: 'raw_meta_ads' | 'raw_google_ads' | 'raw_ga4') {
  return pgTable(
    name,
    {
      id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
      orgId: orgIdColumn().references(() => organizations.id, { onDelete: 'cascade' }),
      connectionId: uuid('connection_id')
        .notNull()
        .references(() => adConnections.id, { onDelete: 'cascade' }),
      syncRunId: uuid('sync_run_id')
        .notNull()
        .references(() => adSyncRuns.id, { onDelete: 'cascade' }),
      pageIndex: integer('page_index').notNull(),
      requestParams: jsonb('request_params').$type<Record<string, unknown>>().notNull(),
      data: jsonb('data').notNull(),
      ingestedAt: timestamp('ingested_at', { withTimezone: true }).notNull().defaultNow(),
    },
    (t) => [
      // A retried page activity overwrites its page instead of adding a second copy.
      uniqueIndex(`${name}_run_page_unique`).on(t.syncRunId, t.pageIndex),
      index(`${name}_org_idx`).on(t.orgId, t.ingestedAt),
      tenantIsolation(),
    ],
  );
}

export const rawMetaAds = rawTable('raw_meta_ads');
export const rawGoogleAds = rawTable('raw_google_ads');
export const rawGa4 = rawTable('raw_ga4');

/**
 * The unified daily fact per campaign (seed 000 plus org_id). The key is the campaign's identity at its
 * platform, including the channel and account so ids of different platforms cannot collide; property_id is
 * the mapping's result (nullable: unmapped campaigns are kept) and is rewritten when a mapping changes.
 */
export const factMarketingPerformance = pgTable(
  'fact_marketing_performance',
  {
    orgId: orgIdColumn().references(() => organizations.id, { onDelete: 'cascade' }),
    date: date('date', { mode: 'string' }).notNull(),
    channelId: text('channel_id').notNull(),
    accountId: text('account_id').notNull(),
    campaignId: text('campaign_id').notNull(),
    propertyId: uuid('property_id').references(() => properties.id, { onDelete: 'set null' }),
    connectionId: uuid('connection_id').references(() => adConnections.id, { onDelete: 'set null' }),
    campaignName: text('campaign_name').notNull(),
    impressions: bigint('impressions', { mode: 'number' }).notNull().default(0),
    clicks: bigint('clicks', { mode: 'number' }).notNull().default(0),
    spend: numeric('spend', { precision: 12, scale: 2 }).notNull().default('0.00'),
    conversions: bigint('conversions', { mode: 'number' }).notNull().default(0),
    /** e.g. meta_api_v24.0, google_ads_api_v21 */
    rawSource: text('raw_source').notNull(),
    /** The sync run that last wrote the row: a completed run removes rows of its range it did not write. */
    syncRunId: uuid('sync_run_id'),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.orgId, t.channelId, t.accountId, t.campaignId, t.date] }),
    index('idx_fact_marketing_date').on(t.orgId, t.date),
    index('idx_fact_marketing_prop').on(t.propertyId, t.date),
    tenantIsolation(),
  ],
);

/** GA4 website sessions and key events per day and traffic source (not ad spend, so not in the fact above). */
export const factWebTraffic = pgTable(
  'fact_web_traffic',
  {
    orgId: orgIdColumn().references(() => organizations.id, { onDelete: 'cascade' }),
    date: date('date', { mode: 'string' }).notNull(),
    /** GA4 property id. */
    accountId: text('account_id').notNull(),
    sessionSource: text('session_source').notNull(),
    channelGroup: text('channel_group').notNull(),
    propertyId: uuid('property_id').references(() => properties.id, { onDelete: 'set null' }),
    connectionId: uuid('connection_id').references(() => adConnections.id, { onDelete: 'set null' }),
    sessions: bigint('sessions', { mode: 'number' }).notNull().default(0),
    keyEvents: numeric('key_events', { precision: 14, scale: 2 }).notNull().default('0'),
    rawSource: text('raw_source').notNull(),
    syncRunId: uuid('sync_run_id'),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.orgId, t.accountId, t.date, t.sessionSource, t.channelGroup] }),
    index('fact_web_traffic_prop_idx').on(t.propertyId, t.date),
    tenantIsolation(),
  ],
);

/**
 * Seed 001's channel-level daily rollup, derived from the facts (never loaded separately). security_invoker
 * makes the view run with the caller's rights, so the facts' row-level security applies through it.
 */
export const factMarketingDaily = pgView('fact_marketing_daily')
  .with({ securityInvoker: true })
  .as((qb) =>
    qb
      .select({
        orgId: factMarketingPerformance.orgId,
        date: factMarketingPerformance.date,
        propertyId: factMarketingPerformance.propertyId,
        channel: sql<string>`${factMarketingPerformance.channelId}`.as('channel'),
        spend: sql<string>`sum(${factMarketingPerformance.spend})`.as('spend'),
        impressions: sql<number>`sum(${factMarketingPerformance.impressions})::bigint`.as('impressions'),
        clicks: sql<number>`sum(${factMarketingPerformance.clicks})::bigint`.as('clicks'),
        leads: sql<number>`sum(${factMarketingPerformance.conversions})::bigint`.as('leads'),
      })
      .from(factMarketingPerformance)
      .groupBy(
        factMarketingPerformance.orgId,
        factMarketingPerformance.date,
        factMarketingPerformance.propertyId,
        factMarketingPerformance.channelId,
      ),
  );

export type AdConnection = typeof adConnections.$inferSelect;
export type AdCampaign = typeof adCampaigns.$inferSelect;
export type AdSyncRun = typeof adSyncRuns.$inferSelect;
export type FactMarketingPerformance = typeof factMarketingPerformance.$inferSelect;
