/**
 * The poll of a Business Profile connection on the real Temporal dev server: it catches the reviews no
 * notification announced (one review came by push, two did not), a second poll changes nothing, and a review
 * edited at the source since is re-triaged by its existing workflow (one workflow per review throughout).
 */
import { Client, Connection } from '@temporalio/client';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import type { DatabaseHandle } from '../db/client';
import { createEncryptor } from '../lib/crypto';
import { startSandbox, type RunningSandbox } from '../sandbox/server';
import { createTestDatabase } from '../test/database';
import { addEmulatorReview, createReviewTestOrg, ingestEmulatorReview, reviewRow } from '../test/reviewflow-fixtures';
import { startReviewFlowWorker, type ReviewFlowWorker } from '../test/reviewflow-worker';
import { eventually } from '../test/tourspark-fixtures';
import { reviewPollScheduleId, reviewTriageStatusQuery, reviewWorkflowId, type ReviewPollResult } from './reviewflow';
import type { reviewPollWorkflow } from './reviewflow-polling';

const encryptor = createEncryptor(randomBytes(32));
let database: DatabaseHandle;
let sandbox: RunningSandbox;
let client: Client;
let worker: ReviewFlowWorker;

beforeAll(async () => {
  database = await createTestDatabase();
  sandbox = await startSandbox({ port: 0 });
  worker = await startReviewFlowWorker({ name: 'poll', database, encryptor, sandboxUrl: sandbox.url });
  client = new Client({
    connection: await Connection.connect({ address: inject('temporalAddress') }),
    namespace: inject('temporalNamespace'),
  });
});

afterAll(async () => {
  await worker?.close();
  await client?.connection.close();
  await sandbox?.close();
  await database?.close();
});

/** Runs under a workflow ID (visibility trails a start by a moment, so an empty list is asked again). */
async function runsOf(workflowId: string): Promise<number> {
  return eventually(async () => {
    let runs = 0;
    for await (const _ of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) runs++;
    expect(runs).toBeGreaterThan(0);
    return runs;
  }, 10_000);
}

describe('polling a Business Profile connection', () => {
  test('catches reviews no notification announced; a second poll changes nothing; an edit re-triages', async () => {
    const org = await createReviewTestOrg(database, encryptor, sandbox.url);
    const added = [];
    for (const [stars, comment] of [
      [5, 'Wonderful staff, quick move-in.'],
      [1, 'No hot water for a week and nobody answers.'],
      [4, null],
    ] as const) {
      added.push(await addEmulatorReview(sandbox.url, org, { reviewerName: 'Sam T.', starRating: stars, comment }));
    }
    // Only the first came by notification.
    const notified = await ingestEmulatorReview({ database, client, taskQueue: worker.taskQueue }, org, added[0]!);
    expect(notified.created).toBe(true);

    let n = 0;
    const poll = () =>
      client.workflow.execute<typeof reviewPollWorkflow>('reviewPollWorkflow', {
        workflowId: `${reviewPollScheduleId(org.connectionId)}-test-${++n}`,
        taskQueue: worker.taskQueue,
        args: [{ orgId: org.orgId, connectionId: org.connectionId }],
      }) as Promise<ReviewPollResult>;

    expect(await poll()).toEqual({ connectionId: org.connectionId, seen: 3, created: 2, updated: 0 });
    const workflowIds = added.map((r) => reviewWorkflowId(org.orgId, 'google', r.reviewId));
    const settled = await Promise.all(
      workflowIds.map((id) =>
        eventually(async () => {
          const status = await client.workflow.getHandle(id).query(reviewTriageStatusQuery);
          expect(status.state).toBe('awaiting_approval');
          return status;
        }, 20_000),
      ),
    );
    expect(settled.map((s) => s.analysis?.sentiment)).toEqual(['positive', 'negative', 'positive']);

    expect(await poll()).toEqual({ connectionId: org.connectionId, seen: 3, created: 0, updated: 0 });
    for (const id of workflowIds) expect(await runsOf(id)).toBe(1);

    await addEmulatorReview(sandbox.url, org, {
      reviewId: added[2]!.reviewId,
      reviewerName: 'Sam T.',
      starRating: 2,
      comment: 'The gate has been broken again for days.',
    });
    expect(await poll()).toEqual({ connectionId: org.connectionId, seen: 3, created: 0, updated: 1 });
    const retriaged = await eventually(async () => {
      const status = await client.workflow.getHandle(workflowIds[2]!).query(reviewTriageStatusQuery);
      expect(status).toMatchObject({ revision: 2, state: 'awaiting_approval' });
      return status;
    }, 20_000);
    expect(retriaged.analysis?.sentiment).toBe('negative');
    expect(await runsOf(workflowIds[2]!)).toBe(1);

    const row = await reviewRow(database, org.orgId, notified.reviewId);
    expect(row.status).toBe('awaiting_approval');
  }, 60_000);
});
