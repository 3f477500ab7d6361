/**
 * Data Lake ETL workflows: a sync of one connection over a date range (page by page, each page one activity
 * that stores the raw JSON and upserts the facts), a backfill that runs month-long syncs as children with
 * bounded concurrency on their own task queue, and the CRM CSV import.
 */
import {
  ApplicationFailure,
  CancellationScope,
  ParentClosePolicy,
  defineQuery,
  executeChild,
  proxyActivities,
  rootCause,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
  type ChildWorkflowOptions,
} from '@temporalio/workflow';
import type { AdSyncPlan, DataLakeActivities, SyncAdPageResult, SyncWindow } from '../activities/data-lake';
import type { CrmImportActivities, CrmImportResult } from '../activities/crm-import';
import type { SyncTrigger } from '../db/schema/data-lake';
import type { DateRange } from '../integrations/ad-platforms';
import type { TASK_QUEUES } from '../temporal/task-queues';
import { OrgId, Product, PropertyId, searchAttributePairs } from './search-attributes';

export const DATA_LAKE_PRODUCT = 'data-lake';

// Workflows may not import values from temporal/; the type annotation makes tsc fail if the name drifts.
const ETL_BACKFILL_TASK_QUEUE: (typeof TASK_QUEUES)['etlBackfill'] = 'p11-etl-backfill-v1';

/** Manual sync of a range: starting the same range while it runs returns that run (see the API). */
export const adSyncWorkflowId = (orgId: string, connectionId: string, range: DateRange) =>
  `etl/${orgId}/${connectionId}/sync/${range.start}_${range.end}`;
export const adBackfillWorkflowId = (orgId: string, connectionId: string, range: DateRange) =>
  `etl/${orgId}/${connectionId}/backfill/${range.start}_${range.end}`;
/** A backfill month's child: `<backfill id>/<YYYY-MM>`. */
export const backfillMonthWorkflowId = (backfillWorkflowId: string, month: string) => `${backfillWorkflowId}/${month}`;
/** Schedule ids; Temporal names each scheduled run `<schedule id>-<timestamp>`. */
export const adScheduleId = (orgId: string, connectionId: string, kind: 'daily' | 'hourly') =>
  `etl/${orgId}/${connectionId}/${kind}`;
export const crmImportWorkflowId = (orgId: string, fileSha256: string) =>
  `etl/${orgId}/crm-import/${fileSha256.slice(0, 16)}`;

export interface SyncProgress {
  pages: number;
  rowsFetched: number;
  factsUpserted: number;
  /** A sync cannot know how many pages the platform has. */
  percent: null;
}

export interface BackfillProgress {
  monthsTotal: number;
  monthsDone: number;
  monthsFailed: number;
  monthsRunning: number;
  factsUpserted: number;
  /** Months finished (done or failed) over months total, 0-100. */
  percent: number;
}

export const syncProgressQuery = defineQuery<SyncProgress>('progress');
export const backfillProgressQuery = defineQuery<BackfillProgress>('progress');

// Database-only steps: transient errors (lock timeouts, a dropped connection) retry with backoff until they pass;
// a missing connection or an invalid range is thrown non-retryable by the activity.
const db = proxyActivities<DataLakeActivities>({
  startToCloseTimeout: '1m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' },
});

// One platform page: throttling is retried after the platform's own delay (nextRetryDelay), other transient
// errors with backoff, many times, because quotas recover; bad credentials or a bad request are non-retryable.
const pages = proxyActivities<DataLakeActivities>({
  startToCloseTimeout: '5m',
  retry: {
    initialInterval: '2s',
    backoffCoefficient: 2,
    maximumInterval: '5m',
    maximumAttempts: 30,
    nonRetryableErrorTypes: ['InvalidCredentials', 'InvalidRequest', 'ConnectionNotFound'],
  },
});

// Parsing and one commit; the activity is idempotent and a bad file fails non-retryably, so a few tries suffice.
const crm = proxyActivities<CrmImportActivities>({
  startToCloseTimeout: '10m',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '1m', maximumAttempts: 5 },
});

export interface AdSyncWorkflowInput {
  orgId: string;
  connectionId: string;
  /** An explicit range (manual sync, backfill month); otherwise `window` in the connection's timezone. */
  range?: DateRange;
  window?: SyncWindow;
  trigger?: SyncTrigger;
}

export interface AdSyncWorkflowResult {
  syncRunId: string;
  range: DateRange;
  pages: number;
  rowsFetched: number;
  factsUpserted: number;
  factsRemoved: number;
}

function message(err: unknown): string {
  if (err instanceof Error) return (rootCause(err) ?? err.message).slice(0, 1000);
  return String(err);
}

/** The ApplicationFailure types along a failure's cause chain (child → activity → application). */
function failureTypes(err: unknown): string[] {
  const types: string[] = [];
  for (let e: unknown = err; e instanceof Error; e = (e as Error).cause) {
    if (e instanceof ApplicationFailure && e.type) types.push(e.type);
  }
  return types;
}

/** Labels runs started without them (e.g. by an operator from the Web UI), so they still list per organization. */
function ensureLabels(orgId: string, propertyId: string | null) {
  const attrs = workflowInfo().typedSearchAttributes;
  const pairs = searchAttributePairs({ orgId, product: DATA_LAKE_PRODUCT, propertyId }).filter(
    (p) =>
      (p.key.name === OrgId.name && attrs.get(OrgId) === undefined) ||
      (p.key.name === Product.name && attrs.get(Product) === undefined) ||
      (p.key.name === PropertyId.name && attrs.get(PropertyId) === undefined),
  );
  if (pairs.length > 0) upsertSearchAttributes(pairs);
}

export async function adSyncWorkflow(input: AdSyncWorkflowInput): Promise<AdSyncWorkflowResult> {
  const info = workflowInfo();
  const progress: SyncProgress = { pages: 0, rowsFetched: 0, factsUpserted: 0, percent: null };
  setHandler(syncProgressQuery, () => progress);

  const plan: AdSyncPlan = await db.planAdSync({
    orgId: input.orgId,
    connectionId: input.connectionId,
    range: input.range,
    window: input.window,
    trigger: input.trigger ?? 'manual',
    workflowId: info.workflowId,
    runId: info.runId,
  });
  ensureLabels(input.orgId, plan.defaultPropertyId);

  try {
    let cursor: string | null = null;
    do {
      const page: SyncAdPageResult = await pages.syncAdPage({
        orgId: input.orgId,
        connectionId: input.connectionId,
        syncRunId: plan.syncRunId,
        range: plan.range,
        cursor,
        pageIndex: progress.pages,
      });
      progress.pages++;
      progress.rowsFetched += page.rows;
      progress.factsUpserted += page.factsUpserted;
      cursor = page.nextCursor;
    } while (cursor !== null);
  } catch (err) {
    // Record the failure on the run and the connection even when the run is being cancelled, then fail.
    await CancellationScope.nonCancellable(() =>
      db.finishAdSync({
        orgId: input.orgId,
        syncRunId: plan.syncRunId,
        status: 'failed',
        error: message(err),
        ...progress,
      }),
    );
    throw err;
  }
  const finished = await db.finishAdSync({
    orgId: input.orgId,
    syncRunId: plan.syncRunId,
    status: 'succeeded',
    ...progress,
  });
  return {
    syncRunId: plan.syncRunId,
    range: plan.range,
    pages: progress.pages,
    rowsFetched: progress.rowsFetched,
    factsUpserted: progress.factsUpserted,
    factsRemoved: finished.factsRemoved,
  };
}

export interface AdBackfillWorkflowInput {
  orgId: string;
  connectionId: string;
  start: string;
  end: string;
  /** Months synced at once. */
  concurrency: number;
  /** Where the month children run; defaults to the backfill queue (tests pass their own). */
  childTaskQueue?: string;
}

export interface AdBackfillWorkflowResult {
  monthsTotal: number;
  monthsDone: number;
  monthsFailed: number;
  factsUpserted: number;
  failures: { month: string; error: string }[];
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

function daysInMonth(year: number, month: number): number {
  return [
    31,
    year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28,
    31,
    30,
    31,
    30,
    31,
    31,
    30,
    31,
    30,
    31,
  ][month - 1]!;
}

/** Splits an inclusive YYYY-MM-DD range into calendar months (pure string arithmetic: safe in workflows). */
export function splitRangeByMonth(range: DateRange): { month: string; range: DateRange }[] {
  const [sy, sm] = range.start.split('-').map(Number) as [number, number];
  const [ey, em] = range.end.split('-').map(Number) as [number, number];
  const months: { month: string; range: DateRange }[] = [];
  for (let y = sy, m = sm; y < ey || (y === ey && m <= em); m === 12 ? ((m = 1), y++) : m++) {
    const month = `${pad(y, 4)}-${pad(m)}`;
    const first = `${month}-01`;
    const last = `${month}-${pad(daysInMonth(y, m))}`;
    months.push({
      month,
      range: { start: range.start > first ? range.start : first, end: range.end < last ? range.end : last },
    });
  }
  return months;
}

/**
 * Backfills a long range month by month. A failed month does not stop the others (each month is independent
 * and can be re-run by starting the same backfill again); the backfill fails at the end, naming the months
 * that failed. Bad credentials stop it early: every remaining month would fail the same way.
 */
export async function adBackfillWorkflow(input: AdBackfillWorkflowInput): Promise<AdBackfillWorkflowResult> {
  const info = workflowInfo();
  if (!(input.start <= input.end)) {
    throw ApplicationFailure.nonRetryable(`Invalid backfill range ${input.start}..${input.end}`, 'InvalidRange');
  }
  const months = splitRangeByMonth({ start: input.start, end: input.end });
  const concurrency = Math.max(1, Math.floor(input.concurrency || 1));
  const progress: BackfillProgress = {
    monthsTotal: months.length,
    monthsDone: 0,
    monthsFailed: 0,
    monthsRunning: 0,
    factsUpserted: 0,
    percent: months.length === 0 ? 100 : 0,
  };
  const failures: { month: string; error: string }[] = [];
  let stopReason: string | null = null;
  setHandler(backfillProgressQuery, () => progress);
  const labels = searchAttributePairs({
    orgId: input.orgId,
    product: DATA_LAKE_PRODUCT,
    propertyId: info.typedSearchAttributes.get(PropertyId) ?? null,
  });

  const runMonth = async (month: string, range: DateRange) => {
    const summary = `Backfill ${month} of connection ${input.connectionId} (${range.start}..${range.end})`;
    const options = {
      workflowId: backfillMonthWorkflowId(info.workflowId, month),
      taskQueue: input.childTaskQueue ?? ETL_BACKFILL_TASK_QUEUE,
      // Cancelling the backfill cancels its months, which then record their runs as failed.
      parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
      typedSearchAttributes: labels,
      memo: { summary },
      staticSummary: summary,
    } satisfies ChildWorkflowOptions;
    progress.monthsRunning++;
    try {
      const result = await executeChild(adSyncWorkflow, {
        ...options,
        args: [{ orgId: input.orgId, connectionId: input.connectionId, range, trigger: 'backfill' }],
      });
      progress.monthsDone++;
      progress.factsUpserted += result.factsUpserted;
    } catch (err) {
      progress.monthsFailed++;
      failures.push({ month, error: message(err) });
      if (failureTypes(err).includes('InvalidCredentials')) stopReason = message(err);
    } finally {
      progress.monthsRunning--;
      progress.percent = Math.floor(((progress.monthsDone + progress.monthsFailed) * 100) / progress.monthsTotal);
    }
  };

  const inFlight = new Set<Promise<void>>();
  for (const { month, range } of months) {
    if (stopReason) break;
    while (inFlight.size >= concurrency) await Promise.race(inFlight);
    if (stopReason) break;
    const run: Promise<void> = runMonth(month, range).finally(() => inFlight.delete(run));
    inFlight.add(run);
  }
  await Promise.all(inFlight);

  if (stopReason) {
    throw ApplicationFailure.nonRetryable(`Backfill stopped: ${stopReason}`, 'InvalidCredentials');
  }
  if (failures.length > 0) {
    throw ApplicationFailure.nonRetryable(
      `${failures.length} of ${months.length} months failed: ${failures.map((f) => `${f.month} (${f.error})`).join('; ')}`.slice(
        0,
        2000,
      ),
      'BackfillIncomplete',
      { failures },
    );
  }
  return {
    monthsTotal: progress.monthsTotal,
    monthsDone: progress.monthsDone,
    monthsFailed: progress.monthsFailed,
    factsUpserted: progress.factsUpserted,
    failures,
  };
}

export interface CrmImportWorkflowInput {
  orgId: string;
  importId: string;
}

export async function crmImportWorkflow(input: CrmImportWorkflowInput): Promise<CrmImportResult> {
  return crm.runCrmImport(input);
}

export const DATA_LAKE_WORKFLOW_TYPES = ['adSyncWorkflow', 'adBackfillWorkflow', 'crmImportWorkflow'];
