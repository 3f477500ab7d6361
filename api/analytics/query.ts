/**
 * Seed 000's AnalyticsQuery → AnalyticsResponse over fact_marketing_performance.
 *
 * Numbers: every sum is taken in SQL over `numeric`/`bigint` (exact), and the ratios are computed and rounded in
 * SQL from those same sums, so there is no float accumulation; JavaScript only parses the final decimals. Totals
 * come from the same GROUP BY (grouping sets), so for additive metrics they are exactly the sum of the buckets,
 * and the ratios in totals are recomputed from the total sums (weighted CPA = total spend / total leads, never
 * an average of per-bucket CPAs).
 *
 * Dates and time zones: a fact's `date` is the reporting day of its ad account, already a calendar date, so
 * bucketing is calendar arithmetic on `date` values (`date - integer`), which does not depend on the database
 * session's TimeZone. A property's time zone only matters to decide what "today" is (relative dates in
 * /ask and default ranges), see dates.ts `todayIn` and question-parser.ts.
 *
 * Unmapped campaigns (facts with property_id null) count only when the caller asks for every property
 * (propertyIds empty) and is not confined to one property: they belong to the organization but to no property,
 * so a per-property view cannot include them. Data rows and totals use the same filter, so they stay consistent.
 */
import { sql, type SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import { z } from 'zod';
import type { Queryable } from '../../db/client';
import { properties } from '../../db/schema';
import type { Principal } from '../context';
import { ApiError, notFound } from '../errors';
import { addMonths, bucketsBetween, isIsoDate, type Interval } from './dates';

export const METRICS = ['spend', 'leads', 'cpa', 'impressions', 'clicks', 'ctr', 'cpc'] as const;
export type Metric = (typeof METRICS)[number];
export const INTERVALS = ['day', 'week', 'month'] as const;

/** The longest range one query may cover (a 3-year backfill's worth of daily facts). */
export const MAX_RANGE_YEARS = 3;

const isoDate = z.string().refine(isIsoDate, 'must be a calendar date written YYYY-MM-DD');
const bothDates = (r: { start: string; end: string }) => isIsoDate(r.start) && isIsoDate(r.end);
const unique = <T>(items: T[]) => new Set(items).size === items.length;

export const analyticsQuerySchema = z.strictObject({
  /** Empty = every property the caller may see (plus unmapped campaigns when not confined to one property). */
  propertyIds: z.array(z.uuid()).max(500).default([]),
  dateRange: z
    .strictObject({ start: isoDate, end: isoDate })
    // The field checks above report malformed dates; these only compare well-formed ones.
    .refine((r) => !bothDates(r) || r.start <= r.end, { message: 'start must be on or before end', path: ['end'] })
    .refine((r) => !bothDates(r) || r.start > r.end || r.end < addMonths(r.start, 12 * MAX_RANGE_YEARS), {
      message: `the range may cover at most ${MAX_RANGE_YEARS} years`,
      path: ['end'],
    }),
  interval: z.enum(INTERVALS),
  metrics: z.array(z.enum(METRICS)).min(1, 'name at least one metric').refine(unique, 'must not repeat a metric'),
  groupBy: z.literal('channel').optional(),
  /** Channel ids as stored on the facts: meta, google_ads. */
  channels: z
    .array(z.string().regex(/^[a-z0-9_]{1,40}$/, 'must be a channel id such as meta or google_ads'))
    .min(1)
    .max(20)
    .refine(unique, 'must not repeat a channel')
    .optional(),
});
export type AnalyticsQuery = z.infer<typeof analyticsQuerySchema>;

export type MetricValues = Partial<Record<Metric, number | null>>;
export type DataRow = { date: string; channel?: string } & MetricValues;

export interface AnalyticsResponse {
  data: DataRow[];
  totals: MetricValues;
  totalsByChannel?: Record<string, MetricValues>;
  channels?: string[];
  interval: Interval;
  dateRange: { start: string; end: string };
}

export interface AnalyticsResult {
  response: AnalyticsResponse;
  /** The parameterized SQL text that ran, and its parameters (for /ask's "the query that ran"). */
  sql: string;
  params: unknown[];
  /** Fact rows that matched (0 = no data for this question). */
  factRows: number;
}

/**
 * Which facts the caller may read: `null` = the whole organization (including unmapped campaigns), otherwise
 * exactly these properties.
 */
export type PropertyScope = { propertyIds: string[] | null };

/** Thrown as 403 when a caller confined to one property names another one. */
export class PropertyOutsideScopeError extends ApiError {
  constructor(message: string) {
    super(403, 'forbidden', message);
  }
}

/**
 * Resolves requested property ids against the caller's organization (under RLS, so other organizations'
 * properties are simply unknown → 404) and the caller's own confinement: a signed-in user whose session is
 * switched to one property (Principal.propertyId) may only read that property.
 */
export async function resolvePropertyScope(
  tx: Queryable,
  principal: Principal,
  requested: readonly string[],
): Promise<PropertyScope> {
  const wanted = [...new Set(requested)];
  if (wanted.length) {
    const visible = new Set((await tx.select({ id: properties.id }).from(properties)).map((p) => p.id));
    if (wanted.some((id) => !visible.has(id))) throw notFound('Property');
  }
  const confinedTo = principal.kind === 'user' ? principal.propertyId : null;
  if (!confinedTo) return { propertyIds: wanted.length ? wanted : null };
  const outside = wanted.filter((id) => id !== confinedTo);
  if (outside.length) {
    throw new PropertyOutsideScopeError(
      `This session is switched to property ${confinedTo}; it may not read property ${outside.join(', ')}. ` +
        'Switch property (PUT /v1/me/property) to read another one.',
    );
  }
  return { propertyIds: [confinedTo] };
}

function bucketExpr(interval: Interval): SQL {
  // date - integer is date arithmetic: no timestamp, so the session TimeZone cannot move a day across a boundary.
  if (interval === 'day') return sql`f.date`;
  if (interval === 'week') return sql`(f.date - (extract(isodow from f.date)::int - 1))`;
  return sql`(f.date - (extract(day from f.date)::int - 1))`;
}

/** The SQL for one query; exported so /ask can show it and tests can read it. */
export function buildAnalyticsSql(query: AnalyticsQuery, scope: PropertyScope): SQL {
  const filters: SQL[] = [sql`f.date between ${query.dateRange.start}::date and ${query.dateRange.end}::date`];
  if (scope.propertyIds) {
    filters.push(
      sql`f.property_id in (${sql.join(
        scope.propertyIds.map((id) => sql`${id}::uuid`),
        sql`, `,
      )})`,
    );
  }
  if (query.channels) {
    filters.push(
      sql`f.channel_id in (${sql.join(
        query.channels.map((c) => sql`${c}`),
        sql`, `,
      )})`,
    );
  }
  const groupingSets =
    query.groupBy === 'channel'
      ? sql`grouping sets ((b.bucket, b.channel), (b.bucket), (b.channel), ())`
      : sql`grouping sets ((b.bucket), ())`;
  return sql`select grouping(b.bucket) as g_bucket, ${query.groupBy === 'channel' ? sql`grouping(b.channel)` : sql`1`} as g_channel,
  to_char(b.bucket, 'YYYY-MM-DD') as bucket, ${query.groupBy === 'channel' ? sql`b.channel` : sql`null::text`} as channel,
  count(*)::int as fact_rows,
  coalesce(sum(b.spend), 0)::text as spend,
  coalesce(sum(b.leads), 0)::text as leads,
  coalesce(sum(b.impressions), 0)::text as impressions,
  coalesce(sum(b.clicks), 0)::text as clicks,
  round(sum(b.spend) / nullif(sum(b.leads), 0), 2)::text as cpa,
  round(sum(b.clicks)::numeric / nullif(sum(b.impressions), 0), 4)::text as ctr,
  round(sum(b.spend) / nullif(sum(b.clicks), 0), 2)::text as cpc
from (
  select ${bucketExpr(query.interval)} as bucket, f.channel_id as channel, f.spend, f.conversions as leads, f.impressions, f.clicks
  from fact_marketing_performance f
  where ${sql.join(filters, sql` and `)}
) b
group by ${groupingSets}
order by 1, 2, 3, 4`;
}

const dialect = new PgDialect();

/** Rows of a drizzle `execute` on either driver (PGlite gives `{rows}`, postgres.js an array). */
export function rowsOf<T = Record<string, unknown>>(result: unknown): T[] {
  return (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[];
}

interface SumsRow {
  g_bucket: number;
  g_channel: number;
  bucket: string | null;
  channel: string | null;
  fact_rows: number;
  spend: string;
  leads: string;
  impressions: string;
  clicks: string;
  cpa: string | null;
  ctr: string | null;
  cpc: string | null;
}

function pick(row: SumsRow | undefined, metrics: readonly Metric[]): MetricValues {
  const out: MetricValues = {};
  for (const m of metrics) {
    if (!row) {
      // A bucket without facts: additive metrics are 0, ratios have no denominator.
      out[m] = m === 'cpa' || m === 'ctr' || m === 'cpc' ? null : 0;
      continue;
    }
    const raw = row[m];
    out[m] = raw === null ? null : Number(raw);
  }
  return out;
}

/**
 * Runs one analytics query on a tenant transaction (RLS confines it to the caller's organization). Every bucket
 * overlapping the range is present in `data` (zero-filled when it has no facts, so charts have no gaps); with
 * groupBy 'channel', every (bucket, channel) pair for the channels in `channels`.
 */
export async function runAnalyticsQuery(
  tx: Queryable,
  query: AnalyticsQuery,
  scope: PropertyScope,
): Promise<AnalyticsResult> {
  const statement = buildAnalyticsSql(query, scope);
  const rendered = dialect.sqlToQuery(statement);
  const rows = rowsOf<SumsRow>(await tx.execute(statement)).map((r) => ({
    ...r,
    g_bucket: Number(r.g_bucket),
    g_channel: Number(r.g_channel),
    fact_rows: Number(r.fact_rows),
  }));
  const grouped = query.groupBy === 'channel';
  const total = rows.find((r) => r.g_bucket === 1 && r.g_channel === 1);
  const byBucket = new Map(rows.filter((r) => r.g_bucket === 0 && r.g_channel === 1).map((r) => [r.bucket!, r]));
  const byBucketChannel = new Map(
    rows.filter((r) => r.g_bucket === 0 && r.g_channel === 0).map((r) => [`${r.bucket}|${r.channel}`, r]),
  );
  const byChannel = new Map(rows.filter((r) => r.g_bucket === 1 && r.g_channel === 0).map((r) => [r.channel!, r]));

  const buckets = bucketsBetween(query.dateRange.start, query.dateRange.end, query.interval);
  const response: AnalyticsResponse = {
    data: [],
    totals: pick(total, query.metrics),
    interval: query.interval,
    dateRange: { start: query.dateRange.start, end: query.dateRange.end },
  };
  if (grouped) {
    const channels = [...new Set([...(query.channels ?? []), ...byChannel.keys()])].sort();
    for (const date of buckets) {
      for (const channel of channels) {
        response.data.push({ date, channel, ...pick(byBucketChannel.get(`${date}|${channel}`), query.metrics) });
      }
    }
    response.channels = channels;
    response.totalsByChannel = Object.fromEntries(channels.map((c) => [c, pick(byChannel.get(c), query.metrics)]));
  } else {
    for (const date of buckets) response.data.push({ date, ...pick(byBucket.get(date), query.metrics) });
  }
  return { response, sql: rendered.sql, params: rendered.params, factRows: total?.fact_rows ?? 0 };
}
