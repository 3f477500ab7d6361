/**
 * Workflow interceptors, registered with `interceptors.workflowModules` on every Worker. A failing workflow
 * (of any product) publishes a `workflow.failed` webhook event for its organization before it fails.
 */
import {
  ContinueAsNew,
  ParentClosePolicy,
  TemporalFailure,
  WorkflowIdReusePolicy,
  isCancellation,
  log,
  rootCause,
  startChild,
  workflowInfo,
  type Next,
  type WorkflowExecuteInput,
  type WorkflowInboundCallsInterceptor,
  type WorkflowInterceptorsFactory,
} from '@temporalio/workflow';
// @temporalio/common is sandbox-safe; the workflow package does not re-export this error class.
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { WebhookEventInput } from '../activities/webhook-events';
import type { TASK_QUEUES } from '../temporal/task-queues';
import { OrgId, searchAttributePairs } from './search-attributes';
import { WEBHOOK_WORKFLOW_TYPES, WEBHOOKS_PRODUCT, webhookEventWorkflow, webhookEventWorkflowId } from './webhooks';

// Workflows may not import values from temporal/; the type annotation makes tsc fail if the name drifts.
const PLATFORM_TASK_QUEUE: (typeof TASK_QUEUES)['platform'] = 'p11-platform-v1';

/** A run id belongs to exactly one workflow id and is globally unique, so it alone keys the event (readably). */
export function workflowFailedEventId(runId: string): string {
  return `evt_wf_${runId.replace(/[^A-Za-z0-9_-]/g, '')}`;
}

export interface WorkflowFailedOptions {
  /** Where the event workflow runs; undefined: the failing workflow's own task queue. */
  taskQueue: string | undefined;
}

/** Only failures that fail the run: cancellation and continue-as-new are normal ends, other errors retry the task. */
function failsTheRun(err: unknown): err is TemporalFailure {
  return err instanceof TemporalFailure && !isCancellation(err) && !(err instanceof ContinueAsNew);
}

class WorkflowFailedInterceptor implements WorkflowInboundCallsInterceptor {
  constructor(private readonly options: WorkflowFailedOptions) {}

  async execute(input: WorkflowExecuteInput, next: Next<WorkflowInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    try {
      return await next(input);
    } catch (err) {
      if (failsTheRun(err)) await this.publish(err);
      throw err;
    }
  }

  private async publish(err: TemporalFailure): Promise<void> {
    const info = workflowInfo();
    if (WEBHOOK_WORKFLOW_TYPES.includes(info.workflowType)) return;
    const orgId = info.typedSearchAttributes.get(OrgId);
    if (!orgId) return;
    const event: WebhookEventInput = {
      id: workflowFailedEventId(info.runId),
      type: 'workflow.failed',
      // Workflow time: deterministic on replay.
      createdAt: new Date().toISOString(),
      data: {
        workflowId: info.workflowId,
        runId: info.runId,
        workflowType: info.workflowType,
        message: (rootCause(err) ?? err.message).slice(0, 1000),
      },
    };
    const summary = `workflow.failed: ${info.workflowType} ${info.workflowId}`;
    try {
      // Awaited: the child must be started before this run closes, or the start could be lost with it.
      await startChild(webhookEventWorkflow, {
        workflowId: webhookEventWorkflowId(event.id),
        args: [{ orgId, event }],
        ...(this.options.taskQueue ? { taskQueue: this.options.taskQueue } : {}),
        // The report must outlive the failed run it reports.
        parentClosePolicy: ParentClosePolicy.ABANDON,
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        typedSearchAttributes: searchAttributePairs({ orgId, product: WEBHOOKS_PRODUCT }),
        memo: { summary },
        staticSummary: summary,
      });
    } catch (publishError) {
      // Reporting is best effort: the original failure must surface unchanged.
      if (!(publishError instanceof WorkflowExecutionAlreadyStartedError)) {
        log.warn('Could not publish workflow.failed webhook event', { error: String(publishError) });
      }
    }
  }
}

/** Builds the interceptors; tests use the failing workflow's own queue, production the platform queue. */
export function workflowFailedInterceptors(options: WorkflowFailedOptions): WorkflowInterceptorsFactory {
  return () => ({ inbound: [new WorkflowFailedInterceptor(options)] });
}

export const interceptors: WorkflowInterceptorsFactory = workflowFailedInterceptors({ taskQueue: PLATFORM_TASK_QUEUE });
