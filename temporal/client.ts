import {
  Client,
  Connection,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  type WorkflowExecutionDescription,
  type WorkflowHandle,
  type WorkflowStartOptions,
} from '@temporalio/client';
import type { Workflow } from '@temporalio/common';
import { searchAttributePairs, type WorkflowLabels } from '../workflows/search-attributes';

export interface TemporalConnectionOptions {
  address: string;
  namespace: string;
  apiKey?: string;
  tls?: boolean;
}

export async function connectTemporal(options: TemporalConnectionOptions): Promise<Client> {
  const connection = await Connection.connect({
    address: options.address,
    tls: options.tls ? {} : undefined,
    apiKey: options.apiKey,
  });
  return new Client({ connection, namespace: options.namespace });
}

export interface StartOnceOptions<W extends Workflow> {
  workflowId: string;
  taskQueue: string;
  args: Parameters<W>;
  labels: WorkflowLabels;
  /** One line for people: shown as the memo and as the run's summary in the Web UI. */
  summary: string;
  /**
   * REJECT_DUPLICATE (default): the business key runs once, ever. ALLOW_DUPLICATE: a new run may start once the
   * previous one closed (re-running a sync of the same range), while a running one is still returned as is.
   */
  reusePolicy?: 'REJECT_DUPLICATE' | 'ALLOW_DUPLICATE';
}

export interface StartOnceResult {
  workflowId: string;
  runId: string;
  /** false when a run with this business-key ID already existed (running or closed): nothing new was started. */
  created: boolean;
}

/**
 * Starts a workflow whose ID is a business key, exactly once. A retried request (external systems retry)
 * gets the existing run back instead of a duplicate: REJECT_DUPLICATE makes even a closed run count.
 */
export async function startWorkflowOnce<W extends Workflow>(
  client: Client,
  workflow: W | string,
  options: StartOnceOptions<W>,
): Promise<StartOnceResult> {
  const startOptions: WorkflowStartOptions<W> = {
    workflowId: options.workflowId,
    taskQueue: options.taskQueue,
    args: options.args,
    workflowIdReusePolicy: options.reusePolicy ?? 'REJECT_DUPLICATE',
    typedSearchAttributes: searchAttributePairs(options.labels),
    memo: { summary: options.summary },
    staticSummary: options.summary,
  } as unknown as WorkflowStartOptions<W>;
  try {
    const handle = await client.workflow.start(workflow, startOptions);
    return { workflowId: handle.workflowId, runId: handle.firstExecutionRunId, created: true };
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    const existing = await client.workflow.getHandle(options.workflowId).describe();
    return { workflowId: existing.workflowId, runId: existing.runId, created: false };
  }
}

/** Link to a run in the Temporal Web UI. */
export function workflowUiUrl(uiBaseUrl: string, namespace: string, workflowId: string, runId?: string): string {
  const base = `${uiBaseUrl}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
  return runId ? `${base}/${encodeURIComponent(runId)}/history` : base;
}

/** Describes a workflow, or null when there is no such workflow. */
export async function describeWorkflow(
  client: Client,
  workflowId: string,
): Promise<WorkflowExecutionDescription | null> {
  try {
    return await client.workflow.getHandle(workflowId).describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return null;
    throw err;
  }
}

export type { WorkflowHandle };
