/**
 * Create-or-update and delete for the products' Temporal Schedules (ETL syncs, LeadPulse training, ReviewFlow
 * polling): idempotent, safe under concurrent requests, and explicit about who owns the paused state.
 */
import { ScheduleAlreadyRunning, ScheduleNotFoundError, type Client, type ScheduleOptions } from '@temporalio/client';

export interface EnsureScheduleOptions {
  /**
   * 'desired': the product's setting decides (a connection's polling toggle). 'operator': an existing schedule
   * keeps whatever an operator set in the Web UI, and only a new one starts as desired.
   */
  pausedBy: 'desired' | 'operator';
}

/** Creates the schedule, or brings an existing one to the desired spec, action, policies and memo. */
export async function ensureSchedule(
  client: Client,
  desired: ScheduleOptions,
  options: EnsureScheduleOptions,
): Promise<void> {
  try {
    await client.schedule.create(desired);
    return;
  } catch (err) {
    // Already there (an earlier request, or a concurrent one): update it below.
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
  }
  await client.schedule.getHandle(desired.scheduleId).update((previous) => ({
    ...previous,
    spec: desired.spec,
    action: desired.action,
    policies: desired.policies,
    ...(desired.memo ? { memo: desired.memo } : {}),
    state:
      options.pausedBy === 'desired'
        ? { ...previous.state, paused: desired.state?.paused ?? false, note: desired.state?.note }
        : previous.state,
  }));
}

/** Removes a schedule; a missing one is fine (deleting twice is a no-op). */
export async function deleteScheduleIfExists(client: Client, scheduleId: string): Promise<void> {
  try {
    await client.schedule.getHandle(scheduleId).delete();
  } catch (err) {
    if (!(err instanceof ScheduleNotFoundError)) throw err;
  }
}
