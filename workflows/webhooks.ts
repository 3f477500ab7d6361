/**
 * Signed outbound webhooks. An event workflow records the event and fans out one delivery workflow per
 * subscribed endpoint; each delivery workflow walks the retry schedule (durations as data, from worker
 * config) and stops at the first success or when the endpoint gets disabled.
 */
import {
  ApplicationFailure,
  CancellationScope,
  ParentClosePolicy,
  WorkflowIdReusePolicy,
  condition,
  defineQuery,
  defineSignal,
  isCancellation,
  proxyActivities,
  setHandler,
  startChild,
} from '@temporalio/workflow';
// @temporalio/common is sandbox-safe; the workflow package does not re-export this error class.
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { WebhookActivities } from '../activities/webhooks';
import type { WebhookEventInput } from '../activities/webhook-events';
import { searchAttributePairs } from './search-attributes';

export const WEBHOOKS_PRODUCT = 'webhooks';

export const webhookEventWorkflowId = (eventId: string) => `webhooks/event/${eventId}`;
export const webhookDeliveryWorkflowId = (deliveryId: string) => `webhooks/delivery/${deliveryId}`;

/** Operators skip the current wait from the Web UI ("Send signal" → retryNow) after fixing a receiver. */
export const retryNowSignal = defineSignal('retryNow');
export const progressQuery = defineQuery<DeliveryProgress>('progress');

export type DeliveryState = 'waiting' | 'attempting' | 'succeeded' | 'failed' | 'endpoint_disabled' | 'cancelled';

export interface DeliveryProgress {
  attempts: number;
  maxAttempts: number;
  lastStatus: number | null;
  /** ISO time of the next scheduled attempt while waiting; null otherwise. */
  nextAttemptAt: string | null;
  state: DeliveryState;
}

// Database work is idempotent, so transient errors (connection drops, lock timeouts) just retry with backoff.
const db = proxyActivities<WebhookActivities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' },
});

// One HTTP attempt: an HTTP failure is a returned outcome (the schedule drives re-attempts), so Temporal retries
// only our own failures (DB writes around the send), a few times, each of which at worst re-posts the same
// webhook-id that receivers deduplicate on.
const { attemptDelivery } = proxyActivities<WebhookActivities>({
  startToCloseTimeout: '2m',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '1m', maximumAttempts: 5 },
});

export interface WebhookEventWorkflowInput {
  orgId: string;
  event: WebhookEventInput;
  /** Deliver only to this endpoint (required for `webhook.test`). */
  onlyEndpointId?: string;
}

export interface WebhookEventWorkflowResult {
  eventId: string;
  deliveryIds: string[];
}

export async function webhookEventWorkflow(input: WebhookEventWorkflowInput): Promise<WebhookEventWorkflowResult> {
  const deliveries = await db.recordEventDeliveries(input);
  for (const { deliveryId, endpointId } of deliveries) {
    const summary = `Deliver ${input.event.type} ${input.event.id} to endpoint ${endpointId}`;
    try {
      await startChild(webhookDeliveryWorkflow, {
        workflowId: webhookDeliveryWorkflowId(deliveryId),
        args: [{ orgId: input.orgId, deliveryId }],
        // Deliveries outlive the fan-out: they retry for hours while this workflow is long closed.
        parentClosePolicy: ParentClosePolicy.ABANDON,
        // A delivery ID runs once; a reset or replayed fan-out must not deliver twice.
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        typedSearchAttributes: searchAttributePairs({ orgId: input.orgId, product: WEBHOOKS_PRODUCT }),
        memo: { summary },
        staticSummary: summary,
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
  }
  return { eventId: input.event.id, deliveryIds: deliveries.map((d) => d.deliveryId) };
}

export interface WebhookDeliveryWorkflowInput {
  orgId: string;
  deliveryId: string;
}

export interface WebhookDeliveryWorkflowResult {
  deliveryId: string;
  outcome: 'succeeded' | 'failed' | 'endpoint_disabled';
  attempts: number;
  lastStatus: number | null;
}

export async function webhookDeliveryWorkflow(
  input: WebhookDeliveryWorkflowInput,
): Promise<WebhookDeliveryWorkflowResult> {
  const { orgId, deliveryId } = input;
  const plan = await db.prepareDelivery({ orgId, deliveryId });
  if (plan.retryDelaysMs.length === 0)
    throw ApplicationFailure.nonRetryable('Empty webhook retry schedule', 'InvalidPolicy');

  const progress: DeliveryProgress = {
    attempts: 0,
    maxAttempts: plan.retryDelaysMs.length,
    lastStatus: null,
    nextAttemptAt: null,
    state: 'waiting',
  };
  let retryNowRequested = false;
  setHandler(retryNowSignal, () => {
    retryNowRequested = true;
  });
  setHandler(progressQuery, () => progress);

  try {
    for (const [index, delayMs] of plan.retryDelaysMs.entries()) {
      if (delayMs > 0) {
        // Date.now() is the workflow clock here (deterministic on replay).
        progress.nextAttemptAt = new Date(Date.now() + delayMs).toISOString();
        progress.state = 'waiting';
        await condition(() => retryNowRequested, delayMs);
      }
      retryNowRequested = false;
      progress.state = 'attempting';
      progress.nextAttemptAt = null;
      const attemptNumber = index + 1;
      const nextDelayMs = plan.retryDelaysMs[index + 1];
      const result = await attemptDelivery({
        orgId,
        deliveryId,
        attemptNumber,
        // Stored on the delivery so the API can show when the next try happens without asking Temporal.
        nextAttemptAt: nextDelayMs === undefined ? null : new Date(Date.now() + nextDelayMs).toISOString(),
      });
      if (result.attempted) progress.attempts = attemptNumber;
      progress.lastStatus = result.status ?? progress.lastStatus;
      if (result.outcome === 'succeeded') {
        progress.state = 'succeeded';
        return { deliveryId, outcome: 'succeeded', attempts: progress.attempts, lastStatus: progress.lastStatus };
      }
      if (result.outcome === 'endpoint_disabled') {
        progress.state = 'endpoint_disabled';
        // Never attempted at all (disabled before its first try): nothing failed, it was called off.
        await db.finishDelivery({ orgId, deliveryId, status: progress.attempts > 0 ? 'failed' : 'cancelled' });
        return {
          deliveryId,
          outcome: 'endpoint_disabled',
          attempts: progress.attempts,
          lastStatus: progress.lastStatus,
        };
      }
    }
    progress.state = 'failed';
    await db.finishDelivery({ orgId, deliveryId, status: 'failed' });
    return { deliveryId, outcome: 'failed', attempts: progress.attempts, lastStatus: progress.lastStatus };
  } catch (err) {
    if (isCancellation(err)) {
      progress.state = 'cancelled';
      // The workflow is being cancelled; the bookkeeping must still run, so shield it from that cancellation.
      await CancellationScope.nonCancellable(() => db.finishDelivery({ orgId, deliveryId, status: 'cancelled' }));
    }
    throw err;
  }
}

/** Used by the failure interceptor: the webhook workflows never report their own failures (no loops). */
export const WEBHOOK_WORKFLOW_TYPES: readonly string[] = ['webhookEventWorkflow', 'webhookDeliveryWorkflow'];
