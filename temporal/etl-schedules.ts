/**
 * The two Temporal Schedules of an ad connection: a daily sync at 04:00 in the connection's timezone that
 * re-pulls the lookback window (attribution restatements land), and an hourly sync of today at :15. Operators
 * see, pause and trigger them in the Web UI (Schedules); the API keeps them in step with the connection.
 */
import { ScheduleNotFoundError, ScheduleOverlapPolicy, type Client, type ScheduleOptions } from '@temporalio/client';
import type { AdConnection } from '../db/schema';
import { searchAttributePairs } from '../workflows/search-attributes';
import { adScheduleId, DATA_LAKE_PRODUCT, type AdSyncWorkflowInput } from '../workflows/data-lake';
import { deleteScheduleIfExists, ensureSchedule } from './schedules';
import { TASK_QUEUES } from './task-queues';

export type ScheduleKind = 'daily' | 'hourly';
export const SCHEDULE_KINDS: readonly ScheduleKind[] = ['daily', 'hourly'];

export type ScheduledConnection = Pick<
  AdConnection,
  | 'id'
  | 'orgId'
  | 'channel'
  | 'name'
  | 'accountId'
  | 'timezone'
  | 'lookbackDays'
  | 'schedulesEnabled'
  | 'defaultPropertyId'
>;

export interface EtlScheduleOptions {
  /** Where scheduled syncs run; tests pass their own queue. */
  taskQueue?: string;
}

export interface ConnectionScheduleView {
  scheduleId: string;
  kind: ScheduleKind;
  paused: boolean;
  /** ISO times of the next few runs. */
  nextActionTimes: string[];
}

function scheduleOptions(
  connection: ScheduledConnection,
  kind: ScheduleKind,
  options: EtlScheduleOptions,
): ScheduleOptions {
  const scheduleId = adScheduleId(connection.orgId, connection.id, kind);
  const input: AdSyncWorkflowInput = {
    orgId: connection.orgId,
    connectionId: connection.id,
    window: { kind: kind === 'daily' ? 'lookback' : 'today' },
    trigger: kind === 'daily' ? 'schedule_daily' : 'schedule_hourly',
  };
  const summary =
    kind === 'daily'
      ? `Daily ${connection.channel} sync of ${connection.name} (${connection.accountId}): last ${connection.lookbackDays} days`
      : `Hourly ${connection.channel} sync of ${connection.name} (${connection.accountId}): today`;
  const labels = searchAttributePairs({
    orgId: connection.orgId,
    product: DATA_LAKE_PRODUCT,
    propertyId: connection.defaultPropertyId,
  });
  return {
    scheduleId,
    spec:
      kind === 'daily'
        ? { calendars: [{ hour: 4, minute: 0, comment: '04:00 daily' }], timezone: connection.timezone }
        : {
            calendars: [{ hour: { start: 0, end: 23 }, minute: 15, comment: 'every hour at :15' }],
            timezone: connection.timezone,
          },
    action: {
      type: 'startWorkflow',
      workflowType: 'adSyncWorkflow',
      // Temporal appends the scheduled time, so each run is `<schedule id>-<timestamp>`.
      workflowId: scheduleId,
      taskQueue: options.taskQueue ?? TASK_QUEUES.etl,
      args: [input],
      typedSearchAttributes: labels,
      memo: { summary },
      staticSummary: summary,
    },
    // A sync still running when the next is due (a slow platform) makes the next one redundant.
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1h' },
    typedSearchAttributes: labels,
    memo: { summary },
    state: {
      paused: connection.schedulesEnabled !== 'on',
      note: connection.schedulesEnabled === 'on' ? summary : 'Schedules are turned off on the connection',
    },
  };
}

/** Creates the connection's schedules, or brings existing ones up to date (spec, input, paused state). */
export async function syncConnectionSchedules(
  client: Client,
  connection: ScheduledConnection,
  options: EtlScheduleOptions = {},
): Promise<void> {
  for (const kind of SCHEDULE_KINDS) {
    // The connection's `schedulesEnabled` owns the paused state: it is forced on every sync.
    await ensureSchedule(client, scheduleOptions(connection, kind, options), { pausedBy: 'desired' });
  }
}

/** Removes both schedules; missing ones are fine (deleting twice is a no-op). */
export async function deleteConnectionSchedules(client: Client, orgId: string, connectionId: string): Promise<void> {
  for (const kind of SCHEDULE_KINDS) await deleteScheduleIfExists(client, adScheduleId(orgId, connectionId, kind));
}

/** The schedules as they are in Temporal (an operator may have paused one in the Web UI). */
export async function describeConnectionSchedules(
  client: Client,
  orgId: string,
  connectionId: string,
): Promise<ConnectionScheduleView[]> {
  const views: ConnectionScheduleView[] = [];
  for (const kind of SCHEDULE_KINDS) {
    const scheduleId = adScheduleId(orgId, connectionId, kind);
    try {
      const d = await client.schedule.getHandle(scheduleId).describe();
      views.push({
        scheduleId,
        kind,
        paused: d.state.paused,
        nextActionTimes: d.info.nextActionTimes.map((t) => t.toISOString()),
      });
    } catch (err) {
      if (!(err instanceof ScheduleNotFoundError)) throw err;
    }
  }
  return views;
}
