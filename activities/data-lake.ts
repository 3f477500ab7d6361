/**
 * Data Lake sync activities: plan a run, fetch and store one page at a time, finish the run. Credentials are
 * decrypted only here, per call, and never leave the activity (inputs and outputs are ids, ranges and counts).
 *
 * Idempotency: a run is keyed by (workflow id, run id), so a retried plan finds its row; a page is keyed by
 * (sync run, page index) in the raw tables and by the fact key in the fact tables, so a retried page rewrites
 * the same rows; finishing twice changes nothing the second time.
 */
import { ApplicationFailure } from '@temporalio/common';
import { and, desc, eq, gte, ne, sql } from 'drizzle-orm';
import { DateTime } from 'luxon';
import type { Database, Transaction } from '../db/client';
import {
  adConnections,
  adSyncRuns,
  rawGa4,
  rawGoogleAds,
  rawMetaAds,
  type AdChannel,
  type AdConnection,
  type SyncStatus,
  type SyncTrigger,
} from '../db/schema';
import { withTenant } from '../db/tenancy';
import {
  InvalidCredentialsError,
  InvalidRequestError,
  ThrottledError,
  type AdPlatformClients,
  type CampaignDayRow,
  type DateRange,
  type FetchedPage,
  type Ga4Credentials,
  type GoogleAdsCredentials,
  type MetaCredentials,
} from '../integrations/ad-platforms';
import type { Encryptor } from '../lib/crypto';
import { affectedRows, upsertCampaignFacts, upsertCampaignsOfPage, upsertTrafficFacts } from './data-lake-facts';

export interface DataLakeActivityDeps {
  db: Database;
  encryptor: Encryptor;
  adClients: AdPlatformClients;
  /** Clock for "today" in the connection's timezone; injectable for tests. */
  now?: () => Date;
}

/** Error types the workflows (and operators in the Web UI) see on failed activities. */
export const DATA_LAKE_ERRORS = {
  invalidCredentials: 'InvalidCredentials',
  invalidRequest: 'InvalidRequest',
  throttled: 'Throttled',
  connectionNotFound: 'ConnectionNotFound',
  invalidRange: 'InvalidRange',
} as const;

/**
 * Which days a run without an explicit range covers, in the connection's timezone:
 * - `today`: today only (the hourly schedule);
 * - `lookback`: the connection's `lookbackDays` complete days ending yesterday (the daily schedule re-pulls them
 *   so the platforms' attribution restatements land; today belongs to the hourly run).
 */
export interface SyncWindow {
  kind: 'lookback' | 'today';
}

export interface PlanAdSyncInput {
  orgId: string;
  connectionId: string;
  range?: DateRange;
  window?: SyncWindow;
  trigger: SyncTrigger;
  workflowId: string;
  runId: string;
}

export interface AdSyncPlan {
  syncRunId: string;
  channel: AdChannel;
  accountId: string;
  range: DateRange;
  /** The connection's default property, for the run's PropertyId search attribute. */
  defaultPropertyId: string | null;
}

export interface SyncAdPageInput {
  orgId: string;
  connectionId: string;
  syncRunId: string;
  range: DateRange;
  cursor: string | null;
  pageIndex: number;
}

export interface SyncAdPageResult {
  rows: number;
  factsUpserted: number;
  nextCursor: string | null;
}

export interface FinishAdSyncInput {
  orgId: string;
  syncRunId: string;
  status: Exclude<SyncStatus, 'running'>;
  error?: string | null;
  pages: number;
  rowsFetched: number;
  factsUpserted: number;
}

export interface FinishAdSyncResult {
  status: SyncStatus;
  factsRemoved: number;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

export function isIsoDate(value: string): boolean {
  return DATE.test(value) && DateTime.fromISO(value, { zone: 'UTC' }).isValid;
}

/** The window's dates in `timezone` at instant `now`. */
export function resolveSyncWindow(window: SyncWindow, timezone: string, lookbackDays: number, now: Date): DateRange {
  const today = DateTime.fromJSDate(now).setZone(timezone).startOf('day');
  if (!today.isValid) throw new Error(`Invalid timezone ${timezone}`);
  if (window.kind === 'today') return { start: today.toISODate()!, end: today.toISODate()! };
  const days = Math.max(1, lookbackDays);
  return { start: today.minus({ days }).toISODate()!, end: today.minus({ days: 1 }).toISODate()! };
}

/** Today in `timezone`, YYYY-MM-DD. */
export function todayIn(timezone: string, now: Date): string {
  return DateTime.fromJSDate(now).setZone(timezone).toISODate()!;
}

function describe(err: unknown): string {
  return (err instanceof Error ? `${err.message}` : String(err)).slice(0, 1000);
}

const RAW_TABLES = { meta: rawMetaAds, google_ads: rawGoogleAds, ga4: rawGa4 } as const;

/** Matches by class and by name, so errors from another copy of the contract module are recognized too. */
function is<E extends Error>(err: unknown, cls: new (...args: never[]) => E): err is E {
  return err instanceof cls || (err instanceof Error && err.name === cls.name);
}

export function createDataLakeActivities(deps: DataLakeActivityDeps) {
  const { db, encryptor, adClients } = deps;
  const now = deps.now ?? (() => new Date());

  async function loadConnection(tx: Transaction, orgId: string, connectionId: string): Promise<AdConnection> {
    const [connection] = await tx
      .select()
      .from(adConnections)
      .where(and(eq(adConnections.orgId, orgId), eq(adConnections.id, connectionId)));
    if (!connection) {
      throw ApplicationFailure.nonRetryable(
        `Ad connection ${connectionId} not found (deleted?)`,
        DATA_LAKE_ERRORS.connectionNotFound,
      );
    }
    return connection;
  }

  function decryptCredentials(connection: AdConnection): unknown {
    try {
      return JSON.parse(encryptor.decrypt(connection.credentialsCiphertext));
    } catch (err) {
      throw ApplicationFailure.nonRetryable(
        `Stored credentials of connection ${connection.id} cannot be read: ${describe(err)}`,
        DATA_LAKE_ERRORS.invalidCredentials,
      );
    }
  }

  async function fetchPage(connection: AdConnection, range: DateRange, cursor: string | null) {
    const credentials = decryptCredentials(connection);
    if (connection.channel === 'ga4') {
      const client = adClients.trafficClient(connection.accountId, credentials as Ga4Credentials);
      return { kind: 'traffic' as const, rawSource: client.rawSource, page: await client.fetchPage(range, cursor) };
    }
    const client = adClients.campaignClient(
      connection.channel,
      connection.accountId,
      credentials as MetaCredentials | GoogleAdsCredentials,
    );
    return { kind: 'campaign' as const, rawSource: client.rawSource, page: await client.fetchPage(range, cursor) };
  }

  return {
    async planAdSync(input: PlanAdSyncInput): Promise<AdSyncPlan> {
      const { orgId, connectionId } = input;
      return withTenant(db, orgId, async (tx) => {
        const connection = await loadConnection(tx, orgId, connectionId);
        let range: DateRange;
        if (input.range) {
          range = input.range;
          if (!isIsoDate(range.start) || !isIsoDate(range.end) || range.start > range.end) {
            throw ApplicationFailure.nonRetryable(
              `Invalid date range ${range.start}..${range.end}`,
              DATA_LAKE_ERRORS.invalidRange,
            );
          }
        } else {
          range = resolveSyncWindow(
            input.window ?? { kind: 'today' },
            connection.timezone,
            connection.lookbackDays,
            now(),
          );
        }
        // A retried plan finds the run it already recorded (and its range, which must not drift with the clock).
        const [existing] = await tx
          .select()
          .from(adSyncRuns)
          .where(and(eq(adSyncRuns.workflowId, input.workflowId), eq(adSyncRuns.runId, input.runId)));
        let run = existing;
        if (!run) {
          [run] = await tx
            .insert(adSyncRuns)
            .values({
              orgId,
              connectionId,
              workflowId: input.workflowId,
              runId: input.runId,
              trigger: input.trigger,
              rangeStart: range.start,
              rangeEnd: range.end,
            })
            .returning();
          await tx.update(adConnections).set({ lastSyncStatus: 'running' }).where(eq(adConnections.id, connectionId));
        }
        return {
          syncRunId: run!.id,
          channel: connection.channel,
          accountId: connection.accountId,
          range: { start: run!.rangeStart, end: run!.rangeEnd },
          defaultPropertyId: connection.defaultPropertyId,
        };
      });
    },

    async syncAdPage(input: SyncAdPageInput): Promise<SyncAdPageResult> {
      const { orgId, connectionId, syncRunId, range, cursor, pageIndex } = input;
      const connection = await withTenant(db, orgId, (tx) => loadConnection(tx, orgId, connectionId));
      let fetched: Awaited<ReturnType<typeof fetchPage>>;
      try {
        fetched = await fetchPage(connection, range, cursor);
      } catch (err) {
        if (is(err, InvalidCredentialsError)) {
          const message = `${connection.channel} rejected the credentials: ${describe(err)}`;
          await withTenant(db, orgId, (tx) =>
            tx
              .update(adConnections)
              .set({ credentialsInvalidAt: now(), lastSyncError: message, lastSyncStatus: 'failed' })
              .where(eq(adConnections.id, connectionId)),
          );
          // New credentials are needed; retrying with these only burns quota (and may lock the account).
          throw ApplicationFailure.nonRetryable(message, DATA_LAKE_ERRORS.invalidCredentials);
        }
        if (is(err, InvalidRequestError)) {
          throw ApplicationFailure.nonRetryable(
            `${connection.channel} rejected the request: ${describe(err)}`,
            DATA_LAKE_ERRORS.invalidRequest,
          );
        }
        if (is(err, ThrottledError)) {
          // Retryable, after the platform's own delay rather than the policy's backoff.
          throw ApplicationFailure.create({
            message: `${connection.channel} throttled the request: ${describe(err)}`,
            type: DATA_LAKE_ERRORS.throttled,
            nextRetryDelay: Math.max(1, Math.round((err as ThrottledError).retryAfterMs)),
          });
        }
        throw err;
      }
      const { page, rawSource } = fetched;
      const factsUpserted = await withTenant(db, orgId, async (tx) => {
        const raw = RAW_TABLES[connection.channel];
        await tx
          .insert(raw)
          .values({
            orgId,
            connectionId,
            syncRunId,
            pageIndex,
            requestParams: { ...page.request, cursor, pageIndex, range },
            data: page.raw as object,
          })
          .onConflictDoUpdate({
            target: [raw.syncRunId, raw.pageIndex],
            set: { requestParams: sql`excluded.request_params`, data: sql`excluded.data`, ingestedAt: sql`now()` },
          });
        if (fetched.kind === 'traffic') {
          return upsertTrafficFacts(tx, {
            orgId,
            accountId: connection.accountId,
            connectionId,
            syncRunId,
            rawSource,
            rows: fetched.page.rows,
            propertyId: connection.defaultPropertyId,
          });
        }
        const campaignPage = fetched.page as FetchedPage<CampaignDayRow>;
        const propertyByCampaign = await upsertCampaignsOfPage(tx, connection, campaignPage.rows);
        return upsertCampaignFacts(tx, {
          orgId,
          channel: connection.channel,
          accountId: connection.accountId,
          connectionId,
          syncRunId,
          rawSource,
          rows: campaignPage.rows,
          propertyByCampaign,
        });
      });
      return { rows: page.rows.length, factsUpserted, nextCursor: page.nextCursor };
    },

    async finishAdSync(input: FinishAdSyncInput): Promise<FinishAdSyncResult> {
      const { orgId, syncRunId } = input;
      return withTenant(db, orgId, async (tx) => {
        const [run] = await tx.select().from(adSyncRuns).where(eq(adSyncRuns.id, syncRunId)).for('update');
        if (!run) throw ApplicationFailure.nonRetryable(`Sync run ${syncRunId} not found`, 'SyncRunNotFound');
        // Finishing twice (a retried activity) leaves the first outcome.
        if (run.status !== 'running') return { status: run.status, factsRemoved: run.factsRemoved };
        const [connection] = await tx.select().from(adConnections).where(eq(adConnections.id, run.connectionId));
        let factsRemoved = 0;
        if (input.status === 'succeeded' && connection) {
          // Rows of the range this run did not write are rows the platform no longer reports: a re-pull replaces
          // the range exactly. Rows written by another run since this one started are that run's, and stay.
          // The start is read in SQL: a JS Date would truncate PostgreSQL's microseconds to milliseconds.
          const startedAt = sql`(select started_at from ad_sync_runs where id = ${syncRunId}::uuid)`;
          const removed =
            connection.channel === 'ga4'
              ? await tx.execute(sql`
                  delete from fact_web_traffic
                  where org_id = ${orgId}::uuid and account_id = ${connection.accountId}
                    and date between ${run.rangeStart}::date and ${run.rangeEnd}::date
                    and sync_run_id is distinct from ${syncRunId}::uuid
                    and updated_at < ${startedAt}`)
              : await tx.execute(sql`
                  delete from fact_marketing_performance
                  where org_id = ${orgId}::uuid and channel_id = ${connection.channel}
                    and account_id = ${connection.accountId}
                    and date between ${run.rangeStart}::date and ${run.rangeEnd}::date
                    and sync_run_id is distinct from ${syncRunId}::uuid
                    and updated_at < ${startedAt}`);
          factsRemoved = affectedRows(removed);
        }
        const finishedAt = now();
        const error = input.status === 'failed' ? (input.error ?? 'failed').slice(0, 2000) : null;
        await tx
          .update(adSyncRuns)
          .set({
            status: input.status,
            pages: input.pages,
            rowsFetched: input.rowsFetched,
            factsUpserted: input.factsUpserted,
            factsRemoved,
            error,
            finishedAt,
          })
          .where(eq(adSyncRuns.id, syncRunId));
        if (connection) {
          // Only the newest run speaks for the connection: an older run finishing late must not overwrite it.
          const [latest] = await tx
            .select({ id: adSyncRuns.id })
            .from(adSyncRuns)
            .where(and(eq(adSyncRuns.connectionId, connection.id), ne(adSyncRuns.status, 'running')))
            .orderBy(desc(adSyncRuns.startedAt), desc(adSyncRuns.id))
            .limit(1);
          const stillRunning = await tx
            .select({ id: adSyncRuns.id })
            .from(adSyncRuns)
            .where(
              and(
                eq(adSyncRuns.connectionId, connection.id),
                eq(adSyncRuns.status, 'running'),
                gte(adSyncRuns.startedAt, run.startedAt),
              ),
            )
            .limit(1);
          if (latest?.id === syncRunId) {
            await tx
              .update(adConnections)
              .set({
                lastSyncAt: finishedAt,
                lastSyncStatus: stillRunning.length > 0 ? 'running' : input.status,
                lastSyncError: error,
                ...(input.status === 'succeeded' ? { credentialsInvalidAt: null } : {}),
              })
              .where(eq(adConnections.id, connection.id));
          }
        }
        return { status: input.status, factsRemoved };
      });
    },
  };
}

export type DataLakeActivities = ReturnType<typeof createDataLakeActivities>;

/** Used by tests and the API: a run's rows, newest first. */
export async function latestSyncRuns(tx: Transaction, connectionId: string, limit = 20) {
  return tx
    .select()
    .from(adSyncRuns)
    .where(eq(adSyncRuns.connectionId, connectionId))
    .orderBy(desc(adSyncRuns.startedAt), desc(adSyncRuns.id))
    .limit(limit);
}
