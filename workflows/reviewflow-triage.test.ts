/**
 * ReviewFlow triage end to end on the real Temporal dev server: reviews at the Business Profile emulator,
 * ingested as the push route and the poll do, triaged by the workflow with the offline classifier and drafter,
 * notifications through the SendGrid and Slack emulators, replies posted to the emulator. SLA durations are
 * seconds here.
 */
import { Client, Connection, WorkflowUpdateFailedError } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { eq } from 'drizzle-orm';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import type { DatabaseHandle } from '../db/client';
import { auditLog, reviewTickets } from '../db/schema';
import { withTenant } from '../db/tenancy';
import { createEncryptor } from '../lib/crypto';
import { startSandbox, type RunningSandbox } from '../sandbox/server';
import { createTestDatabase } from '../test/database';
import {
  addEmulatorReview,
  createReviewTestOrg,
  emulatorReplies,
  ingestEmulatorReview,
  reviewDraftRows,
  reviewEventKinds,
  reviewRow,
  type ReviewTestOrg,
} from '../test/reviewflow-fixtures';
import { emulatorEmails, emailText, eventually } from '../test/tourspark-fixtures';
import { startReviewFlowWorker, type ReviewFlowWorker } from '../test/reviewflow-worker';
import { ingestReview } from '../activities/reviewflow-ingest';
import { decideReplyUpdate, reviewTriageStatusQuery, type ReplyDecision, type ReviewTriageStatus } from './reviewflow';

const encryptor = createEncryptor(randomBytes(32));
/** A negative review approved with an edit; RECORD_HISTORIES=1 rewrites it from the run in the test below. */
const FIXTURE = fileURLToPath(new URL('./histories/review-triage-approved.json', import.meta.url));
const workflowsPath = fileURLToPath(new URL('./index.ts', import.meta.url));

function workflowIdOf(history: { events?: unknown[] | null }): string {
  const first = history.events?.[0] as
    { workflowExecutionStartedEventAttributes?: { workflowId?: string } } | undefined;
  return first?.workflowExecutionStartedEventAttributes?.workflowId ?? 'review/replay';
}
const staff = {
  actorType: 'user' as const,
  actorId: '00000000-0000-4000-8000-000000000001',
  actorLabel: 'dana@example.test',
};
let database: DatabaseHandle;
let sandbox: RunningSandbox;
let worker: ReviewFlowWorker;
let client: Client;

beforeAll(async () => {
  database = await createTestDatabase();
  sandbox = await startSandbox({ port: 0 });
  worker = await startReviewFlowWorker({ name: 'triage', database, encryptor, sandboxUrl: sandbox.url });
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

const ingest = (org: ReviewTestOrg, review: Parameters<typeof ingestEmulatorReview>[2]) =>
  ingestEmulatorReview({ database, client, taskQueue: worker.taskQueue }, org, review);

async function statusOf(workflowId: string): Promise<ReviewTriageStatus> {
  return client.workflow.getHandle(workflowId).query(reviewTriageStatusQuery);
}

async function waitForState(workflowId: string, state: ReviewTriageStatus['state']) {
  return eventually(async () => {
    const status = await statusOf(workflowId);
    expect(status.state).toBe(state);
    return status;
  }, 20_000);
}

type DecisionInput = ReplyDecision extends infer D ? (D extends ReplyDecision ? Omit<D, 'by'> : never) : never;

function decide(workflowId: string, decision: DecisionInput) {
  return client.workflow
    .getHandle(workflowId)
    .executeUpdate(decideReplyUpdate, { args: [{ ...decision, by: staff } as ReplyDecision] });
}

describe('routing', () => {
  test('a positive review with auto-reply on is posted once, after the delay, with the draft', async () => {
    const org = await createReviewTestOrg(database, encryptor, sandbox.url, {
      policy: { autoReplyPositive: true, autoReplyDelay: '2s' },
    });
    const review = await addEmulatorReview(sandbox.url, org, {
      reviewerName: 'Maya Rodriguez',
      starRating: 5,
      comment: 'Love the pool and the gym, and the staff are so friendly!',
    });
    const started = Date.now();
    const { workflowId, reviewId } = await ingest(org, review);
    const scheduled = await waitForState(workflowId, 'scheduled');
    expect(scheduled.analysis?.sentiment).toBe('positive');
    expect(await emulatorReplies(sandbox.url, review.reviewId)).toEqual([]);
    await client.workflow.getHandle(workflowId).result();
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_000);
    const replies = await emulatorReplies(sandbox.url, review.reviewId);
    expect(replies).toHaveLength(1);
    expect(replies[0]!.comment).toBe(scheduled.draft!.text);
    expect(replies[0]!.comment).toContain('Maya');
    const row = await reviewRow(database, org.orgId, reviewId);
    expect(row).toMatchObject({ status: 'replied', repliedBy: 'auto', sentiment: 'positive' });
  });

  test('a negative review is never auto-posted: ticket, manager email and Slack, then posted only when approved (edited)', async () => {
    const org = await createReviewTestOrg(database, encryptor, sandbox.url, {
      policy: { autoReplyPositive: true, autoReplyDelay: '1s' },
      slack: true,
    });
    const review = await addEmulatorReview(sandbox.url, org, {
      reviewerName: 'Tom K.',
      starRating: 1,
      comment: 'Roaches in the kitchen and maintenance never came back. Disgusting.',
    });
    const { workflowId, reviewId } = await ingest(org, review);
    const waiting = await waitForState(workflowId, 'awaiting_approval');
    expect(waiting.analysis).toMatchObject({ sentiment: 'negative', urgent: true });
    expect(waiting.autoPostAt).toBeNull();
    const email = await eventually(async () => {
      const [found] = await emulatorEmails(sandbox.url, org.managerEmail);
      expect(found).toBeDefined();
      return found!;
    });
    expect(email.subject).toMatch(/URGENT negative review/);
    expect(emailText(email)).toContain(`/admin/reviews/${reviewId}`);
    const slack = await (
      await fetch(`${sandbox.url}/slack/_messages?path=${new URL(org.slackUrl!).pathname.replace('/slack', '')}`)
    ).json();
    expect(slack.messages).toHaveLength(1);
    const tickets = await withTenant(database.db, org.orgId, (tx) =>
      tx.select().from(reviewTickets).where(eq(reviewTickets.reviewId, reviewId)),
    );
    expect(tickets).toMatchObject([{ status: 'open', priority: 'urgent' }]);

    // Longer than the auto-reply delay: still nothing posted.
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await emulatorReplies(sandbox.url, review.reviewId)).toEqual([]);

    const edited = 'Tom, we are sorry. Our pest control partner is scheduled for tomorrow; please call the office.';
    const result = await decide(workflowId, { action: 'approve', draftSeq: waiting.draft!.seq, text: edited });
    expect(result).toEqual({ status: 'replied', draft: null, postedText: edited });
    expect((await emulatorReplies(sandbox.url, review.reviewId)).map((r) => r.comment)).toEqual([edited]);
    const row = await reviewRow(database, org.orgId, reviewId);
    expect(row).toMatchObject({ status: 'replied', repliedBy: staff.actorLabel, replyText: edited });
    const audits = await withTenant(database.db, org.orgId, (tx) =>
      tx.select().from(auditLog).where(eq(auditLog.targetId, reviewId)),
    );
    expect(audits).toMatchObject([
      { action: 'review.reply_approved', actorId: staff.actorId, details: { edited: true } },
    ]);
    // Determinism guard: the run replays against the current code (and becomes the fixture when recording).
    const history = await client.workflow.getHandle(workflowId).fetchHistory();
    await Worker.runReplayHistory({ workflowsPath }, history, workflowId);
    if (process.env.RECORD_HISTORIES === '1') writeFileSync(FIXTURE, historyToJSON(history) + '\n');
    // The ticket outlives the reply: staff resolve it themselves.
    const [ticket] = await withTenant(database.db, org.orgId, (tx) =>
      tx.select().from(reviewTickets).where(eq(reviewTickets.reviewId, reviewId)),
    );
    expect(ticket!.status).toBe('open');
  });

  test('a neutral review waits for approval even with auto-reply on', async () => {
    const org = await createReviewTestOrg(database, encryptor, sandbox.url, {
      policy: { autoReplyPositive: true, autoReplyDelay: '1s' },
    });
    const review = await addEmulatorReview(sandbox.url, org, {
      starRating: 3,
      comment: 'It is fine. Parking is tight.',
    });
    const { workflowId } = await ingest(org, review);
    const status = await waitForState(workflowId, 'awaiting_approval');
    expect(status.analysis?.sentiment).toBe('neutral');
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await emulatorReplies(sandbox.url, review.reviewId)).toEqual([]);
  });
});

describe('replay', () => {
  test('the recorded history of an approved negative review replays against the current code', async () => {
    const history = JSON.parse(readFileSync(FIXTURE, 'utf8')) as { events: unknown[] };
    expect(history.events.length).toBeGreaterThan(20);
    await Worker.runReplayHistory({ workflowsPath }, history, workflowIdOf(history));
  });
});

describe('decisions', () => {
  test('reject posts nothing; regenerate gives a new draft and a decision on the old one is refused', async () => {
    const org = await createReviewTestOrg(database, encryptor, sandbox.url);
    const review = await addEmulatorReview(sandbox.url, org, {
      reviewerName: 'Aisha B.',
      starRating: 4,
      comment: 'Nice clubhouse, quiet neighbours.',
    });
    const { workflowId, reviewId } = await ingest(org, review);
    const first = await waitForState(workflowId, 'awaiting_approval');

    const regenerated = await decide(workflowId, {
      action: 'regenerate',
      draftSeq: first.draft!.seq,
      instruction: 'Mention the new coworking lounge.',
    });
    expect(regenerated.status).toBe('awaiting_approval');
    expect(regenerated.draft!.seq).toBe(first.draft!.seq + 1);
    expect(regenerated.draft!.text).not.toBe(first.draft!.text);
    expect(regenerated.draft!.text).toContain('the new coworking lounge');

    const stale = await decide(workflowId, { action: 'approve', draftSeq: first.draft!.seq }).catch((e) => e);
    expect(stale).toBeInstanceOf(WorkflowUpdateFailedError);
    expect(String(((stale as Error).cause as Error | undefined)?.message)).toMatch(/^stale_draft:/);
    const empty = await decide(workflowId, {
      action: 'reject',
      draftSeq: regenerated.draft!.seq,
      reason: ' ',
    } as never).catch((e) => e);
    expect(String(((empty as Error).cause as Error | undefined)?.message)).toMatch(/^invalid_decision:/);

    const rejected = await decide(workflowId, {
      action: 'reject',
      draftSeq: regenerated.draft!.seq,
      reason: 'We will answer in person',
    });
    expect(rejected.status).toBe('rejected');
    await client.workflow.getHandle(workflowId).result();
    expect(await emulatorReplies(sandbox.url, review.reviewId)).toEqual([]);
    const drafts = await reviewDraftRows(database, org.orgId, reviewId);
    expect(drafts.map((d) => d.status)).toEqual(['superseded', 'rejected']);
    const late = await decide(workflowId, { action: 'approve', draftSeq: regenerated.draft!.seq }).catch((e) => e);
    expect(late).toBeInstanceOf(Error);
  });

  test('reminder, escalation and expiry fire on their own durations; the ticket stays open', async () => {
    const org = await createReviewTestOrg(database, encryptor, sandbox.url, {
      policy: { reminderAfter: '1s', escalateAfter: '2s', expireAfter: '4s' },
    });
    const review = await addEmulatorReview(sandbox.url, org, {
      reviewerName: 'Luis',
      starRating: 2,
      comment: 'Management never answers emails and the trash room stinks.',
    });
    const { workflowId, reviewId } = await ingest(org, review);
    const result = await client.workflow.getHandle(workflowId).result();
    expect(result.outcome).toBe('expired');
    const kinds = await reviewEventKinds(database, org.orgId, reviewId);
    expect(kinds).toEqual(expect.arrayContaining(['manager_notified', 'reminder_sent', 'escalated', 'expired']));
    const managerMail = await emulatorEmails(sandbox.url, org.managerEmail);
    expect(managerMail.map((m) => m.subject)).toEqual(
      expect.arrayContaining([expect.stringMatching(/negative review/), expect.stringMatching(/waiting for approval/)]),
    );
    const adminMail = await emulatorEmails(sandbox.url, org.adminEmail);
    expect(adminMail.map((m) => m.subject)).toEqual([expect.stringMatching(/overdue/)]);
    expect(await emulatorReplies(sandbox.url, review.reviewId)).toEqual([]);
    const row = await reviewRow(database, org.orgId, reviewId);
    expect(row.status).toBe('expired');
    const [ticket] = await withTenant(database.db, org.orgId, (tx) =>
      tx.select().from(reviewTickets).where(eq(reviewTickets.reviewId, reviewId)),
    );
    expect(ticket!.status).toBe('open');
  });
});

describe('sources without replies', () => {
  test('a review submitted over the API is triaged and drafted; approving it posts nothing (not_replyable)', async () => {
    const org = await createReviewTestOrg(database, encryptor, sandbox.url, {
      policy: { autoReplyPositive: true, autoReplyDelay: '1s' },
    });
    const { workflowId, reviewId } = await ingestReview(
      { db: database.db, temporal: client, taskQueue: worker.taskQueue, orgId: org.orgId, actor: 'api:test' },
      {
        propertyId: org.propertyId,
        source: 'apartments_com',
        externalId: `ac-${Date.now().toString(36)}`,
        reviewerName: 'Noor H.',
        rating: 5,
        text: 'Beautiful courtyard and a very responsive leasing office.',
        createdAt: new Date(),
        updatedAt: new Date(),
      },
    );
    // Positive with auto-reply on, but there is nowhere to post: it waits for staff instead.
    const waiting = await waitForState(workflowId, 'awaiting_approval');
    expect(waiting).toMatchObject({ autoPostAt: null, analysis: { sentiment: 'positive' } });
    const result = await decide(workflowId, { action: 'approve', draftSeq: waiting.draft!.seq });
    expect(result).toEqual({ status: 'not_replyable', draft: null, postedText: null });
    expect(await client.workflow.getHandle(workflowId).result()).toMatchObject({ outcome: 'not_replyable' });
    expect((await reviewRow(database, org.orgId, reviewId)).status).toBe('not_replyable');
    expect((await reviewDraftRows(database, org.orgId, reviewId)).map((d) => d.status)).toEqual(['approved']);
  });
});

describe('ingestion', () => {
  test('duplicate notifications of the same review start one workflow', async () => {
    const org = await createReviewTestOrg(database, encryptor, sandbox.url);
    const review = await addEmulatorReview(sandbox.url, org, { reviewerName: 'Ben', starRating: 5, comment: 'Great!' });
    const results = await Promise.all([ingest(org, review), ingest(org, review)].map((p) => p.catch((e) => e)));
    const again = await ingest(org, review);
    const ok = [...results, again].filter((r) => !(r instanceof Error));
    expect(ok.filter((r) => r.created)).toHaveLength(1);
    expect(again).toMatchObject({ created: false, changed: false, started: false });
    const runs: string[] = [];
    for await (const run of client.workflow.list({ query: `WorkflowId = '${again.workflowId}'` })) runs.push(run.runId);
    expect(runs).toHaveLength(1);
  });

  test('an updated review re-triages and replaces the pending draft', async () => {
    const org = await createReviewTestOrg(database, encryptor, sandbox.url);
    const review = await addEmulatorReview(sandbox.url, org, {
      reviewerName: 'Keiko',
      starRating: 5,
      comment: 'Lovely place, spotless gym.',
    });
    const { workflowId, reviewId } = await ingest(org, review);
    const first = await waitForState(workflowId, 'awaiting_approval');
    expect(first.analysis?.sentiment).toBe('positive');

    const updated = await addEmulatorReview(sandbox.url, org, {
      reviewId: review.reviewId,
      reviewerName: 'Keiko',
      starRating: 1,
      comment: 'Update: there is black mold behind the washer and nobody has come in two weeks.',
    });
    const changed = await ingest(org, updated);
    expect(changed).toMatchObject({ created: false, changed: true, revision: 2, workflowId });
    const second = await eventually(async () => {
      const s = await statusOf(workflowId);
      expect(s.revision).toBe(2);
      expect(s.state).toBe('awaiting_approval');
      return s;
    }, 20_000);
    expect(second.analysis).toMatchObject({ sentiment: 'negative', urgent: true });
    expect(second.draft!.seq).toBeGreaterThan(first.draft!.seq);
    const drafts = await reviewDraftRows(database, org.orgId, reviewId);
    expect(drafts.map((d) => [d.reviewRevision, d.status])).toEqual([
      [1, 'superseded'],
      [2, 'pending'],
    ]);
    const stale = await decide(workflowId, { action: 'approve', draftSeq: first.draft!.seq }).catch((e) => e);
    expect(String(((stale as Error).cause as Error | undefined)?.message)).toMatch(/^stale_draft:/);
  });
});
