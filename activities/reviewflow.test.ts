/**
 * ReviewFlow's activities and ingestion over PGlite and the sandbox emulators (Business Profile, SendGrid, Slack),
 * without a Temporal server: ingestion's upsert and hand-over (a recording stand-in for the Temporal client),
 * the exactly-once reply post and its read-back reconciliation after an uncertain outcome, a refused post retried
 * with other words, notifications once per key (SendGrid asked before a resend; Slack written ahead), what the
 * triage loads, drafts by sequence number, tickets, and the poll's failure bookkeeping. Activities run in
 * MockActivityEnvironment (they heartbeat and read their client through the activity context).
 */
import type { Client } from '@temporalio/client';
import { ApplicationFailure, WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { and, eq } from 'drizzle-orm';
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { DatabaseHandle } from '../db/client';
import { createOrganization } from '../db/organizations';
import {
  reviewConnections,
  reviewEvents,
  reviewflowPersonas,
  reviewReplies,
  reviews,
  reviewTickets,
} from '../db/schema';
import { withTenant } from '../db/tenancy';
import {
  BusinessProfileTimeoutError,
  SANDBOX_BUSINESS_PROFILE_CREDENTIALS,
  type BusinessProfileReview,
} from '../integrations/business-profile';
import type { EmailSender } from '../integrations/email';
import { createEncryptor } from '../lib/crypto';
import { startSandbox, type RunningSandbox } from '../sandbox/server';
import { createTestDatabase } from '../test/database';
import {
  addEmulatorReview,
  createReviewTestOrg,
  emulatorReplies,
  reviewDraftRows,
  reviewEventKinds,
  reviewRow,
  type ReviewTestOrg,
} from '../test/reviewflow-fixtures';
import { sandboxReviewFlowActivities, type ReviewFlowWorkerOptions } from '../test/reviewflow-worker';
import { emulatorEmails } from '../test/tourspark-fixtures';
import { REVIEWFLOW_DEFAULTS, replyPostKey, reviewWorkflowId } from '../workflows/reviewflow';
import type { PostReplyInput, ReviewFlowActivities } from './reviewflow';
import { ingestReview, reviewContentHash, reviewInputFromBusinessProfile, type ReviewInput } from './reviewflow-ingest';

const encryptor = createEncryptor(randomBytes(32));
let database: DatabaseHandle;
let sandbox: RunningSandbox;

beforeAll(async () => {
  database = await createTestDatabase();
  sandbox = await startSandbox({ port: 0 });
});

afterAll(async () => {
  await sandbox?.close();
  await database?.close();
});

/** What ingestion asked of Temporal; `running` holds the workflow IDs a start would find already running. */
function recordingTemporal() {
  const calls: {
    kind: 'signalWithStart' | 'start' | 'signal';
    workflowId: string;
    revision?: number;
    options?: any;
  }[] = [];
  const running = new Set<string>();
  const client = {
    // The worker runs activities inside the client's abort scope.
    withAbortSignal: <R>(_signal: AbortSignal, fn: () => Promise<R>) => fn(),
    workflow: {
      async signalWithStart(_type: string, options: any) {
        calls.push({
          kind: 'signalWithStart',
          workflowId: options.workflowId,
          revision: options.signalArgs[0].revision,
          options,
        });
        running.add(options.workflowId);
        return {};
      },
      async start(type: string, options: any) {
        calls.push({ kind: 'start', workflowId: options.workflowId, options });
        if (running.has(options.workflowId)) {
          throw new WorkflowExecutionAlreadyStartedError(
            'Workflow execution already started',
            options.workflowId,
            type,
          );
        }
        running.add(options.workflowId);
        return {};
      },
      getHandle(workflowId: string) {
        return {
          async signal(_signal: unknown, arg: { revision: number }) {
            calls.push({ kind: 'signal', workflowId, revision: arg.revision });
          },
        };
      },
    },
  };
  return { client: client as unknown as Client, calls, running };
}

function activitiesFor(overrides: Partial<ReviewFlowWorkerOptions> = {}): ReviewFlowActivities {
  return sandboxReviewFlowActivities({
    name: 'activities',
    database,
    encryptor,
    sandboxUrl: sandbox.url,
    taskQueue: 'reviewflow-activities-test',
    ...overrides,
  });
}

const run = <A extends unknown[], R>(fn: (...args: A) => Promise<R>, ...args: A): Promise<R> =>
  new MockActivityEnvironment().run(fn, ...args) as Promise<R>;

function apiReview(org: ReviewTestOrg, overrides: Partial<ReviewInput> = {}): ReviewInput {
  return {
    propertyId: org.propertyId,
    source: 'yelp',
    externalId: `y-${randomUUID().slice(0, 8)}`,
    reviewerName: 'Jordan Lee',
    rating: 4,
    text: 'Great location, a little noisy at night.',
    createdAt: new Date('2026-10-01T10:00:00Z'),
    updatedAt: new Date('2026-10-01T10:00:00Z'),
    ...overrides,
  };
}

/** A Business Profile review at the emulator, ingested, analysed and drafted: ready to post. */
async function draftedGoogleReview(
  org: ReviewTestOrg,
  activities: ReviewFlowActivities,
  review: { starRating: number; comment: string; reviewerName?: string },
) {
  const atSource = await addEmulatorReview(sandbox.url, org, { reviewerName: 'Riley Chen', ...review });
  const temporal = recordingTemporal();
  const ingested = await ingestReview(
    { db: database.db, temporal: temporal.client, taskQueue: 'q', orgId: org.orgId, actor: 'test' },
    reviewInputFromBusinessProfile({ id: org.connectionId, propertyId: org.propertyId }, atSource),
  );
  const ids = { orgId: org.orgId, reviewId: ingested.reviewId, workflowId: ingested.workflowId, revision: 1 };
  await run(activities.analyseReview, ids);
  const draft = await run(activities.draftReviewReply, { ...ids, seq: 1 });
  return { atSource, ingested, ids, draft };
}

function postInput(
  ids: { orgId: string; reviewId: string; workflowId: string },
  text: string,
  seq = 1,
): PostReplyInput {
  return {
    orgId: ids.orgId,
    reviewId: ids.reviewId,
    key: replyPostKey(ids.workflowId, 1, seq),
    text,
    draftSeq: seq,
    approvedBy: 'dana@example.test',
    edited: false,
  };
}

async function setReplyFailures(failures: Record<string, number>) {
  const res = await fetch(`${sandbox.url}/business-profile/_config`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ failures }),
  });
  expect(res.ok).toBe(true);
}

describe('ingestion', () => {
  test('content hash: whitespace is not a change, a word or a star is', () => {
    const base = reviewContentHash(4, 'Nice pool,  friendly staff');
    expect(reviewContentHash(4, '  Nice pool, friendly\nstaff ')).toBe(base);
    expect(reviewContentHash(5, 'Nice pool, friendly staff')).not.toBe(base);
    expect(reviewContentHash(4, 'Nice pool, unfriendly staff')).not.toBe(base);
    expect(reviewContentHash(null, null)).not.toBe(reviewContentHash(1, null));
  });

  test('a Business Profile review maps to the ingestion input (anonymous, no text, the reply at the source)', () => {
    const review: BusinessProfileReview = {
      name: 'accounts/1/locations/2/reviews/abc',
      reviewId: 'abc',
      reviewer: { displayName: 'A Google User', isAnonymous: true },
      starRating: 'TWO',
      comment: '   ',
      createTime: '2026-10-01T10:00:00Z',
      updateTime: '2026-10-02T10:00:00Z',
      reviewReply: { comment: 'Thanks!', updateTime: '2026-10-03T10:00:00Z' },
    };
    expect(reviewInputFromBusinessProfile({ id: 'c1', propertyId: 'p1' }, review)).toEqual({
      propertyId: 'p1',
      connectionId: 'c1',
      source: 'google',
      externalId: 'abc',
      sourceName: review.name,
      reviewerName: null,
      rating: 2,
      text: null,
      createdAt: new Date(review.createTime),
      updatedAt: new Date(review.updateTime),
      replyAtSource: { text: 'Thanks!', updatedAt: new Date('2026-10-03T10:00:00Z') },
    });
  });

  test('new → revision 1 and a start; same content → nothing; changed → revision 2 and a signal', async () => {
    const org = await createReviewTestOrg(database, encryptor, sandbox.url);
    const temporal = recordingTemporal();
    const options = {
      db: database.db,
      temporal: temporal.client,
      taskQueue: 'q-ingest',
      orgId: org.orgId,
      actor: 'api:test',
    };
    const input = apiReview(org);

    const first = await ingestReview(options, input);
    const workflowId = reviewWorkflowId(org.orgId, 'yelp', input.externalId);
    expect(first).toMatchObject({ workflowId, created: true, changed: false, revision: 1, started: true });
    expect(temporal.calls).toHaveLength(1);
    const { options: startOptions } = temporal.calls[0]!;
    expect(temporal.calls[0]).toMatchObject({ kind: 'signalWithStart', workflowId, revision: 1 });
    expect(startOptions).toMatchObject({
      taskQueue: 'q-ingest',
      args: [{ orgId: org.orgId, reviewId: first.reviewId, propertyId: org.propertyId, source: 'yelp' }],
      memo: { summary: expect.stringMatching(/^4★ yelp review by Jordan Lee of The Reserve/) },
    });
    expect(startOptions.typedSearchAttributes.length).toBeGreaterThanOrEqual(3);

    // The triage has moved on (the row no longer says triaging): a duplicate changes nothing.
    await withTenant(database.db, org.orgId, (tx) =>
      tx.update(reviews).set({ status: 'awaiting_approval' }).where(eq(reviews.id, first.reviewId)),
    );
    const again = await ingestReview(options, { ...input, text: `  ${input.text}  ` });
    expect(again).toMatchObject({
      reviewId: first.reviewId,
      created: false,
      changed: false,
      revision: 1,
      started: false,
    });
    expect(temporal.calls).toHaveLength(1);

    const changed = await ingestReview(options, { ...input, rating: 1, text: 'Update: the noise never stops.' });
    expect(changed).toMatchObject({
      reviewId: first.reviewId,
      created: false,
      changed: true,
      revision: 2,
      started: true,
    });
    expect(temporal.calls[1]).toMatchObject({ kind: 'signalWithStart', workflowId, revision: 2 });
    const row = await reviewRow(database, org.orgId, first.reviewId);
    expect(row).toMatchObject({ revision: 2, rating: 1, status: 'triaging' });
    expect(await reviewEventKinds(database, org.orgId, first.reviewId)).toEqual(['received', 'updated']);
  });

  test('a stored review whose triage never started (a crash after the insert) is started by the next ingest', async () => {
    const org = await createReviewTestOrg(database, encryptor, sandbox.url);
    const crashed = recordingTemporal();
    crashed.client.workflow.signalWithStart = async () => {
      throw new Error('connection lost');
    };
    const input = apiReview(org);
    const options = { db: database.db, taskQueue: 'q', orgId: org.orgId, actor: 'api:test' };
    await expect(ingestReview({ ...options, temporal: crashed.client }, input)).rejects.toThrow('connection lost');

    const temporal = recordingTemporal();
    const retried = await ingestReview({ ...options, temporal: temporal.client }, input);
    expect(retried).toMatchObject({ created: false, changed: false, started: true });
    expect(temporal.calls.map((c) => c.kind)).toEqual(['start']);

    // Running now: a third notification finds it started and re-sends the revision (a no-op for the workflow).
    const third = await ingestReview({ ...options, temporal: temporal.client }, input);
    expect(third.started).toBe(false);
    expect(temporal.calls.map((c) => c.kind)).toEqual(['start', 'start', 'signal']);
    expect(temporal.calls[2]).toMatchObject({ revision: 1 });
  });

  test('reviews are per organization: the same external id in two orgs is two reviews; a foreign property is refused', async () => {
    const a = await createReviewTestOrg(database, encryptor, sandbox.url);
    const b = await createReviewTestOrg(database, encryptor, sandbox.url);
    const temporal = recordingTemporal();
    const externalId = `shared-${randomUUID().slice(0, 6)}`;
    const inA = await ingestReview(
      { db: database.db, temporal: temporal.client, taskQueue: 'q', orgId: a.orgId, actor: 't' },
      apiReview(a, { externalId }),
    );
    const inB = await ingestReview(
      { db: database.db, temporal: temporal.client, taskQueue: 'q', orgId: b.orgId, actor: 't' },
      apiReview(b, { externalId }),
    );
    expect(inA.reviewId).not.toBe(inB.reviewId);
    expect(inA.workflowId).not.toBe(inB.workflowId);
    await expect(
      ingestReview(
        { db: database.db, temporal: temporal.client, taskQueue: 'q', orgId: a.orgId, actor: 't' },
        apiReview(b, { externalId: 'other' }),
      ),
    ).rejects.toThrow(/not in this organization/);
  });
});

describe('what the triage loads', () => {
  test('defaults without settings; replyable only with a connection; a reply at the source newer than the review', async () => {
    const { orgId, propertyIds } = await createOrganization(database.db, {
      name: 'No settings',
      slug: `no-settings-${randomUUID().slice(0, 8)}`,
      properties: [{ name: 'Elm Court' }],
    });
    const org = { orgId, propertyId: propertyIds[0]! } as ReviewTestOrg;
    const activities = activitiesFor();
    const temporal = recordingTemporal();
    const options = { db: database.db, temporal: temporal.client, taskQueue: 'q', orgId, actor: 't' };

    const fromApi = await ingestReview(options, apiReview(org));
    const loaded = await run(activities.loadReviewForTriage, { orgId, reviewId: fromApi.reviewId });
    expect(loaded).toMatchObject({ replyable: false, answeredAtSource: false, policy: REVIEWFLOW_DEFAULTS });
    expect(loaded.review).toMatchObject({ propertyName: 'Elm Court', revision: 1 });

    // Staff answered on Google after the review's last edit: nothing for the triage to do.
    const answered = await ingestReview(options, {
      ...apiReview(org, { source: 'google' }),
      replyAtSource: { text: 'Thank you, Jordan!', updatedAt: new Date('2026-10-02T09:00:00Z') },
    });
    expect((await run(activities.loadReviewForTriage, { orgId, reviewId: answered.reviewId })).answeredAtSource).toBe(
      true,
    );
    // The reviewer edited the review after that reply: the old reply answered an earlier version.
    await ingestReview(options, {
      ...apiReview(org, {
        source: 'google',
        externalId: (await reviewRow(database, orgId, answered.reviewId)).externalId,
      }),
      text: 'Edit: the noise got worse.',
      updatedAt: new Date('2026-10-05T09:00:00Z'),
      replyAtSource: { text: 'Thank you, Jordan!', updatedAt: new Date('2026-10-02T09:00:00Z') },
    });
    expect((await run(activities.loadReviewForTriage, { orgId, reviewId: answered.reviewId })).answeredAtSource).toBe(
      false,
    );
  });
});

describe('drafts and tickets', () => {
  test('a draft is written once per sequence number and supersedes the earlier pending one', async () => {
    const org = await createReviewTestOrg(database, encryptor, sandbox.url);
    const activities = activitiesFor();
    const { ids, draft } = await draftedGoogleReview(org, activities, {
      starRating: 5,
      comment: 'Spotless gym and the friendliest leasing team.',
    });
    expect(draft.text).toContain('Riley');
    expect(await run(activities.draftReviewReply, { ...ids, seq: 1 })).toEqual(draft);
    const second = await run(activities.draftReviewReply, {
      ...ids,
      seq: 2,
      instruction: 'Mention the rooftop lounge.',
      by: 'dana@example.test',
    });
    expect(second.text).not.toBe(draft.text);
    const rows = await reviewDraftRows(database, org.orgId, ids.reviewId);
    expect(rows.map((r) => [r.seq, r.status, r.instruction])).toEqual([
      [1, 'superseded', null],
      [2, 'pending', 'Mention the rooftop lounge.'],
    ]);
    expect(await reviewEventKinds(database, org.orgId, ids.reviewId)).toEqual([
      'received',
      'analysed',
      'drafted',
      'drafted',
    ]);
  });

  test('one ticket per review, however often it is opened', async () => {
    const org = await createReviewTestOrg(database, encryptor, sandbox.url);
    const activities = activitiesFor();
    const { ids } = await draftedGoogleReview(org, activities, {
      starRating: 1,
      comment: 'Water leaking through the ceiling for a week.',
    });
    const first = await run(activities.openReviewTicket, ids);
    const second = await run(activities.openReviewTicket, ids);
    expect(second.ticketId).toBe(first.ticketId);
    const tickets = await withTenant(database.db, org.orgId, (tx) =>
      tx.select().from(reviewTickets).where(eq(reviewTickets.reviewId, ids.reviewId)),
    );
    expect(tickets).toMatchObject([{ status: 'open', priority: 'urgent' }]);
  });
});

describe('posting a reply exactly once', () => {
  test('posted once; the same key again returns the first post without calling Business Profile', async () => {
    const org = await createReviewTestOrg(database, encryptor, sandbox.url);
    const activities = activitiesFor();
    const { atSource, ids, draft } = await draftedGoogleReview(org, activities, {
      starRating: 5,
      comment: 'Lovely community.',
    });
    const posted = await run(activities.postReviewReply, postInput(ids, draft.text));
    expect(posted).toMatchObject({ text: draft.text, reconciled: false });
    const again = await run(activities.postReviewReply, postInput(ids, draft.text));
    expect(again.replyId).toBe(posted.replyId);
    expect((await emulatorReplies(sandbox.url, atSource.reviewId)).map((r) => r.comment)).toEqual([draft.text]);
    expect(await reviewRow(database, org.orgId, ids.reviewId)).toMatchObject({
      replyText: draft.text,
      repliedBy: 'dana@example.test',
    });
    expect((await reviewDraftRows(database, org.orgId, ids.reviewId))[0]!.status).toBe('approved');
  });

  test('a timeout after Business Profile applied the reply: the retry reads it back and does not post again', async () => {
    const org = await createReviewTestOrg(database, encryptor, sandbox.url);
    const activities = activitiesFor({ postTimeoutMs: 300 });
    const { atSource, ids, draft } = await draftedGoogleReview(org, activities, {
      starRating: 2,
      comment: 'Slow maintenance.',
    });
    await setReplyFailures({ replyApplyThenHang: 1 });
    const uncertain = await run(activities.postReviewReply, postInput(ids, draft.text)).catch((e) => e);
    // Retryable: not an ApplicationFailure marked non-retryable, so Temporal tries again.
    expect(uncertain).toBeInstanceOf(BusinessProfileTimeoutError);
    expect(await emulatorReplies(sandbox.url, atSource.reviewId)).toHaveLength(1);

    const retried = await run(activities.postReviewReply, postInput(ids, draft.text));
    expect(retried).toMatchObject({ reconciled: true, text: draft.text });
    // Without the read-back this would be two PUTs.
    expect(await emulatorReplies(sandbox.url, atSource.reviewId)).toHaveLength(1);
    expect(await reviewEventKinds(database, org.orgId, ids.reviewId)).toContain('post_reconciled');
  });

  test('an error before Business Profile applied it: the retry reads back, finds nothing, and posts once', async () => {
    const org = await createReviewTestOrg(database, encryptor, sandbox.url);
    const activities = activitiesFor();
    const { atSource, ids, draft } = await draftedGoogleReview(org, activities, {
      starRating: 3,
      comment: 'Okay place.',
    });
    await setReplyFailures({ replyFailBeforeApply: 1 });
    const failed = await run(activities.postReviewReply, postInput(ids, draft.text)).catch((e) => e);
    expect(failed).toBeInstanceOf(Error);
    expect(failed).not.toBeInstanceOf(ApplicationFailure);
    expect(await emulatorReplies(sandbox.url, atSource.reviewId)).toHaveLength(0);
    expect(await run(activities.postReviewReply, postInput(ids, draft.text))).toMatchObject({ reconciled: false });
    expect(await emulatorReplies(sandbox.url, atSource.reviewId)).toHaveLength(1);
  });

  test('rejected credentials are permanent; after a reconnect, a new approval posts its own words', async () => {
    const org = await createReviewTestOrg(database, encryptor, sandbox.url);
    const activities = activitiesFor();
    const { atSource, ids, draft } = await draftedGoogleReview(org, activities, {
      starRating: 4,
      comment: 'Good value.',
    });
    const setCredentials = (refreshToken: string) =>
      withTenant(database.db, org.orgId, (tx) =>
        tx
          .update(reviewConnections)
          .set({
            credentialsCiphertext: encryptor.encrypt(
              JSON.stringify({ ...SANDBOX_BUSINESS_PROFILE_CREDENTIALS, refreshToken }),
            ),
          })
          .where(eq(reviewConnections.id, org.connectionId)),
      );
    await setCredentials('revoked-token');
    const refused = await run(activities.postReviewReply, postInput(ids, draft.text)).catch((e) => e);
    expect(refused).toBeInstanceOf(ApplicationFailure);
    expect(refused).toMatchObject({ nonRetryable: true, type: 'ReviewReplyRejected' });
    const [failedRow] = await withTenant(database.db, org.orgId, (tx) =>
      tx.select().from(reviewReplies).where(eq(reviewReplies.reviewId, ids.reviewId)),
    );
    expect(failedRow).toMatchObject({ status: 'failed' });
    expect(await reviewEventKinds(database, org.orgId, ids.reviewId)).toContain('post_failed');

    await setCredentials(SANDBOX_BUSINESS_PROFILE_CREDENTIALS.refreshToken);
    const edited = 'Thanks for the kind words! — The team';
    const posted = await run(activities.postReviewReply, { ...postInput(ids, edited), edited: true });
    expect(posted.text).toBe(edited);
    expect((await emulatorReplies(sandbox.url, atSource.reviewId)).map((r) => r.comment)).toEqual([edited]);
  });
});

describe('notifications', () => {
  test('negative: the manager is emailed and Slack posted once per key; escalation goes to the admins', async () => {
    const org = await createReviewTestOrg(database, encryptor, sandbox.url, { slack: true });
    const activities = activitiesFor({ publicUrl: 'https://console.example' });
    const { ids } = await draftedGoogleReview(org, activities, {
      starRating: 1,
      comment: 'Mold in the bathroom and nobody calls back.',
    });
    // No persona and no property email: the org's managers hear about it.
    const notice = {
      orgId: org.orgId,
      reviewId: ids.reviewId,
      notice: 'negative' as const,
      key: `${ids.workflowId}/n/1`,
    };
    expect(await run(activities.notifyReviewStaff, notice)).toEqual({ emailed: [org.managerEmail], slack: true });
    expect(await run(activities.notifyReviewStaff, notice)).toEqual({ emailed: [org.managerEmail], slack: false });
    const mail = await emulatorEmails(sandbox.url, org.managerEmail);
    expect(mail).toHaveLength(1);
    expect(mail[0]!.subject).toMatch(/URGENT negative review/);
    const slackPath = new URL(org.slackUrl!).pathname.replace('/slack', '');
    const slack = (await (await fetch(`${sandbox.url}/slack/_messages?path=${slackPath}`)).json()) as {
      messages: { body: { text: string } }[];
    };
    expect(slack.messages).toHaveLength(1);
    expect(slack.messages[0]!.body.text).toContain(`https://console.example/admin/reviews/${ids.reviewId}`);

    const escalation = await run(activities.notifyReviewStaff, {
      ...notice,
      notice: 'escalation',
      key: `${ids.workflowId}/e/1`,
    });
    expect(escalation.emailed).toEqual([org.adminEmail]);
    // A persona's manager email wins over the members.
    await withTenant(database.db, org.orgId, (tx) =>
      tx.insert(reviewflowPersonas).values({
        orgId: org.orgId,
        propertyId: org.propertyId,
        signature: 'Maria, Community Manager',
        managerEmail: 'maria@property.test',
        updatedBy: 'test',
      }),
    );
    const reminder = await run(activities.notifyReviewStaff, {
      ...notice,
      notice: 'reminder',
      key: `${ids.workflowId}/r/1`,
    });
    expect(reminder).toEqual({ emailed: ['maria@property.test'], slack: false });
  });

  test('an email whose send died after SendGrid accepted it is found by the retry, not sent twice', async () => {
    const org = await createReviewTestOrg(database, encryptor, sandbox.url);
    const real = activitiesFor();
    const { ids } = await draftedGoogleReview(org, real, { starRating: 1, comment: 'Broken heater for weeks.' });
    const { createSendGridEmailSender } = await import('../integrations/email');
    const sendgrid = createSendGridEmailSender({
      apiKey: undefined,
      apiUrl: `${sandbox.url}/sendgrid`,
      from: 'r@p11.test',
    });
    let dieAfterSend = true;
    const dying: EmailSender = {
      async send(message) {
        const sent = await sendgrid.send(message);
        if (dieAfterSend) {
          dieAfterSend = false;
          throw new Error('worker died after SendGrid accepted the message');
        }
        return sent;
      },
      findSent: (query) => sendgrid.findSent(query),
    };
    const activities = activitiesFor({ email: dying });
    const notice = {
      orgId: org.orgId,
      reviewId: ids.reviewId,
      notice: 'negative' as const,
      key: `${ids.workflowId}/n/1`,
    };
    await expect(run(activities.notifyReviewStaff, notice)).rejects.toThrow(/worker died/);
    await run(activities.notifyReviewStaff, notice);
    expect(await emulatorEmails(sandbox.url, org.managerEmail)).toHaveLength(1);
    const [event] = await withTenant(database.db, org.orgId, (tx) =>
      tx
        .select()
        .from(reviewEvents)
        .where(and(eq(reviewEvents.reviewId, ids.reviewId), eq(reviewEvents.kind, 'manager_notified'))),
    );
    expect(event!.details).toMatchObject({ status: 'sent' });
  });
});

describe('polling', () => {
  test('rejected credentials mark the connection failed and are not retried', async () => {
    const org = await createReviewTestOrg(database, encryptor, sandbox.url);
    await withTenant(database.db, org.orgId, (tx) =>
      tx
        .update(reviewConnections)
        .set({
          credentialsCiphertext: encryptor.encrypt(
            JSON.stringify({ ...SANDBOX_BUSINESS_PROFILE_CREDENTIALS, refreshToken: 'revoked' }),
          ),
        })
        .where(eq(reviewConnections.id, org.connectionId)),
    );
    const activities = activitiesFor();
    const env = new MockActivityEnvironment(undefined, { client: recordingTemporal().client });
    const failed = await env
      .run(activities.pollReviewConnection, { orgId: org.orgId, connectionId: org.connectionId })
      .catch((e) => e);
    expect(failed).toMatchObject({ nonRetryable: true, type: 'InvalidCredentials' });
    const [connection] = await withTenant(database.db, org.orgId, (tx) =>
      tx.select().from(reviewConnections).where(eq(reviewConnections.id, org.connectionId)),
    );
    expect(connection).toMatchObject({ lastPollStatus: 'failed' });
    expect(connection!.lastPollError).toMatch(/credentials|invalid_grant/i);
  });

  test('a poll hands every listed review to ingestion and records what changed', async () => {
    const org = await createReviewTestOrg(database, encryptor, sandbox.url);
    for (let i = 0; i < 3; i++) {
      await addEmulatorReview(sandbox.url, org, {
        reviewerName: `Guest ${i}`,
        starRating: 5 - i,
        comment: `Review ${i}`,
      });
    }
    const activities = activitiesFor();
    const temporal = recordingTemporal();
    const env = new MockActivityEnvironment(undefined, { client: temporal.client });
    const input = { orgId: org.orgId, connectionId: org.connectionId };
    expect(await env.run(activities.pollReviewConnection, input)).toMatchObject({ seen: 3, created: 3, updated: 0 });
    expect(temporal.calls.filter((c) => c.kind === 'signalWithStart')).toHaveLength(3);
    const [connection] = await withTenant(database.db, org.orgId, (tx) =>
      tx.select().from(reviewConnections).where(eq(reviewConnections.id, org.connectionId)),
    );
    expect(connection).toMatchObject({ lastPollStatus: 'succeeded', lastPollChanges: 3, lastPollError: null });
  });
});
