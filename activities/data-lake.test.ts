/**
 * The Data Lake activities against a real migrated PGlite (RLS on) with small fake platform clients: property
 * resolution and re-mapping, the page upsert, the finish that makes a re-pull replace its range exactly,
 * idempotent planning, sync windows in the connection's timezone, and the mapping of platform errors to
 * Temporal failures. The sandbox-backed end-to-end runs are in workflows/data-lake.test.ts.
 */
import { ApplicationFailure } from '@temporalio/common';
import { and, asc, eq } from 'drizzle-orm';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { DatabaseHandle } from '../db/client';
import { createOrganization } from '../db/organizations';
import {
  adCampaigns,
  adConnections,
  adSyncRuns,
  factMarketingPerformance,
  rawGoogleAds,
  type AdConnection,
} from '../db/schema';
import { withTenant } from '../db/tenancy';
import {
  InvalidCredentialsError,
  InvalidRequestError,
  ThrottledError,
  type AdPlatformClients,
  type CampaignDayRow,
  type DateRange,
} from '../integrations/ad-platforms';
import { createEncryptor } from '../lib/crypto';
import { createTestDatabase } from '../test/database';
import { createDataLakeActivities, resolveSyncWindow } from './data-lake';
import {
  campaignRuleMatches,
  remapCampaignFacts,
  resolveCampaignProperty,
  upsertCampaignFacts,
} from './data-lake-facts';

const encryptor = createEncryptor(randomBytes(32));

/** A campaign platform holding rows in memory, served `pageSize` at a time; `failNext` makes the next fetch throw. */
class FakePlatform {
  rows: CampaignDayRow[] = [];
  pageSize = 2;
  failNext: Error | null = null;
  requests: { range: DateRange; cursor: string | null; accessToken: string }[] = [];

  clients(): AdPlatformClients {
    return {
      campaignClient: (_channel, _accountId, credentials) => ({
        rawSource: 'fake_api_v1',
        fetchPage: async (range, cursor) => {
          this.requests.push({ range, cursor, accessToken: (credentials as { accessToken: string }).accessToken });
          if (this.failNext) {
            const err = this.failNext;
            this.failNext = null;
            throw err;
          }
          const inRange = this.rows.filter((r) => r.date >= range.start && r.date <= range.end);
          const offset = cursor ? Number(cursor) : 0;
          const rows = inRange.slice(offset, offset + this.pageSize);
          const next = offset + this.pageSize < inRange.length ? String(offset + this.pageSize) : null;
          return { request: { path: '/fake', offset }, raw: { data: rows, offset }, rows, nextCursor: next };
        },
      }),
      trafficClient: () => {
        throw new Error('not used');
      },
    };
  }
}

const row = (
  date: string,
  campaignId: string,
  campaignName: string,
  spend: string,
  conversions = 1,
): CampaignDayRow => ({
  date,
  campaignId,
  campaignName,
  impressions: 1000,
  clicks: 50,
  spend,
  conversions,
});

let database: DatabaseHandle;
let orgId: string;
let reserveId: string;
let harborId: string;
let now = new Date('2026-03-15T06:30:00Z');
const platform = new FakePlatform();
let activities: ReturnType<typeof createDataLakeActivities>;

beforeAll(async () => {
  database = await createTestDatabase();
  const created = await createOrganization(database.db, {
    name: 'Facts Org',
    slug: `facts-org-${process.pid}`,
    properties: [
      { name: 'The Reserve at Sandpoint', timezone: 'America/Los_Angeles' },
      { name: 'Harbor View Lofts', timezone: 'America/Los_Angeles' },
    ],
  });
  orgId = created.orgId;
  [reserveId, harborId] = created.propertyIds as [string, string];
  activities = createDataLakeActivities({ db: database.db, encryptor, adClients: platform.clients(), now: () => now });
});
afterAll(async () => {
  await database?.close();
});

let accountCount = 0;
async function newConnection(overrides: Partial<typeof adConnections.$inferInsert> = {}): Promise<AdConnection> {
  const [conn] = await withTenant(database.db, orgId, (tx) =>
    tx
      .insert(adConnections)
      .values({
        orgId,
        channel: 'google_ads',
        name: 'Fake',
        accountId: `90000000${++accountCount}`,
        credentialsCiphertext: encryptor.encrypt(JSON.stringify({ accessToken: 'fake-token' })),
        timezone: 'America/Los_Angeles',
        lookbackDays: 3,
        ...overrides,
      })
      .returning(),
  );
  return conn!;
}

let runCount = 0;
async function runSync(conn: AdConnection, range: DateRange) {
  const plan = await activities.planAdSync({
    orgId,
    connectionId: conn.id,
    range,
    trigger: 'manual',
    workflowId: `wf-${conn.id}`,
    runId: `run-${++runCount}`,
  });
  let cursor: string | null = null;
  let pageIndex = 0;
  const totals = { pages: 0, rowsFetched: 0, factsUpserted: 0 };
  do {
    const page = await activities.syncAdPage({
      orgId,
      connectionId: conn.id,
      syncRunId: plan.syncRunId,
      range,
      cursor,
      pageIndex: pageIndex++,
    });
    totals.pages++;
    totals.rowsFetched += page.rows;
    totals.factsUpserted += page.factsUpserted;
    cursor = page.nextCursor;
  } while (cursor);
  const finished = await activities.finishAdSync({ orgId, syncRunId: plan.syncRunId, status: 'succeeded', ...totals });
  return { plan, totals, finished };
}

async function facts(conn: AdConnection) {
  const f = factMarketingPerformance;
  return withTenant(database.db, orgId, (tx) =>
    tx
      .select({
        date: f.date,
        campaignId: f.campaignId,
        spend: f.spend,
        propertyId: f.propertyId,
        syncRunId: f.syncRunId,
      })
      .from(f)
      .where(and(eq(f.channelId, conn.channel), eq(f.accountId, conn.accountId)))
      .orderBy(asc(f.date), asc(f.campaignId)),
  );
}

describe('campaign → property resolution', () => {
  test('rule patterns: case-insensitive contains; `*` anchors and matches any run', () => {
    expect(campaignRuleMatches('reserve', 'The Reserve at Sandpoint - Search')).toBe(true);
    expect(campaignRuleMatches('The Reserve*', 'The Reserve at Sandpoint - Search')).toBe(true);
    expect(campaignRuleMatches('*Search', 'The Reserve at Sandpoint - Search')).toBe(true);
    expect(campaignRuleMatches('*Harbor*', 'The Reserve at Sandpoint - Search')).toBe(false);
    expect(campaignRuleMatches('Reserve*', 'The Reserve at Sandpoint')).toBe(false);
    expect(campaignRuleMatches('a.b (c)', 'x A.B (C) y')).toBe(true);
    expect(campaignRuleMatches('  ', 'anything')).toBe(false);
  });

  test('explicit mapping > first matching rule > default property > unmapped', () => {
    const connection = {
      campaignRules: [
        { pattern: 'harbor', propertyId: 'harbor' },
        { pattern: 'lofts', propertyId: 'lofts' },
      ],
      defaultPropertyId: 'default',
    };
    expect(resolveCampaignProperty({ name: 'Harbor Lofts', explicitPropertyId: 'x' }, connection)).toEqual({
      propertyId: 'x',
      mappedBy: 'explicit',
    });
    expect(resolveCampaignProperty({ name: 'Harbor Lofts', explicitPropertyId: null }, connection)).toEqual({
      propertyId: 'harbor',
      mappedBy: 'rule',
    });
    expect(resolveCampaignProperty({ name: 'Other', explicitPropertyId: null }, connection)).toEqual({
      propertyId: 'default',
      mappedBy: 'default',
    });
    expect(
      resolveCampaignProperty(
        { name: 'Other', explicitPropertyId: null },
        { campaignRules: [], defaultPropertyId: null },
      ),
    ).toEqual({
      propertyId: null,
      mappedBy: null,
    });
  });
});

describe('sync activities', () => {
  test('pages upsert raw JSON, campaigns and facts with the resolved property; unmapped campaigns are kept', async () => {
    const conn = await newConnection({ campaignRules: [{ pattern: 'reserve', propertyId: reserveId }] });
    platform.rows = [
      row('2026-03-01', 'c1', 'The Reserve - Brand', '10.50'),
      row('2026-03-01', 'c2', 'Harbor View - Search', '20.00'),
      row('2026-03-02', 'c1', 'The Reserve - Brand', '11.25'),
      row('2026-03-02', 'c2', 'Harbor View - Search', '19.99'),
      row('2026-03-03', 'c3', 'Agency Test', '0.01'),
    ];
    const { plan, totals } = await runSync(conn, { start: '2026-03-01', end: '2026-03-03' });
    expect(totals).toEqual({ pages: 3, rowsFetched: 5, factsUpserted: 5 });
    expect((await facts(conn)).map((f) => [f.date, f.campaignId, f.spend, f.propertyId])).toEqual([
      ['2026-03-01', 'c1', '10.50', reserveId],
      ['2026-03-01', 'c2', '20.00', null],
      ['2026-03-02', 'c1', '11.25', reserveId],
      ['2026-03-02', 'c2', '19.99', null],
      ['2026-03-03', 'c3', '0.01', null],
    ]);
    const raw = await withTenant(database.db, orgId, (tx) =>
      tx
        .select()
        .from(rawGoogleAds)
        .where(eq(rawGoogleAds.syncRunId, plan.syncRunId))
        .orderBy(asc(rawGoogleAds.pageIndex)),
    );
    expect(raw.map((r) => [r.pageIndex, r.requestParams.offset, r.requestParams.cursor])).toEqual([
      [0, 0, null],
      [1, 2, '2'],
      [2, 4, '4'],
    ]);

    // Staff map c2 explicitly; a default property picks up the rest; the facts follow.
    await withTenant(database.db, orgId, async (tx) => {
      await tx
        .update(adCampaigns)
        .set({ explicitPropertyId: harborId })
        .where(and(eq(adCampaigns.connectionId, conn.id), eq(adCampaigns.campaignId, 'c2')));
      await tx.update(adConnections).set({ defaultPropertyId: reserveId }).where(eq(adConnections.id, conn.id));
      expect(await remapCampaignFacts(tx, orgId, conn.id)).toEqual({ campaignsChanged: 2, factsChanged: 3 });
    });
    expect((await facts(conn)).map((f) => f.propertyId)).toEqual([reserveId, harborId, reserveId, harborId, reserveId]);
    const campaigns = await withTenant(database.db, orgId, (tx) =>
      tx.select().from(adCampaigns).where(eq(adCampaigns.connectionId, conn.id)).orderBy(asc(adCampaigns.campaignId)),
    );
    expect(campaigns.map((c) => [c.campaignId, c.propertyId, c.mappedBy])).toEqual([
      ['c1', reserveId, 'rule'],
      ['c2', harborId, 'explicit'],
      ['c3', reserveId, 'default'],
    ]);

    // A later sync keeps the explicit mapping and writes the resolved property on new facts.
    platform.rows.push(row('2026-03-04', 'c2', 'Harbor View - Search', '5.00'));
    await runSync(conn, { start: '2026-03-04', end: '2026-03-04' });
    expect((await facts(conn)).at(-1)).toMatchObject({ campaignId: 'c2', propertyId: harborId });
  });

  test('a re-pull replaces its range exactly: rows the platform stopped reporting are removed, others kept', async () => {
    const conn = await newConnection();
    platform.rows = [
      row('2026-02-27', 'a', 'A', '1.00'),
      row('2026-02-28', 'a', 'A', '2.00'),
      row('2026-02-28', 'b', 'B', '3.00'),
      row('2026-03-01', 'a', 'A', '4.00'),
    ];
    await runSync(conn, { start: '2026-02-27', end: '2026-03-01' });
    expect(await facts(conn)).toHaveLength(4);

    // The platform restates: b on 02-28 disappears, a on 02-28 changes; 02-27 is outside the re-pulled range.
    platform.rows = [
      row('2026-02-27', 'a', 'A', '9.99'),
      row('2026-02-28', 'a', 'A', '2.50'),
      row('2026-03-01', 'a', 'A', '4.00'),
    ];
    const { finished, plan } = await runSync(conn, { start: '2026-02-28', end: '2026-03-01' });
    expect(finished).toEqual({ status: 'succeeded', factsRemoved: 1 });
    expect((await facts(conn)).map((f) => [f.date, f.campaignId, f.spend])).toEqual([
      ['2026-02-27', 'a', '1.00'],
      ['2026-02-28', 'a', '2.50'],
      ['2026-03-01', 'a', '4.00'],
    ]);
    // Finishing twice (a retried activity) changes nothing and reports the first outcome.
    expect(
      await activities.finishAdSync({
        orgId,
        syncRunId: plan.syncRunId,
        status: 'succeeded',
        pages: 0,
        rowsFetched: 0,
        factsUpserted: 0,
      }),
    ).toEqual(finished);
    const [run] = await withTenant(database.db, orgId, (tx) =>
      tx.select().from(adSyncRuns).where(eq(adSyncRuns.id, plan.syncRunId)),
    );
    expect(run).toMatchObject({ status: 'succeeded', pages: 1, rowsFetched: 2, factsUpserted: 2, factsRemoved: 1 });
  });

  test('overlapping runs of one range: a finishing run removes only rows written before it started', async () => {
    const conn = await newConnection();
    const range: DateRange = { start: '2026-03-01', end: '2026-03-02' };
    platform.pageSize = 10;
    try {
      platform.rows = [
        row('2026-03-01', 'a', 'A', '1.00'),
        row('2026-03-01', 'b', 'B', '2.00'),
        row('2026-03-02', 'c', 'C', '3.00'),
      ];
      await runSync(conn, range);

      // Two runs of the same range overlap (a manual sync while the daily one runs): the older starts first,
      // the newer reads the platform last and sees campaign d, which the older never saw.
      const plan = (runId: string) =>
        activities.planAdSync({
          orgId,
          connectionId: conn.id,
          range,
          trigger: 'manual',
          workflowId: `wf-overlap-${conn.id}`,
          runId,
        });
      const page = (syncRunId: string) =>
        activities.syncAdPage({ orgId, connectionId: conn.id, syncRunId, range, cursor: null, pageIndex: 0 });
      const finish = (syncRunId: string, rows: number) =>
        activities.finishAdSync({
          orgId,
          syncRunId,
          status: 'succeeded',
          pages: 1,
          rowsFetched: rows,
          factsUpserted: rows,
        });
      const older = await plan('older');
      const newer = await plan('newer');
      platform.rows = [row('2026-03-01', 'a', 'A', '1.50'), row('2026-03-02', 'c', 'C', '3.00')];
      expect((await page(older.syncRunId)).factsUpserted).toBe(2);
      platform.rows = [
        row('2026-03-01', 'a', 'A', '1.75'),
        row('2026-03-02', 'c', 'C', '3.00'),
        row('2026-03-02', 'd', 'D', '4.00'),
      ];
      expect((await page(newer.syncRunId)).factsUpserted).toBe(3);

      // The older run finishes first: b (written before it started, reported by neither run) goes; the newer
      // run's rows, d included, stay.
      expect(await finish(older.syncRunId, 2)).toEqual({ status: 'succeeded', factsRemoved: 1 });
      expect(await finish(newer.syncRunId, 3)).toEqual({ status: 'succeeded', factsRemoved: 0 });
      expect((await facts(conn)).map((f) => [f.date, f.campaignId, f.spend, f.syncRunId])).toEqual([
        ['2026-03-01', 'a', '1.75', newer.syncRunId],
        ['2026-03-02', 'c', '3.00', newer.syncRunId],
        ['2026-03-02', 'd', '4.00', newer.syncRunId],
      ]);
      // The newest run speaks for the connection.
      const [after] = await withTenant(database.db, orgId, (tx) =>
        tx.select().from(adConnections).where(eq(adConnections.id, conn.id)),
      );
      expect(after).toMatchObject({ lastSyncStatus: 'succeeded', lastSyncError: null });
    } finally {
      platform.pageSize = 2;
    }
  });

  test('planning is idempotent per (workflow, run); windows are read in the connection timezone', async () => {
    const conn = await newConnection({ lookbackDays: 3 });
    const input = {
      orgId,
      connectionId: conn.id,
      window: { kind: 'lookback' as const },
      trigger: 'schedule_daily' as const,
      workflowId: 'wf-plan',
      runId: 'r1',
    };
    const first = await activities.planAdSync(input);
    // 2026-03-15T06:30Z is still the 14th in Los Angeles: the 3 complete days before it.
    expect(first.range).toEqual({ start: '2026-03-11', end: '2026-03-13' });
    now = new Date('2026-03-20T12:00:00Z');
    try {
      const again = await activities.planAdSync(input);
      expect(again).toEqual(first);
    } finally {
      now = new Date('2026-03-15T06:30:00Z');
    }
    expect(resolveSyncWindow({ kind: 'today' }, 'America/Los_Angeles', 3, now)).toEqual({
      start: '2026-03-14',
      end: '2026-03-14',
    });
    expect(resolveSyncWindow({ kind: 'today' }, 'Europe/Berlin', 3, now)).toEqual({
      start: '2026-03-15',
      end: '2026-03-15',
    });
    const err = await activities
      .planAdSync({ ...input, runId: 'r2', window: undefined, range: { start: '2026-03-05', end: '2026-03-01' } })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect((err as ApplicationFailure).nonRetryable).toBe(true);
  });

  test('platform errors become the right Temporal failures; rejected credentials show on the connection', async () => {
    const conn = await newConnection();
    platform.rows = [row('2026-03-01', 'a', 'A', '1.00')];
    const plan = await activities.planAdSync({
      orgId,
      connectionId: conn.id,
      range: { start: '2026-03-01', end: '2026-03-01' },
      trigger: 'manual',
      workflowId: 'wf-err',
      runId: 'r1',
    });
    const page = {
      orgId,
      connectionId: conn.id,
      syncRunId: plan.syncRunId,
      range: plan.range,
      cursor: null,
      pageIndex: 0,
    };

    platform.failNext = new ThrottledError('slow down', 1_500);
    const throttled = (await activities.syncAdPage(page).catch((e: unknown) => e)) as ApplicationFailure;
    expect(throttled).toBeInstanceOf(ApplicationFailure);
    expect(throttled).toMatchObject({ type: 'Throttled', nonRetryable: false, nextRetryDelay: 1_500 });

    platform.failNext = new InvalidRequestError('unknown field');
    const invalid = (await activities.syncAdPage(page).catch((e: unknown) => e)) as ApplicationFailure;
    expect(invalid).toMatchObject({ type: 'InvalidRequest', nonRetryable: true });

    platform.failNext = new Error('socket hang up');
    await expect(activities.syncAdPage(page)).rejects.toThrow('socket hang up');

    platform.failNext = new InvalidCredentialsError('token expired');
    const creds = (await activities.syncAdPage(page).catch((e: unknown) => e)) as ApplicationFailure;
    expect(creds).toMatchObject({ type: 'InvalidCredentials', nonRetryable: true });
    const [marked] = await withTenant(database.db, orgId, (tx) =>
      tx.select().from(adConnections).where(eq(adConnections.id, conn.id)),
    );
    expect(marked!.credentialsInvalidAt).toBeInstanceOf(Date);
    expect(marked!.lastSyncError).toMatch(/token expired/);

    // The credentials were decrypted for the client only inside the activity.
    expect(platform.requests.at(-1)!.accessToken).toBe('fake-token');

    // A later successful run clears the flag.
    await activities.syncAdPage(page);
    await activities.finishAdSync({
      orgId,
      syncRunId: plan.syncRunId,
      status: 'succeeded',
      pages: 1,
      rowsFetched: 1,
      factsUpserted: 1,
    });
    const [cleared] = await withTenant(database.db, orgId, (tx) =>
      tx.select().from(adConnections).where(eq(adConnections.id, conn.id)),
    );
    expect(cleared).toMatchObject({ credentialsInvalidAt: null, lastSyncStatus: 'succeeded', lastSyncError: null });
  });
});

describe('upsertCampaignFacts', () => {
  test('chunks, deduplicates within a statement (last wins), and updates on conflict', async () => {
    const rows = Array.from({ length: 25 }, (_, i) =>
      row(`2026-01-${String((i % 10) + 1).padStart(2, '0')}`, `k${Math.floor(i / 10)}`, 'K', `${i}.10`),
    );
    const written = await withTenant(database.db, orgId, (tx) =>
      upsertCampaignFacts(tx, {
        orgId,
        channel: 'meta',
        accountId: 'bulk-1',
        connectionId: null,
        syncRunId: null,
        rawSource: 'bench',
        rows: [...rows, row('2026-01-01', 'k0', 'K renamed', '99.99')],
        propertyByCampaign: { k0: reserveId },
        chunkSize: 7,
      }),
    );
    expect(written).toBe(25);
    const stored = await withTenant(database.db, orgId, (tx) =>
      tx.select().from(factMarketingPerformance).where(eq(factMarketingPerformance.accountId, 'bulk-1')),
    );
    expect(stored).toHaveLength(25);
    expect(stored.find((f) => f.campaignId === 'k0' && f.date === '2026-01-01')).toMatchObject({
      spend: '99.99',
      campaignName: 'K renamed',
      propertyId: reserveId,
    });
    expect(stored.filter((f) => f.campaignId !== 'k0').every((f) => f.propertyId === null)).toBe(true);
    await expect(
      withTenant(database.db, orgId, (tx) =>
        upsertCampaignFacts(tx, {
          orgId,
          channel: 'meta',
          accountId: 'bulk-1',
          connectionId: null,
          syncRunId: null,
          rawSource: 'x',
          rows: [row('2026-01-01', 'z', 'Z', '1.234')],
          propertyByCampaign: {},
        }),
      ),
    ).rejects.toThrow(/Invalid spend/);
  });
});
