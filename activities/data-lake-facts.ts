/**
 * The fact writers of the Data Lake: bulk upserts of normalized platform rows into the unified fact tables,
 * campaign → property resolution, and re-mapping after a mapping change. Plain functions over a tenant
 * transaction, so the sync activities, the API and the ingest benchmark share them.
 *
 * Rows travel to PostgreSQL as one JSON document per chunk (`jsonb_to_recordset`): one bind parameter per
 * statement however many rows, so chunks are bounded by memory rather than by PostgreSQL's 65,535 bind
 * parameters, and the driver does not build thousands of placeholders.
 */
import { and, eq, sql } from 'drizzle-orm';
import type { Transaction } from '../db/client';
import {
  adCampaigns,
  adConnections,
  factMarketingPerformance,
  factWebTraffic,
  type AdCampaign,
  type AdConnection,
  type CampaignRule,
} from '../db/schema';
import type { CampaignDayRow, TrafficDayRow } from '../integrations/ad-platforms';

/** Rows per upsert statement: large enough to amortize a round trip, small enough to keep statements light. */
export const FACT_CHUNK_ROWS = 5_000;

export type MappedBy = 'explicit' | 'rule' | 'default';

export interface CampaignMapping {
  propertyId: string | null;
  mappedBy: MappedBy | null;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Whether a campaign rule's pattern matches a campaign name: case-insensitive; without `*` the pattern may
 * appear anywhere in the name; with `*` the whole name must match, `*` standing for any run of characters.
 */
export function campaignRuleMatches(pattern: string, campaignName: string): boolean {
  const p = pattern.trim().toLowerCase();
  const name = campaignName.toLowerCase();
  if (!p) return false;
  if (!p.includes('*')) return name.includes(p);
  const regex = new RegExp(`^${p.split('*').map(escapeRegExp).join('.*')}$`, 's');
  return regex.test(name);
}

/** Explicit mapping > first matching rule > the connection's default property > unmapped. */
export function resolveCampaignProperty(
  campaign: { name: string; explicitPropertyId: string | null },
  connection: { campaignRules: CampaignRule[]; defaultPropertyId: string | null },
): CampaignMapping {
  if (campaign.explicitPropertyId) return { propertyId: campaign.explicitPropertyId, mappedBy: 'explicit' };
  const rule = connection.campaignRules.find((r) => campaignRuleMatches(r.pattern, campaign.name));
  if (rule) return { propertyId: rule.propertyId, mappedBy: 'rule' };
  if (connection.defaultPropertyId) return { propertyId: connection.defaultPropertyId, mappedBy: 'default' };
  return { propertyId: null, mappedBy: null };
}

export interface UpsertCampaignFactsInput {
  orgId: string;
  channel: 'meta' | 'google_ads' | string;
  accountId: string;
  connectionId: string | null;
  syncRunId: string | null;
  rawSource: string;
  rows: readonly CampaignDayRow[];
  /** campaignId → property; campaigns not in the map are stored unmapped (property_id null). */
  propertyByCampaign: ReadonlyMap<string, string | null> | Record<string, string | null>;
  chunkSize?: number;
}

function lookup(map: UpsertCampaignFactsInput['propertyByCampaign'], key: string): string | null {
  if (map instanceof Map) return map.get(key) ?? null;
  const value = (map as Record<string, string | null>)[key];
  return value ?? null;
}

/** Later rows win over earlier ones with the same key: one statement may not update a row twice. */
function dedupe<T>(rows: readonly T[], keyOf: (row: T) => string): T[] {
  const byKey = new Map<string, T>();
  for (const row of rows) byKey.set(keyOf(row), row);
  return byKey.size === rows.length ? (rows as T[]) : [...byKey.values()];
}

const SPEND = /^-?\d{1,10}(\.\d{1,2})?$/;

/**
 * Upserts campaign-day facts keyed by (org, channel, account, campaign, date). Every row written carries
 * `syncRunId`, which is how the finishing run recognizes rows of its range it did not see again. Returns the
 * number of distinct rows written.
 */
export async function upsertCampaignFacts(tx: Transaction, input: UpsertCampaignFactsInput): Promise<number> {
  const rows = dedupe(input.rows, (r) => `${r.campaignId}\u0000${r.date}`);
  const chunkSize = input.chunkSize ?? FACT_CHUNK_ROWS;
  for (let i = 0; i < rows.length; i += chunkSize) {
    const chunk = rows.slice(i, i + chunkSize).map((r) => {
      if (!SPEND.test(r.spend)) throw new Error(`Invalid spend "${r.spend}" for campaign ${r.campaignId} on ${r.date}`);
      return {
        d: r.date,
        c: r.campaignId,
        n: r.campaignName,
        p: lookup(input.propertyByCampaign, r.campaignId),
        i: r.impressions,
        k: r.clicks,
        s: r.spend,
        v: r.conversions,
      };
    });
    await tx.execute(sql`
      insert into fact_marketing_performance as f
        (org_id, date, channel_id, account_id, campaign_id, property_id, connection_id, campaign_name,
         impressions, clicks, spend, conversions, raw_source, sync_run_id, updated_at)
      select ${input.orgId}::uuid, r.d, ${input.channel}, ${input.accountId}, r.c, r.p, ${input.connectionId}::uuid,
             r.n, r.i, r.k, r.s, r.v, ${input.rawSource}, ${input.syncRunId}::uuid, now()
      from jsonb_to_recordset(${JSON.stringify(chunk)}::jsonb)
        as r(d date, c text, n text, p uuid, i bigint, k bigint, s numeric(12, 2), v bigint)
      on conflict (org_id, channel_id, account_id, campaign_id, date) do update set
        property_id = excluded.property_id,
        connection_id = excluded.connection_id,
        campaign_name = excluded.campaign_name,
        impressions = excluded.impressions,
        clicks = excluded.clicks,
        spend = excluded.spend,
        conversions = excluded.conversions,
        raw_source = excluded.raw_source,
        sync_run_id = excluded.sync_run_id,
        updated_at = excluded.updated_at`);
  }
  return rows.length;
}

export interface UpsertTrafficFactsInput {
  orgId: string;
  accountId: string;
  connectionId: string | null;
  syncRunId: string | null;
  rawSource: string;
  rows: readonly TrafficDayRow[];
  propertyId: string | null;
  chunkSize?: number;
}

/** Upserts GA4 day × source facts keyed by (org, property id at GA4, date, source, channel group). */
export async function upsertTrafficFacts(tx: Transaction, input: UpsertTrafficFactsInput): Promise<number> {
  const rows = dedupe(input.rows, (r) => `${r.date}\u0000${r.sessionSource}\u0000${r.channelGroup}`);
  const chunkSize = input.chunkSize ?? FACT_CHUNK_ROWS;
  for (let i = 0; i < rows.length; i += chunkSize) {
    const chunk = rows.slice(i, i + chunkSize).map((r) => ({
      d: r.date,
      s: r.sessionSource,
      g: r.channelGroup,
      n: r.sessions,
      // GA4 sends key events as a double; numeric(14,2) keeps what it can show.
      k: String(r.keyEvents),
    }));
    await tx.execute(sql`
      insert into fact_web_traffic as f
        (org_id, date, account_id, session_source, channel_group, property_id, connection_id, sessions, key_events,
         raw_source, sync_run_id, updated_at)
      select ${input.orgId}::uuid, r.d, ${input.accountId}, r.s, r.g, ${input.propertyId}::uuid,
             ${input.connectionId}::uuid, r.n, r.k, ${input.rawSource}, ${input.syncRunId}::uuid, now()
      from jsonb_to_recordset(${JSON.stringify(chunk)}::jsonb) as r(d date, s text, g text, n bigint, k numeric(14, 2))
      on conflict (org_id, account_id, date, session_source, channel_group) do update set
        property_id = excluded.property_id,
        connection_id = excluded.connection_id,
        sessions = excluded.sessions,
        key_events = excluded.key_events,
        raw_source = excluded.raw_source,
        sync_run_id = excluded.sync_run_id,
        updated_at = excluded.updated_at`);
  }
  return rows.length;
}

type ConnectionMappingFields = Pick<
  AdConnection,
  'id' | 'orgId' | 'channel' | 'accountId' | 'campaignRules' | 'defaultPropertyId'
>;

/**
 * Records the campaigns a page mentions (name, last seen) and returns each one's resolved property. Existing
 * explicit mappings are kept; rules and the default are re-evaluated, since a campaign may have been renamed.
 */
export async function upsertCampaignsOfPage(
  tx: Transaction,
  connection: ConnectionMappingFields,
  rows: readonly CampaignDayRow[],
): Promise<Map<string, string | null>> {
  const names = new Map<string, string>();
  // The latest day's name wins: a renamed campaign shows its current name.
  const latest = new Map<string, string>();
  for (const r of rows) {
    if (!latest.has(r.campaignId) || r.date >= latest.get(r.campaignId)!) {
      latest.set(r.campaignId, r.date);
      names.set(r.campaignId, r.campaignName);
    }
  }
  const result = new Map<string, string | null>();
  if (names.size === 0) return result;
  const existing = await tx
    .select({ campaignId: adCampaigns.campaignId, explicitPropertyId: adCampaigns.explicitPropertyId })
    .from(adCampaigns)
    .where(eq(adCampaigns.connectionId, connection.id));
  const explicit = new Map(existing.map((c) => [c.campaignId, c.explicitPropertyId]));
  const values = [...names].map(([campaignId, name]) => {
    const mapping = resolveCampaignProperty({ name, explicitPropertyId: explicit.get(campaignId) ?? null }, connection);
    result.set(campaignId, mapping.propertyId);
    return {
      orgId: connection.orgId,
      connectionId: connection.id,
      campaignId,
      name,
      propertyId: mapping.propertyId,
      mappedBy: mapping.mappedBy,
    };
  });
  await tx
    .insert(adCampaigns)
    .values(values)
    .onConflictDoUpdate({
      target: [adCampaigns.connectionId, adCampaigns.campaignId],
      set: {
        name: sql`excluded.name`,
        propertyId: sql`excluded.property_id`,
        mappedBy: sql`excluded.mapped_by`,
        lastSeenAt: sql`now()`,
      },
    });
  return result;
}

export interface RemapResult {
  campaignsChanged: number;
  factsChanged: number;
}

/**
 * Re-resolves every campaign of a connection after its rules, default property or an explicit mapping changed,
 * and rewrites the property of the facts that moved. GA4 traffic always follows the default property.
 */
export async function remapCampaignFacts(tx: Transaction, orgId: string, connectionId: string): Promise<RemapResult> {
  const [connection] = await tx
    .select()
    .from(adConnections)
    .where(and(eq(adConnections.orgId, orgId), eq(adConnections.id, connectionId)));
  if (!connection) return { campaignsChanged: 0, factsChanged: 0 };

  if (connection.channel === 'ga4') {
    const moved = await tx.execute(sql`
      update fact_web_traffic set property_id = ${connection.defaultPropertyId}::uuid, updated_at = now()
      where org_id = ${orgId}::uuid and account_id = ${connection.accountId}
        and property_id is distinct from ${connection.defaultPropertyId}::uuid`);
    return { campaignsChanged: 0, factsChanged: affectedRows(moved) };
  }

  const campaigns: AdCampaign[] = await tx.select().from(adCampaigns).where(eq(adCampaigns.connectionId, connectionId));
  let campaignsChanged = 0;
  for (const c of campaigns) {
    const mapping = resolveCampaignProperty(c, connection);
    if (mapping.propertyId === c.propertyId && mapping.mappedBy === c.mappedBy) continue;
    campaignsChanged++;
    await tx
      .update(adCampaigns)
      .set({ propertyId: mapping.propertyId, mappedBy: mapping.mappedBy })
      .where(and(eq(adCampaigns.connectionId, connectionId), eq(adCampaigns.campaignId, c.campaignId)));
  }
  const moved = await tx.execute(sql`
    update fact_marketing_performance f set property_id = c.property_id, updated_at = now()
    from ad_campaigns c
    where c.connection_id = ${connectionId}::uuid
      and f.org_id = ${orgId}::uuid and f.channel_id = ${connection.channel} and f.account_id = ${connection.accountId}
      and f.campaign_id = c.campaign_id
      and f.property_id is distinct from c.property_id`);
  return { campaignsChanged, factsChanged: affectedRows(moved) };
}

/** Rows affected by an UPDATE/DELETE, across both drivers (PGlite: affectedRows; postgres.js: count). */
export function affectedRows(result: unknown): number {
  const r = result as { affectedRows?: number; count?: number; rowCount?: number };
  return Number(r.affectedRows ?? r.count ?? r.rowCount ?? 0);
}
