/**
 * Data Lake syncs end to end on the real Temporal dev server: the workflows run on a Worker with the real
 * activities over PGlite, the production platform clients talk to the sandbox emulators, and the facts are
 * compared with what the synthetic world says a correct sync must store (expectedCampaignDays/TrafficDays).
 */
import { WorkflowFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
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
  rawGa4,
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
const GA4_PAGE_SIZE = 50;
/**
 * The back-off of a throttling answer that names no delay (Meta code 17 without a reset time). Production waits
 * 60 s; the real clients take this option so the harness waits less, and the tests check the retry waited it.
 */
const DEFAULT_RETRY_MS = 500;

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
    clientOptions: { metaPageSize: META_PAGE_SIZE, ga4PageSize: GA4_PAGE_SIZE, defaultRetryAfterMs: DEFAULT_RETRY_MS },
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
function startSync(
  conn: AdConnection,
  input: Omit<AdSyncWorkflowInput, 'orgId' | 'connectionId'>,
): Promise<WorkflowHandle<typeof adSyncWorkflow>> {
  const id = input.range
    ? `${adSyncWorkflowId(conn.orgId, conn.id, input.range)}/${++runCount}`
    : `etl-test/${conn.id}/${++runCount}`;
  return client.workflow.start<typeof adSyncWorkflow>('adSyncWorkflow', {
    taskQueue: harness.taskQueue,
    workflowId: id,
    args: [{ orgId: conn.orgId, connectionId: conn.id, ...input }],
    workflowExecutionTimeout: '2m',
  });
}

async function sync(conn: AdConnection, input: Omit<AdSyncWorkflowInput, 'orgId' | 'connectionId'>) {
  return (await startSync(conn, input)).result();
}

interface ActivityRun {
  activity: string;
  /** The attempt that ran last (1 = never retried). */
  attempt: number;
  outcome: 'completed' | 'failed' | 'timed out' | 'canceled' | 'running';
  /** The failure that made the last attempt necessary (recorded on its start). */
  lastFailure: { type: string; nonRetryable: boolean; nextRetryDelayMs: number | null } | null;
  failure: { type: string; nonRetryable: boolean } | null;
}

const durationMs = (d: { seconds?: unknown; nanos?: number | null } | null | undefined) =>
  d ? Number(String(d.seconds ?? 0)) * 1000 + Math.round((d.nanos ?? 0) / 1e6) : null;

/** Each scheduled activity of a workflow run, in order, as its event history records it. */
async function activityRuns(workflowId: string): Promise<ActivityRun[]> {
  const events = (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  const runs = new Map<string, ActivityRun>();
  for (const e of events) {
    const id = String(e.eventId);
    const scheduled = e.activityTaskScheduledEventAttributes;
    if (scheduled) {
      runs.set(id, {
        activity: scheduled.activityType!.name!,
        attempt: 0,
        outcome: 'running',
        lastFailure: null,
        failure: null,
      });
    }
    const started = e.activityTaskStartedEventAttributes;
    if (started) {
      const run = runs.get(String(started.scheduledEventId))!;
      run.attempt = started.attempt ?? 0;
      const info = started.lastFailure?.applicationFailureInfo;
      run.lastFailure = info
        ? {
            type: info.type ?? '',
            nonRetryable: !!info.nonRetryable,
            nextRetryDelayMs: durationMs(info.nextRetryDelay),
          }
        : null;
    }
    const completed = e.activityTaskCompletedEventAttributes;
    if (completed) runs.get(String(completed.scheduledEventId))!.outcome = 'completed';
    const failed = e.activityTaskFailedEventAttributes;
    if (failed) {
      const run = runs.get(String(failed.scheduledEventId))!;
      run.outcome = 'failed';
      const info = failed.failure?.applicationFailureInfo;
      run.failure = { type: info?.type ?? '', nonRetryable: !!info?.nonRetryable };
    }
    if (e.activityTaskTimedOutEventAttributes)
      runs.get(String(e.activityTaskTimedOutEventAttributes.scheduledEventId))!.outcome = 'timed out';
    if (e.activityTaskCanceledEventAttributes)
      runs.get(String(e.activityTaskCanceledEventAttributes.scheduledEventId))!.outcome = 'canceled';
  }
  return [...runs.values()];
}

interface LoggedRequest {
  service: string;
  path: string;
  status: number;
}

async function clearRequestLog() {
  const res = await fetch(`${harness.sandbox.url}/_world/requests`, { method: 'DELETE' });
  expect(res.status).toBe(204);
}

async function requestLog(service?: string): Promise<LoggedRequest[]> {
  const res = await fetch(`${harness.sandbox.url}/_world/requests${service ? `?service=${service}` : ''}`);
  return ((await res.json()) as { requests: LoggedRequest[] }).requests;
}

const queryParam = (path: string, name: string) => new URL(path, 'http://sandbox').searchParams.get(name);

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

    // Re-running the same range: identical facts, no duplicates, nothing removed; each run keeps its raw pages.
    const again = await sync(conn, { range: february });
    expect(again.syncRunId).not.toBe(result.syncRunId);
    expect(again).toMatchObject({ pages: result.pages, rowsFetched: expected.length, factsRemoved: 0 });
    expectFactsEqual(await factsOf(conn), expected);
    const rawPages = await database.db
      .select({ syncRunId: rawMetaAds.syncRunId, pageIndex: rawMetaAds.pageIndex })
      .from(rawMetaAds)
      .where(eq(rawMetaAds.connectionId, conn.id))
      .orderBy(asc(rawMetaAds.ingestedAt), asc(rawMetaAds.pageIndex));
    const pagesOf = (runId: string) => rawPages.filter((r) => r.syncRunId === runId).map((r) => r.pageIndex);
    expect(rawPages).toHaveLength(result.pages * 2);
    expect(pagesOf(result.syncRunId)).toEqual([...Array(result.pages).keys()]);
    expect(pagesOf(again.syncRunId)).toEqual([...Array(result.pages).keys()]);
    const facts = await database.db
      .select({ syncRunId: factMarketingPerformance.syncRunId })
      .from(factMarketingPerformance)
      .where(eq(factMarketingPerformance.connectionId, conn.id));
    expect(facts.every((f) => f.syncRunId === again.syncRunId)).toBe(true);
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

  test('GA4: sessions and key events land exactly in fact_web_traffic under the default property, across pages, idempotently', async () => {
    const conn = await connection('ga4', '310000001');
    const expected = expectedTrafficDays('310000001', february, asOf);
    expect(expected.length).toBeGreaterThan(GA4_PAGE_SIZE * 2);
    const trafficFacts = () =>
      database.db
        .select({
          date: factWebTraffic.date,
          sessionSource: factWebTraffic.sessionSource,
          channelGroup: factWebTraffic.channelGroup,
          sessions: factWebTraffic.sessions,
          keyEvents: factWebTraffic.keyEvents,
          propertyId: factWebTraffic.propertyId,
        })
        .from(factWebTraffic)
        .where(and(eq(factWebTraffic.orgId, orgId), eq(factWebTraffic.accountId, '310000001')))
        .orderBy(asc(factWebTraffic.date), asc(factWebTraffic.sessionSource), asc(factWebTraffic.channelGroup));
    // key_events is numeric(14,2): "7.00" is 7 key events.
    const expectedFacts = (expected as TrafficDayRow[]).map((e) => ({
      ...e,
      keyEvents: e.keyEvents.toFixed(2),
      propertyId: reserveId,
    }));
    const sum = (rows: { sessions: number; keyEvents: string }[]) => ({
      sessions: rows.reduce((s, r) => s + r.sessions, 0),
      keyEvents: rows.reduce((s, r) => s + Number(r.keyEvents), 0),
    });

    const first = await sync(conn, { range: february });
    expect(first).toMatchObject({
      pages: Math.ceil(expected.length / GA4_PAGE_SIZE),
      rowsFetched: expected.length,
      factsUpserted: expected.length,
      factsRemoved: 0,
    });
    let rows = await trafficFacts();
    expect(sum(rows)).toEqual(sum(expectedFacts));
    // The database sorts text by its collation; compare as sets of exact rows.
    const byKey = (r: { date: string; sessionSource: string; channelGroup: string }) =>
      `${r.date}|${r.sessionSource}|${r.channelGroup}`;
    const sorted = <T extends { date: string; sessionSource: string; channelGroup: string }>(list: T[]) =>
      [...list].sort((a, b) => (byKey(a) < byKey(b) ? -1 : byKey(a) > byKey(b) ? 1 : 0));
    expect(sorted(rows)).toEqual(sorted(expectedFacts));
    const raw = await database.db
      .select({ pageIndex: rawGa4.pageIndex, requestParams: rawGa4.requestParams })
      .from(rawGa4)
      .where(eq(rawGa4.syncRunId, first.syncRunId))
      .orderBy(asc(rawGa4.pageIndex));
    expect(raw.map((r) => [r.pageIndex, (r.requestParams as { cursor?: unknown }).cursor])).toEqual(
      [...Array(first.pages).keys()].map((i) => [i, i === 0 ? null : String(i * GA4_PAGE_SIZE)]),
    );

    // Re-running: the same rows, no duplicates, nothing removed.
    const again = await sync(conn, { range: february });
    expect(again).toMatchObject({ pages: first.pages, rowsFetched: expected.length, factsRemoved: 0 });
    rows = await trafficFacts();
    expect(sorted(rows)).toEqual(sorted(expectedFacts));
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
    await clearRequestLog();
    // retryDelay "0s" in the quota error: the platform's own delay is what the retry waits (not the policy's 2 s+).
    await harness.control('/google-ads/_control', { quotaErrorsNext: 3, retrySeconds: 0 });
    const handle = await startSync(conn, { range });
    const result = await handle.result();
    const expected = expectedCampaignDays('google_ads', '2345678901', range, asOf);
    expect(result.rowsFetched).toBe(expected.length);
    expectFactsEqual(await factsOf(conn, range), expected);
    expect((await requestLog('google_ads')).map((r) => r.status)).toEqual([429, 429, 429, 200]);
    expect(result.pages).toBe(1);
    // One page activity, attempt 4, retried after Google's own delay (0 s: at once).
    expect(
      (await activityRuns(handle.workflowId))
        .filter((r) => r.activity === 'syncAdPage')
        .map((r) => [r.attempt, r.lastFailure]),
    ).toEqual([[4, { type: 'Throttled', nonRetryable: false, nextRetryDelayMs: 1 }]]);
    const [run] = await database.db.select().from(adSyncRuns).where(eq(adSyncRuns.id, result.syncRunId));
    expect(run!.status).toBe('succeeded');
  });

  test('throttling: Meta refuses a page with code 80004, then 17; the sync waits the reset time it is told and completes', async () => {
    const conn = await connection('meta', '1001001');
    const expected = expectedCampaignDays('meta', '1001001', february, asOf);
    const pages = Math.ceil(expected.length / META_PAGE_SIZE);
    expect(pages).toBeGreaterThanOrEqual(3);
    const statuses = (log: LoggedRequest[]) => log.map((r) => r.status);
    const pageAttempts = async (workflowId: string) =>
      (await activityRuns(workflowId))
        .filter((r) => r.activity === 'syncAdPage')
        .map((r) => [r.attempt, r.outcome, r.lastFailure]);
    await clearRequestLog();
    try {
      // The second page is refused twice for the ad account (80004); the usage header says access returns in 1 s.
      await harness.control('/meta/_control', { throttleAfter: 1, throttleNext: 2, code: 80004, retrySeconds: 1 });
      const handle = await startSync(conn, { range: february });
      const result = await handle.result();
      expect(result).toMatchObject({ pages, rowsFetched: expected.length, factsUpserted: expected.length });
      expectFactsEqual(await factsOf(conn), expected);
      const log = await requestLog('meta');
      expect(statuses(log)).toEqual([200, 400, 400, ...Array<number>(pages - 1).fill(200)]);
      // The refused requests and the one that succeeded asked for the same page (the first page's after cursor).
      const cursor = queryParam(log[1]!.path, 'after');
      expect(cursor).toEqual(expect.any(String));
      expect(log.slice(1, 4).map((r) => queryParam(r.path, 'after'))).toEqual([cursor, cursor, cursor]);
      // Temporal retried the same activity (attempt 3), after the delay Meta named rather than the policy's 2 s+.
      const throttled = { type: 'Throttled', nonRetryable: false, nextRetryDelayMs: 1_000 };
      expect(await pageAttempts(handle.workflowId)).toEqual([
        [1, 'completed', null],
        [3, 'completed', throttled],
        ...Array.from({ length: pages - 2 }, () => [1, 'completed', null]),
      ]);
      // Each page stored once for the run, whatever the retries.
      const raw = await database.db
        .select({ pageIndex: rawMetaAds.pageIndex })
        .from(rawMetaAds)
        .where(eq(rawMetaAds.syncRunId, result.syncRunId))
        .orderBy(asc(rawMetaAds.pageIndex));
      expect(raw.map((r) => r.pageIndex)).toEqual([...Array(pages).keys()]);

      // Code 17 with no reset time in the usage headers: the client's default back-off (DEFAULT_RETRY_MS here).
      await clearRequestLog();
      await harness.control('/meta/_control', { throttleNext: 1, code: 17, retryMinutes: 0 });
      const second = await startSync(conn, { range: february });
      expect(await second.result()).toMatchObject({ pages, rowsFetched: expected.length, factsRemoved: 0 });
      expectFactsEqual(await factsOf(conn), expected);
      expect(statuses(await requestLog('meta'))).toEqual([400, ...Array<number>(pages).fill(200)]);
      expect(await pageAttempts(second.workflowId)).toEqual([
        [2, 'completed', { type: 'Throttled', nonRetryable: false, nextRetryDelayMs: DEFAULT_RETRY_MS }],
        ...Array.from({ length: pages - 1 }, () => [1, 'completed', null]),
      ]);
    } finally {
      await harness.control('/meta/_control', { throttleAfter: 0, throttleNext: 0 });
    }
  });

  test('bad credentials: the sync fails fast and non-retryably, and the connection shows why', async () => {
    const conn = await connection('google_ads', '2345678901', {
      credentialsCiphertext: encryptor.encrypt(
        JSON.stringify({ ...SANDBOX_CREDENTIALS.google_ads, refreshToken: 'revoked-refresh-token' }),
      ),
    });
    await clearRequestLog();
    const handle = await startSync(conn, { range: february });
    const err = await handle.result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect(failureTypes(err)).toContain('InvalidCredentials');
    // One attempt: the token endpoint refused once, and nothing was retried.
    const requests = await requestLog();
    expect(requests.map((r) => [r.service, r.status])).toEqual([['google_oauth', 400]]);
    // The history agrees: the page activity failed non-retryably on its first attempt, the failure was recorded,
    // and the workflow itself ran once.
    expect((await activityRuns(handle.workflowId)).map((r) => [r.activity, r.attempt, r.outcome, r.failure])).toEqual([
      ['planAdSync', 1, 'completed', null],
      ['syncAdPage', 1, 'failed', { type: 'InvalidCredentials', nonRetryable: true }],
      ['finishAdSync', 1, 'completed', null],
    ]);
    const described = await handle.describe();
    expect(described.status.name).toBe('FAILED');
    const events = (await handle.fetchHistory()).events ?? [];
    expect(events[0]!.workflowExecutionStartedEventAttributes!.attempt).toBe(1);
    expect(events.at(-1)!.workflowExecutionFailedEventAttributes).toBeTruthy();

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
    // Progress as an operator polls it while the backfill runs: every answer is consistent, and never goes back.
    const seen: BackfillProgress[] = [];
    const watching = (async () => {
      for (;;) {
        try {
          const p = await handle.query<BackfillProgress>('progress');
          seen.push(p);
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
    expect(seen.length).toBeGreaterThan(0);
    for (const [i, p] of seen.entries()) {
      expect(p.monthsTotal).toBe(4);
      expect(p.monthsRunning).toBeLessThanOrEqual(2);
      expect(p.monthsDone + p.monthsFailed + p.monthsRunning).toBeLessThanOrEqual(4);
      expect(p.percent).toBe(Math.floor(((p.monthsDone + p.monthsFailed) * 100) / 4));
      if (i > 0) expect(p.percent).toBeGreaterThanOrEqual(seen[i - 1]!.percent);
    }
    // Concurrency from the parent's history (not from polling): children started minus children closed, at each
    // event, peaks at exactly 2 (two months start at once, the third only when one of them has finished).
    const events = (await handle.fetchHistory()).events ?? [];
    let inFlight = 0;
    let maxInFlight = 0;
    for (const e of events) {
      if (e.startChildWorkflowExecutionInitiatedEventAttributes) {
        expect(e.startChildWorkflowExecutionInitiatedEventAttributes.taskQueue?.name).toBe(harness.backfillTaskQueue);
        maxInFlight = Math.max(maxInFlight, ++inFlight);
      }
      if (
        e.childWorkflowExecutionCompletedEventAttributes ||
        e.childWorkflowExecutionFailedEventAttributes ||
        e.startChildWorkflowExecutionFailedEventAttributes
      )
        inFlight--;
    }
    expect(maxInFlight).toBe(2);
    expect(inFlight).toBe(0);
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
        // Only the hourly run: the real clock may also reach a scheduled time while the schedules exist.
        [run] = await database.db
          .select()
          .from(adSyncRuns)
          .where(
            and(
              eq(adSyncRuns.connectionId, conn.id),
              eq(adSyncRuns.status, 'succeeded'),
              eq(adSyncRuns.trigger, 'schedule_hourly'),
            ),
          );
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
