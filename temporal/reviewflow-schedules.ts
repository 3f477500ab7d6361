/**
 * ReviewFlow's polling fallback: one Temporal Schedule per Business Profile connection
 * (`reviewflow/poll/<connectionId>`, every 6 hours by default) starting `reviewPollWorkflow`. Operators see,
 * pause and trigger it in the Web UI; the API creates it with the connection and deletes it with it.
 */
import { ScheduleNotFoundError, ScheduleOverlapPolicy, type Client, type ScheduleOptions } from '@temporalio/client';
import { durationToMs, type DurationString } from '../lib/duration';
import { REVIEWFLOW_PRODUCT, reviewPollScheduleId, type ReviewPollInput } from '../workflows/reviewflow';
import { searchAttributePairs } from '../workflows/search-attributes';
import { deleteScheduleIfExists, ensureSchedule } from './schedules';
import { TASK_QUEUES } from './task-queues';

export interface ReviewPollScheduleOptions {
  orgId: string;
  connectionId: string;
  propertyId: string;
  /** config.reviewflow.pollInterval ('6h'). */
  every: DurationString;
  paused: boolean;
  taskQueue?: string;
  label: string;
}

export interface ReviewPollScheduleView {
  id: string;
  paused: boolean;
  nextRunAt: string | null;
}

function scheduleOptions(options: ReviewPollScheduleOptions): ScheduleOptions {
  const scheduleId = reviewPollScheduleId(options.connectionId);
  const input: ReviewPollInput = { orgId: options.orgId, connectionId: options.connectionId };
  const summary = `Poll Business Profile reviews of ${options.label} every ${options.every}`;
  const labels = searchAttributePairs({
    orgId: options.orgId,
    product: REVIEWFLOW_PRODUCT,
    propertyId: options.propertyId,
  });
  return {
    scheduleId,
    spec: { intervals: [{ every: durationToMs(options.every) }] },
    action: {
      type: 'startWorkflow',
      workflowType: 'reviewPollWorkflow',
      // Temporal appends the scheduled time: each run is `<schedule id>-<timestamp>`.
      workflowId: scheduleId,
      taskQueue: options.taskQueue ?? TASK_QUEUES.reviewflow,
      args: [input],
      typedSearchAttributes: labels,
      memo: { summary },
      staticSummary: summary,
    },
    // A poll still running 6 hours later makes the next redundant; a missed one is caught up within the interval.
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: durationToMs(options.every) },
    typedSearchAttributes: labels,
    memo: { summary },
    state: { note: summary, paused: options.paused },
  };
}

/** Creates the connection's schedule or brings it up to date, including its paused state (the API's toggle). */
export async function ensureReviewPollSchedule(client: Client, options: ReviewPollScheduleOptions): Promise<void> {
  await ensureSchedule(client, scheduleOptions(options), { pausedBy: 'desired' });
}

export async function describeReviewPollSchedule(
  client: Client,
  connectionId: string,
): Promise<ReviewPollScheduleView | null> {
  const id = reviewPollScheduleId(connectionId);
  try {
    const d = await client.schedule.getHandle(id).describe();
    return { id, paused: d.state.paused, nextRunAt: d.info.nextActionTimes[0]?.toISOString() ?? null };
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return null;
    throw err;
  }
}

export async function deleteReviewPollSchedule(client: Client, connectionId: string): Promise<void> {
  await deleteScheduleIfExists(client, reviewPollScheduleId(connectionId));
}

/** Pauses or unpauses the schedule alone (an operator's switch; the connection's toggle goes through ensure). */
export async function setReviewPollSchedulePaused(
  client: Client,
  connectionId: string,
  paused: boolean,
  note: string,
): Promise<void> {
  const handle = client.schedule.getHandle(reviewPollScheduleId(connectionId));
  await (paused ? handle.pause(note) : handle.unpause(note));
}

/**
 * Runs the schedule's action now, as the Web UI's "Trigger" does (the run is `<schedule id>-<timestamp>`). The API's
 * "poll now" starts its run directly instead, so it can answer with the run's id.
 */
export async function triggerReviewPollSchedule(client: Client, connectionId: string): Promise<void> {
  await client.schedule.getHandle(reviewPollScheduleId(connectionId)).trigger(ScheduleOverlapPolicy.ALLOW_ALL);
}
