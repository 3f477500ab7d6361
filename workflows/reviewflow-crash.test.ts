/**
 * Exactly one reply at Business Profile when the worker dies around the post.
 *
 * How worker 1 dies: its post hangs forever at one of two points, which is what an instant process death
 * leaves behind there: after Business Profile applied the reply (the emulator applies it and never answers),
 * or before it reached Google at all (the client call never returns). Worker 1 is then shut down hard (its
 * in-flight activity abandoned, never completed or failed), so the server sees the attempt only through its
 * heartbeat timeout, as after a real crash, and retries it on worker 2. Worker 2 finds the `posting` row, reads
 * the review back, and posts only when our reply is not there: one reply either way. If the retry posted
 * without reading back, the first case would leave two replies at the emulator and fail.
 */
import { Client, Connection } from '@temporalio/client';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { eq } from 'drizzle-orm';
import type { DatabaseHandle } from '../db/client';
import { reviewReplies } from '../db/schema';
import { withTenant } from '../db/tenancy';
import {
  createBusinessProfileClientFactory,
  type BusinessProfileClientFactory,
} from '../integrations/business-profile';
import { createEncryptor } from '../lib/crypto';
import { startSandbox, type RunningSandbox } from '../sandbox/server';
import { createTestDatabase } from '../test/database';
import {
  addEmulatorReview,
  createReviewTestOrg,
  emulatorReplies,
  ingestEmulatorReview,
  reviewRow,
} from '../test/reviewflow-fixtures';
import { startReviewFlowWorker, type ReviewFlowWorker } from '../test/reviewflow-worker';
import { eventually } from '../test/tourspark-fixtures';
import { decideReplyUpdate, reviewTriageStatusQuery } from './reviewflow';

const encryptor = createEncryptor(randomBytes(32));
const staff = {
  actorType: 'user' as const,
  actorId: '00000000-0000-4000-8000-000000000002',
  actorLabel: 'lee@example.test',
};
let database: DatabaseHandle;
let sandbox: RunningSandbox;
let client: Client;
const workers: ReviewFlowWorker[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  sandbox = await startSandbox({ port: 0 });
  client = new Client({
    connection: await Connection.connect({ address: inject('temporalAddress') }),
    namespace: inject('temporalNamespace'),
  });
});

afterAll(async () => {
  for (const w of workers) await w.close().catch(() => undefined);
  await client?.connection.close();
  await sandbox?.close();
  await database?.close();
});

const never = <T>(): Promise<T> => new Promise<T>(() => undefined);

/** Business Profile calls whose replies never get through: the process died before the request left. */
function hangingReplies(sandboxUrl: string): BusinessProfileClientFactory {
  const real = createBusinessProfileClientFactory({
    apiUrl: `${sandboxUrl}/business-profile`,
    tokenUrl: `${sandboxUrl}/google-oauth/token`,
  });
  return (credentials) => ({ ...real(credentials), updateReply: () => never() });
}

async function crashAroundThePost(name: string, dieAfterApply: boolean) {
  const org = await createReviewTestOrg(database, encryptor, sandbox.url);
  const worker1 = await startReviewFlowWorker({
    name,
    database,
    encryptor,
    sandboxUrl: sandbox.url,
    // Long enough that only the crash ends the call.
    postTimeoutMs: 120_000,
    businessProfile: dieAfterApply ? undefined : hangingReplies(sandbox.url),
    workerOptions: { shutdownGraceTime: '200ms', shutdownForceTime: '1s', stickyQueueScheduleToStartTimeout: '1s' },
  });
  workers.push(worker1);
  const review = await addEmulatorReview(sandbox.url, org, {
    reviewerName: 'Priya Shah',
    starRating: 2,
    comment: 'The elevator has been broken for two weeks and the office does not answer.',
  });
  const { workflowId, reviewId } = await ingestEmulatorReview(
    { database, client, taskQueue: worker1.taskQueue },
    org,
    review,
  );
  const handle = client.workflow.getHandle(workflowId);
  const waiting = await eventually(async () => {
    const s = await handle.query(reviewTriageStatusQuery);
    expect(s.state).toBe('awaiting_approval');
    return s;
  }, 20_000);

  if (dieAfterApply) {
    await fetch(`${sandbox.url}/business-profile/_config`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ failures: { replyApplyThenHang: 1 } }),
    });
  }
  const approval = handle
    .executeUpdate(decideReplyUpdate, { args: [{ action: 'approve', draftSeq: waiting.draft!.seq, by: staff }] })
    .catch((e) => e);
  if (dieAfterApply) {
    await eventually(async () => expect(await emulatorReplies(sandbox.url, review.reviewId)).toHaveLength(1), 20_000);
  } else {
    await eventually(
      async () => expect((await reviewRow(database, org.orgId, reviewId)).status).toBe('posting'),
      20_000,
    );
    await new Promise((r) => setTimeout(r, 500));
  }
  await worker1.close();

  const worker2 = await startReviewFlowWorker({
    name,
    database,
    encryptor,
    sandboxUrl: sandbox.url,
    taskQueue: worker1.taskQueue,
  });
  workers.push(worker2);
  const result = await approval;
  expect(result).toMatchObject({ status: 'replied', postedText: waiting.draft!.text });
  const replies = await emulatorReplies(sandbox.url, review.reviewId);
  expect(replies.map((r) => r.comment)).toEqual([waiting.draft!.text]);
  expect(await reviewRow(database, org.orgId, reviewId)).toMatchObject({
    status: 'replied',
    repliedBy: staff.actorLabel,
  });
  const rows = await withTenant(database.db, org.orgId, (tx) =>
    tx.select().from(reviewReplies).where(eq(reviewReplies.reviewId, reviewId)),
  );
  // Found at the source by the read-back (after the apply), or posted by the retry (before it).
  expect(rows).toMatchObject([{ status: 'posted', reconciled: dieAfterApply }]);
  await worker2.close();
}

describe('a worker killed around the post', () => {
  test('after Business Profile applied the reply: the retry finds it and does not post again', async () => {
    await crashAroundThePost('crash-after', true);
  }, 90_000);

  test('before the reply reached Business Profile: the retry posts it, once', async () => {
    await crashAroundThePost('crash-before', false);
  }, 90_000);
});
