/**
 * Data Lake syncs end to end on the real Temporal dev server: the workflows run on a Worker with the real
 * activities over PGlite, the production platform clients talk to the sandbox emulators, and the facts are
 * compared with what the synthetic world says a correct sync must store (expectedCampaignDays/TrafficDays).
 */
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { and, asc, eq, sql } from 'drizzle-orm';
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { DatabaseHandle } from '../db/client';
import { createOrganization } from '../db/organizations';
import {
  adConnections,
  adSyncRuns,
  factMarketingPerformance,
  factWebTraffic,
  rawMetaAds,
  type AdChannel,
  type AdConnection,
} from '../db/schema';
import type { CampaignDayRow, DateRange, TrafficDayRow } from '../integrations/ad-platforms';
import { createEncryptor } from '../lib/crypto';
import { expectedCampaignDays, expectedTrafficDays, SANDBOX_CREDENTIALS, type Revision } from '../sandbox/ad-world';
import {
  deleteConnectionSchedules,
  describeConnectionSchedules,
  syncConnectionSchedules,
} from '../temporal/etl-schedules';
import { startEtlWorker, type EtlWorker } from '../test/etl-worker';
import {
  adBackfillWorkflowId,
  adScheduleId,
  adSyncWorkflowId,
  backfillMonthWorkflowId,
  type adBackfillWorkflow,
  type AdBackfillWorkflowResult,
  type adSyncWorkflow,
  type AdSyncWorkflowInput,
  type AdSyncWorkflowResult,
  type BackfillProgress,
} from './data-lake';

const encryptor = createEncryptor(randomBytes(32));
/** The world clock and the activities' clock, moved together. */
let asOf = new Date('2026-03-15T20:00:00Z');
const META_PAGE_SIZE = 20;

let harness: EtlWorker;
let database: DatabaseHandle;
let client: Client;
let orgId: string;
let reserveId: string;
let harborId: string;

async function setClock(at: Date) {
  asOf = at;
  await harness.control('/_world/clock', { now: at.toISOString() });
}

beforeAll(async () => {
  harness = await startEtlWorker({
    name: 'workflows-data-lake',
    encryptor,
    now: () => asOf,
    clientOptions: { metaPageSize: META_PAGE_SIZE },
  });
  ({ database, client } = harness);
  await setClock(asOf);
});

let orgCount = 0;
/** Each connection gets its own organization, so tests never share facts (the fact key is per organization). */
async function newOrg() {
  const created = await createOrganization(database.db, {
    name: `ETL Org ${++orgCount}`,
    slug: `etl-org-${orgCount}-${process.pid}-${Date.now().toString(36)}`,
    properties: [
      { name: 'The Reserve at Sandpoint', timezone: 'America/Los_Angeles' },
      { name: 'Harbor View Lofts', timezone: 'America/Los_Angeles' },
    ],
  });
  orgId = created.orgId;
  [reserveId, harborId] = created.propertyIds as [string, string];
}

afterAll(async () => {
  await harness?.close();
});

const CREDENTIALS: Record<AdChannel, object> = SANDBOX_CREDENTIALS;

async function connection(
  channel: AdChannel,
  accountId: string,
  overrides: Partial<typeof adConnections.$inferInsert> = {},
): Promise<AdConnection> {
  await newOrg();
  const [row] = await database.db
    .insert(adConnections)
    .values({
      orgId,
      channel,
      name: `${channel} ${accountId}`,
      accountId,
      credentialsCiphertext: encryptor.encrypt(JSON.stringify(CREDENTIALS[channel])),
      timezone: 'America/Los_Angeles',
      defaultPropertyId: channel === 'ga4' ? reserveId : null,
      campaignRules: [],
      lookbackDays: channel === 'meta' ? 28 : channel === 'google_ads' ? 14 : 2,
      ...overrides,
    })
    .returning();
  return row!;
}

let runCount = 0;
function sync(conn: AdConnection, input: Omit<AdSyncWorkflowInput, 'orgId' | 'connectionId'>) {
  const id = input.range
    ? `${adSyncWorkflowId(conn.orgId, conn.id, input.range)}/${++runCount}`
    : `etl-test/${conn.id}/${++runCount}`;
  return client.workflow.execute<typeof adSyncWorkflow>('adSyncWorkflow', {
    taskQueue: harness.taskQueue,
    workflowId: id,
    args: [{ orgId: conn.orgId, connectionId: conn.id, ...input }],
    workflowExecutionTimeout: '2m',
  });
}

interface FactRow {
  date: string;
  campaignId: string;
  campaignName: string;
  impressions: number;
  clicks: number;
  spend: string;
  conversions: number;
}

async function factsOf(conn: AdConnection, range?: DateRange): Promise<FactRow[]> {
  const f = factMarketingPerformance;
  return database.db
    .select({
      date: f.date,
      campaignId: f.campaignId,
      campaignName: f.campaignName,
      impressions: f.impressions,
      clicks: f.clicks,
      spend: f.spend,
      conversions: f.conversions,
    })
    .from(f)
    .where(
      and(
        eq(f.orgId, conn.orgId),
        eq(f.channelId, conn.channel),
        eq(f.accountId, conn.accountId),
        range ? sql`${f.date} between ${range.start} and ${range.end}` : undefined,
      ),
    )
    .orderBy(asc(f.date), asc(f.campaignId));
}

const sortRows = (rows: CampaignDayRow[]) =>
  [...rows].sort((a, b) => a.date.localeCompare(b.date) || a.campaignId.localeCompare(b.campaignId));
const cents = (spend: string) => Math.round(Number(spend) * 100);

function totals(rows: { spend: string; clicks: number; impressions: number; conversions: number }[]) {
  return {
    rows: rows.length,
    spendCents: rows.reduce((s, r) => s + cents(r.spend), 0),
    clicks: rows.reduce((s, r) => s + r.clicks, 0),
    impressions: rows.reduce((s, r) => s + r.impressions, 0),
    leads: rows.reduce((s, r) => s + r.conversions, 0),
  };
}

/** The facts must be exactly the rows a correct client returns (numeric spend comes back as "12.30"). */
function expectFactsEqual(actual: FactRow[], expected: CampaignDayRow[]) {
  expect(totals(actual)).toEqual(totals(expected));
  expect(actual.map((r) => ({ ...r, spend: cents(r.spend) }))).toEqual(
    sortRows(expected).map((r) => ({ ...r, spend: cents(r.spend) })),
  );
}

function failureTypes(err: unknown): string[] {
  const types: string[] = [];
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    if (e instanceof ApplicationFailure && e.type) types.push(e.type);
  }
  return types;
}

describe('adSyncWorkflow', () => {
  const february: DateRange = { start: '2026-02-01', end: '2026-02-28' };

  test('Meta: a full sync of a month stores exactly the expected facts, across several pages, with raw pages', async () => {
    const conn = await connection('meta', '1001001');
    const expected = expectedCampaignDays('meta', '1001001', february, asOf);
    expect(expected.length).toBeGreaterThan(META_PAGE_SIZE * 2);

    const result: AdSyncWorkflowResult = await sync(conn, { range: february });
    expect(result.rowsFetched).toBe(expected.length);
    expect(result.factsUpserted).toBe(expected.length);
    expect(result.pages).toBe(Math.ceil(expected.length / META_PAGE_SIZE));
    expect(result.factsRemoved).toBe(0);
    expectFactsEqual(await factsOf(conn), expected);

    const raw = await database.db
      .select()
      .from(rawMetaAds)
      .where(eq(rawMetaAds.syncRunId, result.syncRunId))
      .orderBy(asc(rawMetaAds.pageIndex));
    expect(raw.map((r) => r.pageIndex)).toEqual([...Array(result.pages).keys()]);
    expect(raw.every((r) => r.connectionId === conn.id && r.orgId === orgId)).toBe(true);
    expect(raw[0]!.requestParams).toMatchObject({ range: february, cursor: null, pageIndex: 0 });
    expect(raw[1]!.requestParams.cursor).toEqual(expect.any(String));
    // The page as Meta sent it: insights rows with actions, and the paging cursors.
    expect((raw[0]!.data as { data: unknown[] }).data).toHaveLength(META_PAGE_SIZE);
    expect(JSON.stringify(raw[0]!.requestParams)).not.toContain(SANDBOX_CREDENTIALS.meta.accessToken);

    const [run] = await database.db.select().from(adSyncRuns).where(eq(adSyncRuns.id, result.syncRunId));
    expect(run).toMatchObject({
      status: 'succeeded',
      trigger: 'manual',
      rangeStart: february.start,
      rangeEnd: february.end,
      pages: result.pages,
      rowsFetched: expected.length,
      factsUpserted: expected.length,
    });
    const [after] = await database.db.select().from(adConnections).where(eq(adConnections.id, conn.id));
    expect(after).toMatchObject({ lastSyncStatus: 'succeeded', lastSyncError: null, credentialsInvalidAt: null });

    // Re-running the same range: identical facts, no duplicates, nothing removed.
    const again = await sync(conn, { range: february });
    expect(again.syncRunId).not.toBe(result.syncRunId);
    expect(again.factsRemoved).toBe(0);
    expectFactsEqual(await factsOf(conn), expected);
  });

  test('Google Ads: cost_micros → spend to the cent, conversions rounded, same totals as the world', async () => {
    const conn = await connection('google_ads', '1234567890');
    const expected = expectedCampaignDays('google_ads', '1234567890', february, asOf);
    const result = await sync(conn, { range: february });
    expect(result.rowsFetched).toBe(expected.length);
    expectFactsEqual(await factsOf(conn), expected);
    await sync(conn, { range: february });
    expectFactsEqual(await factsOf(conn), expected);
  });

  test('GA4: sessions and key events land in fact_web_traffic under the default property', async () => {
    const conn = await connection('ga4', '310000001');
    const expected = expectedTrafficDays('310000001', february, asOf);
    await sync(conn, { range: february });
    const rows = await database.db
      .select({
        date: factWebTraffic.date,
        sessionSource: factWebTraffic.sessionSource,
        channelGroup: factWebTraffic.channelGroup,
        sessions: factWebTraffic.sessions,
        keyEvents: factWebTraffic.keyEvents,
        propertyId: factWebTraffic.propertyId,
      })
      .from(factWebTraffic)
      .where(and(eq(factWebTraffic.orgId, orgId), eq(factWebTraffic.accountId, '310000001')));
    const key = (r: { date: string; sessionSource: string; channelGroup: string }) =>
      `${r.date}|${r.sessionSource}|${r.channelGroup}`;
    expect(rows).toHaveLength(expected.length);
    expect(rows.every((r) => r.propertyId === reserveId)).toBe(true);
    const byKey = new Map(rows.map((r) => [key(r), r]));
    for (const e of expected as TrafficDayRow[]) {
      const row = byKey.get(key(e));
      expect(row, key(e)).toBeDefined();
      expect(row!.sessions).toBe(e.sessions);
      expect(Number(row!.keyEvents)).toBeCloseTo(e.keyEvents, 2);
    }
  });

  test('restatement: a lookback re-sync after the platform revised two days changes only those days', async () => {
    const conn = await connection('meta', '1001002', { lookbackDays: 10 });
    // The daily window: the 10 complete days before "today" (2026-03-15 in Los Angeles).
    const window: DateRange = { start: '2026-03-05', end: '2026-03-14' };
    const first = await sync(conn, { window: { kind: 'lookback' }, trigger: 'schedule_daily' });
    expect(first.range).toEqual(window);
    const before = await factsOf(conn);
    expectFactsEqual(before, expectedCampaignDays('meta', '1001002', window, asOf));

    const revision: Revision = {
      channel: 'meta',
      accountId: '1001002',
      dates: ['2026-03-08', '2026-03-12'],
      factor: 1.25,
    };
    await harness.control('/_world/revise', revision);
    try {
      const second = await sync(conn, { window: { kind: 'lookback' }, trigger: 'schedule_daily' });
      expect(second.range).toEqual(window);
      const after = await factsOf(conn);
      expectFactsEqual(after, expectedCampaignDays('meta', '1001002', window, asOf, { revisions: [revision] }));
      const changedDates = new Set(
        after.filter((row, i) => JSON.stringify(row) !== JSON.stringify(before[i])).map((r) => r.date),
      );
      expect(after.map((r) => `${r.date}/${r.campaignId}`)).toEqual(before.map((r) => `${r.date}/${r.campaignId}`));
      expect([...changedDates].sort()).toEqual(revision.dates);
    } finally {
      await harness.control('/_world/reset', {});
      await setClock(asOf);
    }
  });

  test('restatement: moving the clock a day re-states only the recent (not yet final) days', async () => {
    const conn = await connection('meta', '1001001', { lookbackDays: 14 });
    const range: DateRange = { start: '2026-02-20', end: '2026-03-14' };
    await sync(conn, { range });
    const before = await factsOf(conn, range);
    const later = new Date('2026-03-16T20:00:00Z');
    await setClock(later);
    try {
      await sync(conn, { range });
      const after = await factsOf(conn, range);
      expectFactsEqual(after, expectedCampaignDays('meta', '1001001', range, later));
      const beforeByKey = new Map(before.map((r) => [`${r.date}/${r.campaignId}`, JSON.stringify(r)]));
      const changed = after.filter((r) => beforeByKey.get(`${r.date}/${r.campaignId}`) !== JSON.stringify(r));
      expect(changed.length).toBeGreaterThan(0);
      // Final days (7+ days before the new clock date, 2026-03-16) never change.
      expect(changed.every((r) => r.date >= '2026-03-09')).toBe(true);
    } finally {
      await setClock(new Date('2026-03-15T20:00:00Z'));
    }
  });

  test('throttling: Google Ads answers RESOURCE_EXHAUSTED three times, the sync backs off as told and completes', async () => {
    const conn = await connection('google_ads', '2345678901');
    const range: DateRange = { start: '2026-01-01', end: '2026-01-10' };
    await fetch(`${harness.sandbox.url}/_world/requests`, { method: 'DELETE' });
    // retryDelay "0s" in the quota error: the platform's own delay is what the retry waits (not the policy's 2 s+).
    await harness.control('/google-ads/_control', { quotaErrorsNext: 3, retrySeconds: 0 });
    const result = await sync(conn, { range });
    const expected = expectedCampaignDays('google_ads', '2345678901', range, asOf);
    expect(result.rowsFetched).toBe(expected.length);
    expectFactsEqual(await factsOf(conn, range), expected);
    const res = await fetch(`${harness.sandbox.url}/_world/requests?service=google_ads`);
    const { requests } = (await res.json()) as { requests: { status: number }[] };
    expect(requests.filter((r) => r.status === 429)).toHaveLength(3);
    expect(requests.filter((r) => r.status === 200)).toHaveLength(result.pages);
    const [run] = await database.db.select().from(adSyncRuns).where(eq(adSyncRuns.id, result.syncRunId));
    expect(run!.status).toBe('succeeded');
  });

  test('bad credentials: the sync fails fast and non-retryably, and the connection shows why', async () => {
    const conn = await connection('google_ads', '2345678901', {
      credentialsCiphertext: encryptor.encrypt(
        JSON.stringify({ ...SANDBOX_CREDENTIALS.google_ads, refreshToken: 'revoked-refresh-token' }),
      ),
    });
    await fetch(`${harness.sandbox.url}/_world/requests`, { method: 'DELETE' });
    const err = await sync(conn, { range: february }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect(failureTypes(err)).toContain('InvalidCredentials');
    // One attempt: the token endpoint refused once, and nothing was retried.
    const res = await fetch(`${harness.sandbox.url}/_world/requests`);
    const { requests } = (await res.json()) as { requests: { service: string; status: number }[] };
    expect(requests.filter((r) => r.status >= 400)).toHaveLength(1);

    const [after] = await database.db.select().from(adConnections).where(eq(adConnections.id, conn.id));
    expect(after!.credentialsInvalidAt).toBeInstanceOf(Date);
    expect(after!.lastSyncStatus).toBe('failed');
    expect(after!.lastSyncError).toMatch(/credentials/i);
    const runs = await database.db.select().from(adSyncRuns).where(eq(adSyncRuns.connectionId, conn.id));
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ status: 'failed' });
    expect(runs[0]!.error).toMatch(/credentials/i);
    expect(await factsOf(conn)).toEqual([]);
  });
});

describe('adBackfillWorkflow', () => {
  test('four months with concurrency 2: children on the backfill queue, progress to 100%, facts exact', async () => {
    const conn = await connection('google_ads', '1234567890');
    const range: DateRange = { start: '2025-10-15', end: '2026-01-31' };
    const workflowId = `${adBackfillWorkflowId(orgId, conn.id, range)}/${randomUUID()}`;
    const handle = await client.workflow.start<typeof adBackfillWorkflow>('adBackfillWorkflow', {
      taskQueue: harness.backfillTaskQueue,
      workflowId,
      args: [
        {
          orgId,
          connectionId: conn.id,
          start: range.start,
          end: range.end,
          concurrency: 2,
          childTaskQueue: harness.backfillTaskQueue,
        },
      ],
      workflowExecutionTimeout: '3m',
    });
    let maxRunning = 0;
    const watching = (async () => {
      for (;;) {
        try {
          const p = await handle.query<BackfillProgress>('progress');
          maxRunning = Math.max(maxRunning, p.monthsRunning);
          if (p.percent === 100) return;
        } catch {
          // Not picked up by the worker yet.
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const result: AdBackfillWorkflowResult = await handle.result();
    await watching;
    expect(result).toMatchObject({ monthsTotal: 4, monthsDone: 4, monthsFailed: 0, failures: [] });
    expect(maxRunning).toBeGreaterThan(0);
    expect(maxRunning).toBeLessThanOrEqual(2);
    const finalProgress = await handle.query<BackfillProgress>('progress');
    expect(finalProgress).toEqual({
      monthsTotal: 4,
      monthsDone: 4,
      monthsFailed: 0,
      monthsRunning: 0,
      factsUpserted: result.factsUpserted,
      percent: 100,
    });

    const months = ['2025-10', '2025-11', '2025-12', '2026-01'];
    for (const month of months) {
      const child = await client.workflow.getHandle(backfillMonthWorkflowId(workflowId, month)).describe();
      expect(child.taskQueue).toBe(harness.backfillTaskQueue);
      expect(child.status.name).toBe('COMPLETED');
    }
    const runs = await database.db
      .select()
      .from(adSyncRuns)
      .where(and(eq(adSyncRuns.connectionId, conn.id), eq(adSyncRuns.trigger, 'backfill')))
      .orderBy(asc(adSyncRuns.rangeStart));
    expect(runs.map((r) => [r.rangeStart, r.rangeEnd, r.status])).toEqual([
      ['2025-10-15', '2025-10-31', 'succeeded'],
      ['2025-11-01', '2025-11-30', 'succeeded'],
      ['2025-12-01', '2025-12-31', 'succeeded'],
      ['2026-01-01', '2026-01-31', 'succeeded'],
    ]);
    const expected = expectedCampaignDays('google_ads', '1234567890', range, asOf);
    expect(result.factsUpserted).toBe(expected.length);
    expectFactsEqual(await factsOf(conn, range), expected);
  });
});

describe('connection schedules', () => {
  test('created with the connection, paused when turned off, triggered runs sync today, deleted with it', async () => {
    const conn = await connection('ga4', '310000002', { defaultPropertyId: harborId, timezone: 'America/Chicago' });
    const options = { taskQueue: harness.taskQueue };
    await syncConnectionSchedules(client, conn, options);
    try {
      const schedules = await describeConnectionSchedules(client, orgId, conn.id);
      expect(schedules.map((s) => [s.scheduleId, s.kind, s.paused])).toEqual([
        [adScheduleId(orgId, conn.id, 'daily'), 'daily', false],
        [adScheduleId(orgId, conn.id, 'hourly'), 'hourly', false],
      ]);
      const daily = await client.schedule.getHandle(adScheduleId(orgId, conn.id, 'daily')).describe();
      expect(daily.spec.timezone).toBe('America/Chicago');
      expect(daily.policies.overlap).toBe('SKIP');
      expect(daily.action).toMatchObject({
        type: 'startWorkflow',
        workflowType: 'adSyncWorkflow',
        taskQueue: harness.taskQueue,
      });
      expect(daily.action.args).toEqual([
        { orgId, connectionId: conn.id, window: { kind: 'lookback' }, trigger: 'schedule_daily' },
      ]);
      // 04:00 in Chicago, every time.
      for (const at of schedules[0]!.nextActionTimes) {
        expect(
          new Intl.DateTimeFormat('en-US', {
            timeZone: 'America/Chicago',
            hour: '2-digit',
            minute: '2-digit',
            hourCycle: 'h23',
          }).format(new Date(at)),
        ).toBe('04:00');
      }
      for (const at of schedules[1]!.nextActionTimes) expect(new Date(at).getUTCMinutes()).toBe(15);

      // An operator's "trigger now" (as in the Web UI) runs a real sync of today.
      await client.schedule.getHandle(adScheduleId(orgId, conn.id, 'hourly')).trigger();
      let run;
      for (let i = 0; i < 200 && !run; i++) {
        [run] = await database.db
          .select()
          .from(adSyncRuns)
          .where(and(eq(adSyncRuns.connectionId, conn.id), eq(adSyncRuns.status, 'succeeded')));
        if (!run) await new Promise((r) => setTimeout(r, 100));
      }
      expect(run).toMatchObject({ trigger: 'schedule_hourly', rangeStart: '2026-03-15', rangeEnd: '2026-03-15' });
      expect(run!.workflowId.startsWith(`${adScheduleId(orgId, conn.id, 'hourly')}-`)).toBe(true);

      await syncConnectionSchedules(client, { ...conn, schedulesEnabled: 'off' }, options);
      expect((await describeConnectionSchedules(client, orgId, conn.id)).map((s) => s.paused)).toEqual([true, true]);
      await syncConnectionSchedules(client, { ...conn, lookbackDays: 5 }, options);
      const updated = await client.schedule.getHandle(adScheduleId(orgId, conn.id, 'daily')).describe();
      expect(updated.state.paused).toBe(false);
      expect(updated.memo?.summary ?? updated.action.memo?.summary).toMatch(/./);
    } finally {
      await deleteConnectionSchedules(client, orgId, conn.id);
    }
    expect(await describeConnectionSchedules(client, orgId, conn.id)).toEqual([]);
    // Deleting twice is fine.
    await deleteConnectionSchedules(client, orgId, conn.id);
  });
});
