/**
 * `npm run bench:data-lake` (also run by `npm run bench`): the Data Lake's ingest and analytics figures on
 * embedded PGlite, in a temporary data directory.
 *
 *   1. Ingest: 1,000,000 campaign-day facts through the sync's own upsert (upsertCampaignFacts, under RLS via
 *      withTenant), first as inserts into an empty table, then again as updates (a full re-pull), against a
 *      bare bulk insert of the same rows into an unindexed copy of the table (same JSON transport, no key,
 *      no conflict handling, no RLS): the ratio is what idempotency and the indexes cost.
 *   2. Analytics: p50/p95 of POST /v1/analytics/query over those facts: a 90-day daily query for one property
 *      and for ten, plus the per-channel grouping the dashboard uses.
 *
 * BENCH_FACTS=200000 runs a smaller world (the default is the 1M).
 */
import { Client, Connection } from '@temporalio/client';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { createApp } from '../api/app';
import { API_KEY_SCOPES } from '../api/permissions';
import { createRateLimiter, createSignInLimiter } from '../api/rate-limit';
import { upsertCampaignFacts } from '../activities/data-lake-facts';
import { loadConfig } from '../config';
import { createDatabase } from '../db/client';
import { createOrganization } from '../db/organizations';
import { withTenant } from '../db/tenancy';
import type { CampaignDayRow } from '../integrations/ad-platforms';
import { createEncryptor } from '../lib/crypto';

const TOTAL = Number(process.env.BENCH_FACTS ?? 1_000_000);
const PROPERTIES = 10;
const CAMPAIGNS_PER_PROPERTY = 10;
const DAYS = Math.ceil(TOTAL / (PROPERTIES * CAMPAIGNS_PER_PROPERTY));
/** Rows per transaction (the upsert itself chunks statements at 5,000 rows). */
const BATCH = 50_000;
const FIRST_DAY = Date.UTC(2023, 0, 1);

function isoDay(offset: number): string {
  return new Date(FIRST_DAY + offset * 86_400_000).toISOString().slice(0, 10);
}

interface Campaign {
  channel: 'meta' | 'google_ads';
  accountId: string;
  campaignId: string;
  name: string;
  propertyId: string;
}

/** Deterministic, cheap figures: the benchmark measures the database, not a random generator. */
function row(c: Campaign, index: number, day: number): CampaignDayRow {
  const base = (index * 7919 + day * 104729) % 1000;
  const impressions = 500 + base * 3;
  const clicks = 5 + (base % 97);
  const cents = 1000 + base * 13;
  return {
    date: isoDay(day),
    campaignId: c.campaignId,
    campaignName: c.name,
    impressions,
    clicks,
    spend: `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`,
    conversions: base % 5,
  };
}

/** All rows, in batches of BATCH, grouped by channel/account within a batch (one upsert call per group). */
function* batches(campaigns: Campaign[]): Generator<Map<string, { c: Campaign; rows: CampaignDayRow[] }>> {
  let current = new Map<string, { c: Campaign; rows: CampaignDayRow[] }>();
  let size = 0;
  let produced = 0;
  for (let day = 0; day < DAYS && produced < TOTAL; day++) {
    for (let i = 0; i < campaigns.length && produced < TOTAL; i++) {
      const c = campaigns[i]!;
      const key = `${c.channel}/${c.accountId}`;
      const group = current.get(key) ?? { c, rows: [] };
      group.rows.push(row(c, i, day));
      current.set(key, group);
      size++;
      produced++;
      if (size === BATCH) {
        yield current;
        current = new Map();
        size = 0;
      }
    }
  }
  if (size) yield current;
}

function percentile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

function line(name: string, value: string) {
  console.log(`${name.padEnd(58)} ${value}`);
}

const dataDir = mkdtempSync(join(tmpdir(), 'p11-bench-dl-'));
const database = await createDatabase({ pgliteDataDir: join(dataDir, 'pglite') });
try {
  console.log(`P11 Console Data Lake benchmarks (node ${process.version}, ${TOTAL.toLocaleString()} facts)\n`);
  await database.migrate();
  const db = database.db;
  const org = await createOrganization(db, {
    name: 'Bench Lake',
    slug: 'bench-lake',
    properties: Array.from({ length: PROPERTIES }, (_, i) => ({ name: `Lake Property ${i + 1}` })),
    users: [],
    apiKeys: [{ name: 'bench', scopes: [...API_KEY_SCOPES] }],
  });
  const campaigns: Campaign[] = [];
  org.propertyIds.forEach((propertyId, p) => {
    for (let k = 0; k < CAMPAIGNS_PER_PROPERTY; k++) {
      const channel = k % 2 === 0 ? 'meta' : 'google_ads';
      campaigns.push({
        channel,
        accountId: channel === 'meta' ? 'bench-meta' : 'bench-google',
        campaignId: `${channel}-${p}-${k}`,
        name: `Lake Property ${p + 1} | campaign ${k}`,
        propertyId,
      });
    }
  });
  const propertyByCampaign = new Map(campaigns.map((c) => [c.campaignId, c.propertyId]));

  async function upsertAll(): Promise<number> {
    const started = performance.now();
    let written = 0;
    for (const batch of batches(campaigns)) {
      await withTenant(db, org.orgId, async (tx) => {
        for (const { c, rows } of batch.values()) {
          written += await upsertCampaignFacts(tx, {
            orgId: org.orgId,
            channel: c.channel,
            accountId: c.accountId,
            connectionId: null,
            syncRunId: null,
            rawSource: 'bench',
            rows,
            propertyByCampaign,
          });
        }
      });
    }
    const ms = performance.now() - started;
    if (written !== TOTAL) throw new Error(`wrote ${written} rows, expected ${TOTAL}`);
    return ms;
  }

  const insertMs = await upsertAll();
  line(
    'upsert into empty fact table (insert path)',
    `${((TOTAL / insertMs) * 1000).toFixed(0)} rows/s  (${(insertMs / 1000).toFixed(1)} s)`,
  );
  const updateMs = await upsertAll();
  line(
    'upsert again, same keys (update path: a full re-pull)',
    `${((TOTAL / updateMs) * 1000).toFixed(0)} rows/s  (${(updateMs / 1000).toFixed(1)} s)`,
  );

  await db.execute(sql`create table bench_bare (like fact_marketing_performance including defaults)`);
  let started = performance.now();
  for (const batch of batches(campaigns)) {
    await db.transaction(async (tx) => {
      for (const { c, rows } of batch.values()) {
        for (let i = 0; i < rows.length; i += 5_000) {
          const chunk = rows.slice(i, i + 5_000).map((r) => ({
            d: r.date,
            c: r.campaignId,
            n: r.campaignName,
            p: propertyByCampaign.get(r.campaignId),
            i: r.impressions,
            k: r.clicks,
            s: r.spend,
            v: r.conversions,
          }));
          await tx.execute(sql`
            insert into bench_bare (org_id, date, channel_id, account_id, campaign_id, property_id, campaign_name,
                                    impressions, clicks, spend, conversions, raw_source)
            select ${org.orgId}::uuid, r.d, ${c.channel}, ${c.accountId}, r.c, r.p, r.n, r.i, r.k, r.s, r.v, 'bench'
            from jsonb_to_recordset(${JSON.stringify(chunk)}::jsonb)
              as r(d date, c text, n text, p uuid, i bigint, k bigint, s numeric(12, 2), v bigint)`);
        }
      }
    });
  }
  const bareMs = performance.now() - started;
  line(
    'bare bulk insert, unindexed copy (baseline)',
    `${((TOTAL / bareMs) * 1000).toFixed(0)} rows/s  (${(bareMs / 1000).toFixed(1)} s)`,
  );
  line(
    'upsert / bare throughput ratio (insert path, update path)',
    `${(bareMs / insertMs).toFixed(2)}, ${(bareMs / updateMs).toFixed(2)}`,
  );
  await db.execute(sql`drop table bench_bare`);
  await db.execute(sql`analyze fact_marketing_performance`);

  // The API as deployed, minus Temporal (the analytics routes never touch it; the lazy client never dials).
  const config = loadConfig({ DATA_DIR: dataDir, P11_MODE: 'sandbox', RATE_LIMIT_PER_MINUTE: '100000000' });
  const app = createApp({
    config,
    db,
    temporal: new Client({ connection: Connection.lazy({ address: '127.0.0.1:1' }), namespace: 'bench' }),
    rateLimiter: createRateLimiter({ points: config.rateLimitPerMinute, durationSeconds: 60, keyPrefix: 'bench' }),
    signInLimiter: createSignInLimiter({}),
    encryptor: createEncryptor(config.encryptionKey),
  });
  const headers = { authorization: `Bearer ${org.apiKeys[0]!.key}`, 'content-type': 'application/json' };
  const end = isoDay(DAYS - 1);
  const start = isoDay(DAYS - 90);

  async function timeQuery(name: string, body: Record<string, unknown>, n = 40) {
    const samples: number[] = [];
    for (let i = -3; i < n; i++) {
      const t = performance.now();
      const res = await app.request('/v1/analytics/query', { method: 'POST', headers, body: JSON.stringify(body) });
      if (res.status !== 200) throw new Error(`${name}: ${res.status} ${await res.text()}`);
      await res.arrayBuffer();
      if (i >= 0) samples.push(performance.now() - t); // the first three warm caches
    }
    samples.sort((a, b) => a - b);
    line(
      name,
      `p50 ${percentile(samples, 0.5).toFixed(1)} ms  p95 ${percentile(samples, 0.95).toFixed(1)} ms  (n=${n})`,
    );
  }

  const metrics = ['spend', 'leads', 'cpa', 'impressions', 'clicks', 'ctr', 'cpc'];
  const range = { start, end };
  console.log('');
  await timeQuery('analytics: 90 days daily, 1 property', {
    propertyIds: [org.propertyIds[0]],
    dateRange: range,
    interval: 'day',
    metrics,
  });
  await timeQuery('analytics: 90 days daily, 10 properties', {
    propertyIds: org.propertyIds,
    dateRange: range,
    interval: 'day',
    metrics,
  });
  await timeQuery('analytics: 90 days daily, 10 properties, by channel', {
    propertyIds: org.propertyIds,
    dateRange: range,
    interval: 'day',
    metrics,
    groupBy: 'channel',
  });
  await timeQuery('analytics: 1 year weekly, 10 properties', {
    propertyIds: org.propertyIds,
    dateRange: { start: isoDay(DAYS - 365), end },
    interval: 'week',
    metrics,
  });
  const rss = process.memoryUsage().rss / 1024 / 1024;
  console.log(`\nprocess RSS after the run ${rss.toFixed(0)} MiB`);
} finally {
  await database.close();
  rmSync(dataDir, { recursive: true, force: true });
}
