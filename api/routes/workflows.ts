import type { WorkflowExecutionInfo } from '@temporalio/client';
import { Hono } from 'hono';
import { z } from 'zod';
import { describeWorkflow, workflowUiUrl } from '../../temporal/client';
import { OrgId, Product, PropertyId, type WorkflowMemo } from '../../workflows/search-attributes';
import { requireAuth, requirePermission, type AppDeps, type AppEnv } from '../context';
import { notFound } from '../errors';
import { validate } from '../validation';

/**
 * Values interpolated into the visibility query are constrained to these shapes (and the org id comes from
 * auth), so nothing a caller sends can widen the query beyond their organization.
 */
const listQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  propertyId: z.uuid().optional(),
  product: z
    .string()
    .regex(/^[a-z-]+$/, 'must be lower-case letters and dashes')
    .max(64)
    .optional(),
});

/** How long the detail view waits for a workflow to answer its `progress` query before leaving it out. */
const PROGRESS_QUERY_TIMEOUT_MS = 1_500;

type RunInfo = Pick<
  WorkflowExecutionInfo,
  'workflowId' | 'runId' | 'type' | 'status' | 'startTime' | 'closeTime' | 'memo' | 'typedSearchAttributes'
>;

function presenter(deps: AppDeps) {
  const { uiUrl, namespace } = deps.config.temporal;
  return (run: RunInfo) => ({
    workflowId: run.workflowId,
    runId: run.runId,
    type: run.type,
    status: run.status.name,
    startTime: run.startTime,
    closeTime: run.closeTime ?? null,
    summary: (run.memo as Partial<WorkflowMemo> | undefined)?.summary ?? null,
    product: run.typedSearchAttributes.get(Product) ?? null,
    propertyId: run.typedSearchAttributes.get(PropertyId) ?? null,
    temporalUiUrl: workflowUiUrl(uiUrl, namespace, run.workflowId, run.runId),
  });
}

/** Mounted at /v1/workflows: the organization's runs, read from Temporal visibility. */
export function createWorkflowRoutes(deps: AppDeps) {
  const present = presenter(deps);
  return new Hono<AppEnv>()
    .get('/', requirePermission('workflows:read'), validate('query', listQuery), async (c) => {
      const auth = requireAuth(c);
      const { limit, propertyId, product } = c.req.valid('query');
      const clauses = [`OrgId = "${auth.orgId}"`];
      if (propertyId) clauses.push(`PropertyId = "${propertyId}"`);
      if (product) clauses.push(`Product = "${product}"`);
      const runs: RunInfo[] = [];
      // SQL visibility (dev server, PostgreSQL) has no ORDER BY: take one page and order it here.
      for await (const run of deps.temporal.workflow.list({ query: clauses.join(' AND '), pageSize: limit })) {
        runs.push(run);
        if (runs.length >= limit) break;
      }
      runs.sort((a, b) => b.startTime.getTime() - a.startTime.getTime());
      return c.json({ workflows: runs.map(present) });
    })
    .get('/:workflowId{.+}', requirePermission('workflows:read'), async (c) => {
      const auth = requireAuth(c);
      // Hono decodes the parameter, so "webhooks%2Fevent%2Fevt_1" and "webhooks/event/evt_1" are the same id.
      const workflowId = c.req.param('workflowId');
      const run = await describeWorkflow(deps.temporal, workflowId);
      if (!run || run.typedSearchAttributes.get(OrgId) !== auth.orgId) throw notFound('Workflow');

      let progress: unknown;
      // Only a run some worker has already picked up (history beyond Started + TaskScheduled) can answer
      // queries; asking one that never ran would just wait out the deadline.
      if (run.status.name === 'RUNNING' && run.historyLength > 2) {
        try {
          progress = await deps.temporal.withDeadline(Date.now() + PROGRESS_QUERY_TIMEOUT_MS, () =>
            deps.temporal.workflow.getHandle(run.workflowId, run.runId).query<unknown>('progress'),
          );
        } catch {
          // No progress query, no worker, or too slow: the run is still worth showing without it.
        }
      }
      return c.json({ workflow: { ...present(run), ...(progress === undefined ? {} : { progress }) } });
    });
}
