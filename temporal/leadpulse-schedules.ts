/**
 * LeadPulse's monthly retraining: one Temporal Schedule per organization (`leadpulse/train-monthly/<orgId>`)
 * starting `leadPulseTrainingWorkflow`. Operators see, pause and trigger it in the Web UI (Schedules); the API
 * creates it with the organization's first training request.
 */
import { ScheduleNotFoundError, ScheduleOverlapPolicy, type Client, type ScheduleOptions } from '@temporalio/client';
import { LEADPULSE_PRODUCT, leadPulseScheduleId, type LeadPulseTrainingInput } from '../workflows/leadpulse';
import { searchAttributePairs } from '../workflows/search-attributes';
import { deleteScheduleIfExists, ensureSchedule } from './schedules';
import { TASK_QUEUES } from './task-queues';

export interface LeadPulseScheduleOptions {
  orgId: string;
  /** Cron expression in UTC (config.leadpulse.trainingCron, default 03:00 on the 1st of the month). */
  cron: string;
  /** Where scheduled runs execute; tests pass their own queue. */
  taskQueue?: string;
}

export interface LeadPulseScheduleView {
  scheduleId: string;
  cron: string | null;
  paused: boolean;
  /** ISO times of the next few runs. */
  nextActionTimes: string[];
  /** ISO time of the last scheduled start, when there was one. */
  lastRunAt: string | null;
}

function scheduleOptions(options: LeadPulseScheduleOptions): ScheduleOptions {
  const scheduleId = leadPulseScheduleId(options.orgId);
  const input: LeadPulseTrainingInput = { orgId: options.orgId, trigger: 'schedule', requestedBy: 'schedule' };
  const summary = `Monthly LeadPulse retraining of org ${options.orgId.slice(0, 8)} (${options.cron} UTC)`;
  const labels = searchAttributePairs({ orgId: options.orgId, product: LEADPULSE_PRODUCT });
  return {
    scheduleId,
    spec: { cronExpressions: [options.cron], timezone: 'UTC' },
    action: {
      type: 'startWorkflow',
      workflowType: 'leadPulseTrainingWorkflow',
      // Temporal appends the scheduled time, so each run is `<schedule id>-<timestamp>` (its registry key).
      workflowId: scheduleId,
      taskQueue: options.taskQueue ?? TASK_QUEUES.leadpulse,
      args: [input],
      typedSearchAttributes: labels,
      memo: { summary },
      staticSummary: summary,
    },
    // A training still running a month later (stuck on retries) makes the next one redundant; a missed month
    // (the cluster was down) is caught up within a day, not later, so a stale run never lands mid-month.
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1d' },
    typedSearchAttributes: labels,
    // The server turns cron text into calendars; the memo keeps the expression for the API to show.
    memo: { summary, cron: options.cron },
    state: { note: summary },
  };
}

/**
 * Creates the organization's schedule, or brings an existing one up to date (cron, task queue, input) while
 * keeping whatever an operator set by hand (paused or not). Idempotent.
 */
export async function ensureLeadPulseSchedule(client: Client, options: LeadPulseScheduleOptions): Promise<void> {
  await ensureSchedule(client, scheduleOptions(options), { pausedBy: 'operator' });
}

/** The schedule as it is in Temporal (an operator may have paused it), or null when there is none. */
export async function describeLeadPulseSchedule(client: Client, orgId: string): Promise<LeadPulseScheduleView | null> {
  const scheduleId = leadPulseScheduleId(orgId);
  try {
    const d = await client.schedule.getHandle(scheduleId).describe();
    const last = d.info.recentActions.at(-1);
    return {
      scheduleId,
      cron: typeof d.memo?.cron === 'string' ? d.memo.cron : null,
      paused: d.state.paused,
      nextActionTimes: d.info.nextActionTimes.map((t) => t.toISOString()),
      lastRunAt: last ? last.scheduledAt.toISOString() : null,
    };
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return null;
    throw err;
  }
}

/** Removes the schedule; a missing one is fine. */
export async function deleteLeadPulseSchedule(client: Client, orgId: string): Promise<void> {
  await deleteScheduleIfExists(client, leadPulseScheduleId(orgId));
}
