/**
 * One poll of a Business Profile connection (`reviewflow/poll/<connectionId>-<time>`, started by the connection's
 * 6-hourly Schedule or by "Poll now"): the fallback that catches any review a Pub/Sub notification missed. The
 * activity pages through the location's reviews and hands new and changed ones to triage (ingestion is
 * idempotent, so a poll that finds nothing new changes nothing).
 */
import { proxyActivities } from '@temporalio/workflow';
import type { ReviewFlowActivities } from '../activities/reviewflow';
import type { ReviewPollInput, ReviewPollResult } from './reviewflow';

// Pages of 50 reviews, a heartbeat per page; retried on Google's transient errors (the next Schedule run would
// catch up anyway). Rejected credentials are permanent and fail the run where operators see it.
const { pollReviewConnection } = proxyActivities<ReviewFlowActivities>({
  startToCloseTimeout: '15m',
  heartbeatTimeout: '2m',
  retry: { initialInterval: '10s', backoffCoefficient: 2, maximumInterval: '5m', maximumAttempts: 5 },
});

export async function reviewPollWorkflow(input: ReviewPollInput): Promise<ReviewPollResult> {
  return pollReviewConnection(input);
}
