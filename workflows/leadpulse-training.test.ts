/**
 * LeadPulse training end to end on the real Temporal dev server: the workflow runs on a Worker with the real
 * activities over PGlite holding a year of synthetic lead history (outcomes from a known ground-truth model).
 * Small boosting parameters keep each run to a second or two.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { Worker, type ReplayWorkerOptions } from '@temporalio/worker';
import { eq, like } from 'drizzle-orm';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import type { DatabaseHandle } from '../db/client';
import { createOrganization } from '../db/organizations';
import { leadpulseModels } from '../db/schema';
import { withTenant } from '../db/tenancy';
import { createEncryptor } from '../lib/crypto';
import {
  deleteLeadPulseSchedule,
  describeLeadPulseSchedule,
  ensureLeadPulseSchedule,
} from '../temporal/leadpulse-schedules';
import { createTestDatabase } from '../test/database';
import { startLeadPulseWorker, type LeadPulseWorker } from '../test/leadpulse-worker';
import { WORKFLOW_INTERCEPTORS_PATH, WORKFLOWS_PATH } from '../workers/run-workers';
import { seedDemoLeadHistory } from '../workers/demo-leadpulse';
import { leadPulseScheduleId, leadPulseTrainingWorkflowId, type LeadPulseTrainingInput } from './leadpulse';
import type { leadPulseTrainingWorkflow } from './leadpulse-training';

const SMALL = { maxRounds: 60, maxDepth: 3, learningRate: 0.15, earlyStoppingRounds: 15 };
/** A fixed clock, history and split seed: the same rows and split on every run, so AUC comparisons reproduce. */
const NOW = new Date('2026-06-01T12:00:00Z');
const fixed = { now: () => NOW, trainingSeed: 1 };
const encryptor = createEncryptor(randomBytes(32));

let database: DatabaseHandle;
let client: Client;
let worker: LeadPulseWorker;
let flakyWorker: LeadPulseWorker;
let orgId: string;
let emptyOrgId: string;
const trainCalls: { workflowId: string; attempt: number }[] = [];
const unique = `${process.pid}-${Date.now().toString(36)}`;
/** A run whose first training attempt failed after registering (RECORD_HISTORIES=1 rewrites it from a fresh run). */
const HISTORY_FIXTURE = fileURLToPath(new URL('./histories/leadpulse-training-retried.json', import.meta.url));
// As production Workers run (workers/run-workers.ts), interceptors included.
const replayOptions: ReplayWorkerOptions = {
  workflowsPath: WORKFLOWS_PATH,
  interceptors: { workflowModules: [WORKFLOW_INTERCEPTORS_PATH] },
};

/** The run's own workflow id, from its started event: the workflow passes it to the training activity. */
function workflowIdOf(history: { events?: unknown[] | null }): string {
  const first = history.events?.[0] as
    { workflowExecutionStartedEventAttributes?: { workflowId?: string | null } | null } | undefined;
  const workflowId = first?.workflowExecutionStartedEventAttributes?.workflowId;
  if (!workflowId) throw new Error('history does not start with a WorkflowExecutionStarted event');
  return workflowId;
}

async function models(org = orgId) {
  return withTenant(database.db, org, (tx) =>
    tx
      .select({
        id: leadpulseModels.id,
        version: leadpulseModels.version,
        status: leadpulseModels.status,
        trainingWorkflowId: leadpulseModels.trainingWorkflowId,
      })
      .from(leadpulseModels)
      .orderBy(leadpulseModels.version),
  );
}

function train(input: LeadPulseTrainingInput, key: string, taskQueue = worker.taskQueue) {
  return client.workflow.execute<typeof leadPulseTrainingWorkflow>('leadPulseTrainingWorkflow', {
    workflowId: leadPulseTrainingWorkflowId(input.orgId, `${key}-${unique}`),
    taskQueue,
    args: [input],
  });
}

beforeAll(async () => {
  database = await createTestDatabase();
  const org = await createOrganization(database.db, {
    name: 'LeadPulse training org',
    slug: `lp-train-${unique}`,
    properties: [
      { name: 'West', timezone: 'America/Los_Angeles' },
      { name: 'Central', timezone: 'America/Chicago' },
    ],
  });
  orgId = org.orgId;
  emptyOrgId = (await createOrganization(database.db, { name: 'Empty', slug: `lp-empty-${unique}`, properties: [] }))
    .orgId;
  await seedDemoLeadHistory(
    database.db,
    encryptor,
    orgId,
    [
      { id: org.propertyIds[0]!, timezone: 'America/Los_Angeles' },
      { id: org.propertyIds[1]!, timezone: 'America/Chicago' },
    ],
    { seed: 31, leadsPerMonth: 400, end: NOW },
  );
  client = new Client({
    connection: await Connection.connect({ address: inject('temporalAddress') }),
    namespace: inject('temporalNamespace'),
  });
  worker = await startLeadPulseWorker({ name: 'training', database, deps: fixed });
  // The first attempt of each training registers its model, then "crashes" before reporting back.
  flakyWorker = await startLeadPulseWorker({
    name: 'training-flaky',
    database,
    deps: fixed,
    wrap: (real) => ({
      ...real,
      async trainLeadPulseModel(input) {
        const attempt = Context.current().info.attempt;
        trainCalls.push({ workflowId: input.workflowId, attempt });
        const result = await real.trainLeadPulseModel(input);
        if (attempt === 1) throw new Error('worker lost after registering the model (simulated)');
        return result;
      },
    }),
  });
});

afterAll(async () => {
  await deleteLeadPulseSchedule(client, orgId).catch(() => undefined);
  await worker?.close();
  await flakyWorker?.close();
  await client?.connection.close();
  await database?.close();
});

describe('leadPulseTrainingWorkflow', () => {
  test('trains on the history, registers v1 and promotes it: AUC above the logistic baseline', async () => {
    const result = await train({ orgId, trigger: 'manual', params: SMALL }, 'first');
    expect(result.version).toBe(1);
    expect(result.promoted).toBe(true);
    expect(result.auc).toBeGreaterThan(result.baselineAuc);
    expect(result.auc).toBeGreaterThan(0.7);
    expect(result.reason).toMatch(/^First model: AUC/);
    expect(await models()).toEqual([
      {
        id: result.modelId,
        version: 1,
        status: 'promoted',
        trainingWorkflowId: leadPulseTrainingWorkflowId(orgId, `first-${unique}`),
      },
    ]);
    // The promoted version serves at once.
    const prediction = await worker.leadScorer.predict(orgId, {
      source: 'referral',
      receivedAt: '2026-03-04T18:00:00Z',
      timezone: 'America/Chicago',
      interactions: 6,
      responseTimeMinutes: 10,
      emailDomainClass: 'corporate',
      hasPhone: true,
      unitType: '2br',
    });
    expect(prediction?.modelVersion).toBe(1);
  });

  test('a second run that does not beat the promoted model on the same holdout is not promoted', async () => {
    const result = await train({ orgId, trigger: 'manual', params: { maxRounds: 1, maxDepth: 1 } }, 'weak');
    expect(result.version).toBe(2);
    expect(result.promoted).toBe(false);
    expect(result.reason).toMatch(/does not beat the (promoted v1's|logistic baseline's)/);
    expect((await models()).map((m) => [m.version, m.status])).toEqual([
      [1, 'promoted'],
      [2, 'rejected'],
    ]);
  });

  test('a retried training attempt returns the version its first attempt registered, never a second one', async () => {
    const result = await train({ orgId, trigger: 'manual', params: SMALL }, 'retried', flakyWorker.taskQueue);
    const workflowId = leadPulseTrainingWorkflowId(orgId, `retried-${unique}`);
    expect(trainCalls.filter((c) => c.workflowId === workflowId).map((c) => c.attempt)).toEqual([1, 2]);
    expect(result.version).toBe(3);
    const rows = await models();
    expect(rows).toHaveLength(3);
    expect(rows.filter((m) => m.trainingWorkflowId === workflowId)).toEqual([
      expect.objectContaining({ id: result.modelId, version: 3 }),
    ]);
    expect(rows.filter((m) => m.status === 'promoted')).toHaveLength(1);
  });

  test('too little history fails the run at once with the reason, and registers nothing', async () => {
    const err = await train({ orgId: emptyOrgId, trigger: 'manual' }, 'empty').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const cause = (err as WorkflowFailedError).cause?.cause;
    expect(cause).toBeInstanceOf(ApplicationFailure);
    expect((cause as ApplicationFailure).type).toBe('InsufficientTrainingData');
    expect((cause as ApplicationFailure).message).toMatch(/Too few leads to train on: 0 received/);
    expect(await models(emptyOrgId)).toEqual([]);
  });
});

describe('determinism', () => {
  test('fresh runs (one with a retried training attempt) and the recorded history replay against the current code', async () => {
    for (const key of ['first', 'weak', 'retried']) {
      const workflowId = leadPulseTrainingWorkflowId(orgId, `${key}-${unique}`);
      const history = await client.workflow.getHandle(workflowId).fetchHistory();
      expect(workflowIdOf(history)).toBe(workflowId);
      await Worker.runReplayHistory(replayOptions, history, workflowId);
      if (key === 'retried' && process.env.RECORD_HISTORIES === '1') {
        writeFileSync(HISTORY_FIXTURE, historyToJSON(history) + '\n');
      }
    }
    const recorded = JSON.parse(readFileSync(HISTORY_FIXTURE, 'utf8')) as { events: unknown[] };
    // Scheduled, started, failed (the simulated crash), started again, completed: the retry is in the history.
    expect(JSON.stringify(recorded.events)).toContain('worker lost after registering the model (simulated)');
    await Worker.runReplayHistory(replayOptions, recorded, workflowIdOf(recorded));
  });
});

describe('the monthly schedule', () => {
  test('is created once (idempotent), skips overlaps, and its runs train and register a model', async () => {
    await ensureLeadPulseSchedule(client, { orgId, cron: '0 3 1 * *', taskQueue: worker.taskQueue });
    await ensureLeadPulseSchedule(client, { orgId, cron: '0 3 1 * *', taskQueue: worker.taskQueue });
    const view = await describeLeadPulseSchedule(client, orgId);
    expect(view).toMatchObject({ scheduleId: leadPulseScheduleId(orgId), paused: false, cron: '0 3 1 * *' });
    const next = new Date(view!.nextActionTimes[0]!);
    expect(next.getUTCDate()).toBe(1);
    expect(next.getUTCHours()).toBe(3);
    const described = await client.schedule.getHandle(leadPulseScheduleId(orgId)).describe();
    expect(described.policies.overlap).toBe('SKIP');
    expect(described.action).toMatchObject({ type: 'startWorkflow', workflowType: 'leadPulseTrainingWorkflow' });

    // "Trigger now", as an operator does in the Web UI: the scheduled run trains with the default parameters.
    await client.schedule.getHandle(leadPulseScheduleId(orgId)).trigger();
    const deadline = Date.now() + 90_000;
    let scheduled: Awaited<ReturnType<typeof models>> = [];
    while (Date.now() < deadline) {
      scheduled = await withTenant(database.db, orgId, (tx) =>
        tx
          .select({
            id: leadpulseModels.id,
            version: leadpulseModels.version,
            status: leadpulseModels.status,
            trainingWorkflowId: leadpulseModels.trainingWorkflowId,
          })
          .from(leadpulseModels)
          .where(like(leadpulseModels.trainingWorkflowId, `${leadPulseScheduleId(orgId)}-%`)),
      );
      if (scheduled[0] && scheduled[0].status !== 'candidate') break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(scheduled).toHaveLength(1);
    expect(scheduled[0]!.version).toBe(4);
    expect(['promoted', 'rejected']).toContain(scheduled[0]!.status);
    const [row] = await withTenant(database.db, orgId, (tx) =>
      tx
        .select({ params: leadpulseModels.params })
        .from(leadpulseModels)
        .where(eq(leadpulseModels.id, scheduled[0]!.id)),
    );
    expect(row!.params.maxRounds).toBe(400);

    await deleteLeadPulseSchedule(client, orgId);
    expect(await describeLeadPulseSchedule(client, orgId)).toBeNull();
  }, 120_000);
});
