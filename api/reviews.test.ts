/**
 * /v1/reviews end to end: reviews submitted over HTTP (idempotent by source and external id, a changed review
 * re-triaged by a signal to its running workflow), the queue's filters and paging, the review page, and staff's
 * decisions (approve with an edit, reject, regenerate) going to the triage workflow's decideReply update: stale
 * drafts and decided reviews refused with 409, viewers with 403, other organizations with 404. A real ReviewFlow
 * worker runs on the dev server against the sandbox's Business Profile, SendGrid and Slack emulators.
 */
import { count, eq } from 'drizzle-orm';
import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ingestReview, reviewInputFromBusinessProfile } from '../activities/reviewflow-ingest';
import { auditLog, reviewConnections, reviews } from '../db/schema';
import { withTenant } from '../db/tenancy';
import { SANDBOX_BUSINESS_PROFILE_CREDENTIALS, type BusinessProfileReview } from '../integrations/business-profile';
import { startSandbox, type RunningSandbox } from '../sandbox/server';
import { createTestApp, TEST_PUBLIC_URL, type TestApp } from '../test/app-fixture';
import { emulatorReplies } from '../test/reviewflow-fixtures';
import { startReviewFlowWorker, type ReviewFlowWorker } from '../test/reviewflow-worker';
import { eventually } from '../test/tourspark-fixtures';
import { createApp } from './app';
import type { AppEnv } from './context';

let t: TestApp;
let app: Hono<AppEnv>;
let sandbox: RunningSandbox;
let worker: ReviewFlowWorker;
const cookies: Record<string, string> = {};
const workflowIds = new Set<string>();
/** Org A's Business Profile location at the emulator, and its connection (inserted directly: no Schedule here). */
const location = { accountId: String(8_200_000 + process.pid), locationId: String(Date.now()) };
let connectionId: string;

type Who = 'key' | 'keyB' | 'admin' | 'manager' | 'viewer' | 'adminB';

async function call(who: Who, method: string, path: string, body?: unknown, extra: Record<string, string> = {}) {
  const headers: Record<string, string> =
    who === 'key'
      ? { authorization: `Bearer ${t.orgA.apiKey.key}` }
      : who === 'keyB'
        ? { authorization: `Bearer ${t.orgB.apiKey.key}` }
        : { cookie: cookies[who]!, origin: TEST_PUBLIC_URL };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await app.request(path, {
    method,
    headers: { ...headers, ...extra },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: any = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = text;
  }
  if (json?.workflowId) workflowIds.add(json.workflowId);
  return { status: res.status, body: json };
}

let externalSeq = 0;
function newReview(overrides: Record<string, unknown> = {}) {
  return {
    propertyId: t.orgA.propertyId,
    source: 'yelp',
    externalId: `yelp-${process.pid}-${++externalSeq}`,
    reviewerName: 'Jordan Ellis',
    rating: 2,
    text: 'The elevator is broken again and management never answers the phone.',
    ...overrides,
  };
}

const submit = (body: Record<string, unknown>, who: Who = 'key') => call(who, 'POST', '/v1/reviews', body);

/** The review page once its triage waits for a decision. */
async function awaitingDecision(id: string, who: Who = 'manager') {
  return eventually(async () => {
    const res = await call(who, 'GET', `/v1/reviews/${id}`);
    expect(res.body.review.canDecide).toBe(true);
    return res.body.review;
  }, 20_000);
}

async function countRows(orgId: string) {
  return withTenant(t.database.db, orgId, async (tx) => Number((await tx.select({ n: count() }).from(reviews))[0]!.n));
}

/** A Business Profile review at the emulator, ingested the way the push route and the poll do. */
async function googleReview(starRating: number, comment: string) {
  const res = await fetch(`${sandbox.url}/business-profile/_reviews`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...location, reviewerName: 'Maya Reyes', starRating, comment, notify: false }),
  });
  const review = ((await res.json()) as { review: BusinessProfileReview }).review;
  const ingested = await ingestReview(
    { db: t.deps.db, temporal: t.deps.temporal, taskQueue: worker.taskQueue, orgId: t.orgA.id, actor: 'test' },
    reviewInputFromBusinessProfile({ id: connectionId, propertyId: t.orgA.propertyId }, review),
  );
  workflowIds.add(ingested.workflowId);
  return { id: ingested.reviewId, externalId: review.reviewId };
}

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0 });
  t = await createTestApp({ enabledProducts: ['reviewflow'], env: { SANDBOX_URL: sandbox.url } });
  worker = await startReviewFlowWorker({
    name: 'reviews-api',
    database: t.database,
    encryptor: t.deps.encryptor,
    sandboxUrl: sandbox.url,
  });
  app = createApp({ ...t.deps, reviewflowTaskQueue: worker.taskQueue });
  for (const role of ['admin', 'manager', 'viewer'] as const) {
    cookies[role] = await t.signIn(t.orgA.users[role].email, t.orgA.users[role].password);
  }
  cookies.adminB = await t.signIn(t.orgB.users.admin.email, t.orgB.users.admin.password);
  await fetch(`${sandbox.url}/business-profile/_locations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...location, synthetic: 0 }),
  });
  connectionId = await withTenant(t.deps.db, t.orgA.id, async (tx) => {
    const [row] = await tx
      .insert(reviewConnections)
      .values({
        orgId: t.orgA.id,
        propertyId: t.orgA.propertyId,
        name: 'Org A on Google',
        ...location,
        credentialsCiphertext: t.deps.encryptor.encrypt(JSON.stringify(SANDBOX_BUSINESS_PROFILE_CREDENTIALS)),
      })
      .returning();
    return row!.id;
  });
});

afterAll(async () => {
  for (const id of workflowIds) {
    await t?.deps.temporal.workflow
      .getHandle(id)
      .terminate('test done')
      .catch(() => undefined);
  }
  await worker?.close();
  await t?.close();
  await sandbox?.close();
});

describe('POST /v1/reviews', () => {
  test('an API key submits; the same review again is 200 unchanged; changed content signals the running triage', async () => {
    const body = newReview();
    const first = await submit(body);
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({
      created: true,
      updated: false,
      workflowId: `review/${t.orgA.id}/yelp/${body.externalId}`,
      review: { source: 'yelp', externalId: body.externalId, rating: 2, revision: 1, status: 'triaging' },
    });
    const id = first.body.review.id;
    const again = await submit(body);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ created: false, updated: false, review: { id, revision: 1 } });

    const detail = await awaitingDecision(id);
    expect(detail).toMatchObject({
      sentiment: 'negative',
      replyable: false,
      connectionId: null,
      ticket: { status: 'open' },
    });
    const firstDraft = detail.pendingDraft.seq;

    const changed = await submit({
      ...body,
      rating: 5,
      text: 'Update: they fixed the elevator the same day. Thank you!',
    });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ created: false, updated: true, review: { id, revision: 2 } });
    const retriaged = await eventually(async () => {
      const res = await call('manager', 'GET', `/v1/reviews/${id}`);
      expect(res.body.review).toMatchObject({
        sentiment: 'positive',
        canDecide: true,
        workflow: { status: { revision: 2 } },
      });
      return res.body.review;
    }, 20_000);
    expect(retriaged.pendingDraft.seq).toBeGreaterThan(firstDraft);
    expect(retriaged.drafts.find((d: { seq: number }) => d.seq === firstDraft).status).toBe('superseded');

    // One run, which received the change as a signal rather than a second workflow.
    const handle = t.deps.temporal.workflow.getHandle(first.body.workflowId);
    const history = await handle.fetchHistory();
    const signals = (history.events ?? []).filter((e) => e.workflowExecutionSignaledEventAttributes);
    expect(signals.map((e) => e.workflowExecutionSignaledEventAttributes!.signalName)).toContain('reviewChanged');
    const runs: string[] = [];
    for await (const run of t.deps.temporal.workflow.list({ query: `WorkflowId = '${first.body.workflowId}'` })) {
      runs.push(run.runId);
    }
    expect(runs).toHaveLength(1);
  });

  test('refuses bad input with a 4xx that says why, and stores nothing', async () => {
    const before = await countRows(t.orgA.id);
    const cases: [unknown, number, RegExp][] = [
      [newReview({ rating: 6 }), 400, /rating/],
      [newReview({ rating: 0 }), 400, /rating/],
      [newReview({ rating: 3.5 }), 400, /whole number/],
      [newReview({ rating: null, text: '  ' }), 400, /rating or a text/],
      [newReview({ rating: undefined, text: undefined }), 400, /rating or a text/],
      [newReview({ source: 'Google Maps' }), 400, /lower_snake_case/],
      [newReview({ source: 'google' }), 400, /Business Profile connection/],
      [newReview({ externalId: ' ' }), 400, /externalId/],
      [newReview({ externalId: 'x'.repeat(201) }), 400, /externalId/],
      [newReview({ propertyId: 'nope' }), 400, /property id/],
      [newReview({ text: 'x'.repeat(10_001) }), 400, /text/],
      [newReview({ reviewerName: 'x'.repeat(201) }), 400, /reviewerName/],
      [newReview({ createdAt: 'yesterday' }), 400, /createdAt/],
      [newReview({ url: 'not a url' }), 400, /url/],
      [newReview({ orgId: t.orgB.id }), 400, /orgId/],
      [newReview({ propertyId: t.orgB.propertyId }), 422, /not in this organization/],
      [[newReview()], 400, /object/i],
    ];
    for (const [body, status, message] of cases) {
      const res = await call('key', 'POST', '/v1/reviews', body);
      expect(res.status, JSON.stringify(body).slice(0, 100)).toBe(status);
      expect(res.body.error.message + JSON.stringify(res.body.error.details)).toMatch(message);
    }
    const form = await call('key', 'POST', '/v1/reviews', 'rating=5', {
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(form.status).toBe(415);
    const malformed = await call('key', 'POST', '/v1/reviews', '{"rating":', { 'content-type': 'application/json' });
    expect(malformed.body.error.code).toBe('malformed_json');
    expect(await countRows(t.orgA.id)).toBe(before);
  });

  test('needs reviews:write (admins and API keys): viewers and managers get 403', async () => {
    expect((await submit(newReview(), 'viewer')).status).toBe(403);
    expect((await submit(newReview(), 'manager')).status).toBe(403);
    // Org B's key naming org A's property: the property is not in its organization.
    expect((await submit(newReview(), 'keyB')).status).toBe(422);
  });
});

describe('the queue and the review page', () => {
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    const submitted = {
      praise: newReview({ source: 'apartments_com', rating: 5, text: 'Lovely staff and a spotless gym.' }),
      leak: newReview({ rating: 3, reviewerName: 'Sam Ortiz', text: 'Water is leaking through the ceiling.' }),
      meh: newReview({ source: 'zillow', rating: 3, text: null }),
    };
    for (const [name, body] of Object.entries(submitted)) {
      const res = await submit(body);
      expect(res.status).toBe(201);
      ids[name] = res.body.review.id;
    }
    for (const id of Object.values(ids)) await awaitingDecision(id);
  });

  test('filters by sentiment, urgency, status, source, ticket, property and text, newest first', async () => {
    const list = async (query: string) => {
      const res = await call('viewer', 'GET', `/v1/reviews?${query}`);
      expect(res.status, query).toBe(200);
      return res.body.reviews.map((r: { id: string }) => r.id) as string[];
    };
    const all = await list('limit=200');
    expect(all.indexOf(ids.meh!)).toBeLessThan(all.indexOf(ids.praise!)); // newest first
    expect(await list('source=apartments_com')).toEqual([ids.praise]);
    expect(await list('sentiment=positive&source=apartments_com')).toEqual([ids.praise]);
    expect(await list('sentiment=negative&source=apartments_com')).toEqual([]);
    const urgent = await list('urgent=true');
    expect(urgent).toContain(ids.leak);
    expect(urgent).not.toContain(ids.praise);
    expect(await list('urgent=false')).not.toContain(ids.leak);
    expect(await list('status=awaiting_approval&source=zillow')).toEqual([ids.meh]);
    expect(await list('ticket=open')).toContain(ids.leak);
    expect(await list('ticket=open')).not.toContain(ids.praise);
    expect(await list('q=ceiling')).toEqual([ids.leak]);
    expect(await list('q=sam%20ortiz')).toEqual([ids.leak]);
    expect(await list('q=100%25')).toEqual([]); // a literal %, not a wildcard
    expect(await list(`propertyId=${t.orgA.propertyId}&limit=200`)).toEqual(all);
    expect(await list(`propertyId=${t.orgB.propertyId}`)).toEqual([]);
    for (const bad of ['sentiment=angry', 'urgent=yes', 'status=done', 'limit=0', 'limit=201', 'cursor=x', 'bogus=1']) {
      expect((await call('viewer', 'GET', `/v1/reviews?${bad}`)).status, bad).toBe(400);
    }
    // Org B sees none of it.
    expect((await call('adminB', 'GET', '/v1/reviews?limit=200')).body.reviews).toEqual([]);
  });

  test('pages with a cursor without repeating or skipping a review', async () => {
    const all = (await call('viewer', 'GET', '/v1/reviews?limit=200')).body.reviews.map((r: { id: string }) => r.id);
    expect(all.length).toBeGreaterThanOrEqual(3);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: { body: { reviews: { id: string }[]; nextCursor: string | null } } = await call(
        'viewer',
        'GET',
        `/v1/reviews?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(res.body.reviews.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.reviews.map((r) => r.id));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(all);
  });

  test('the review page has the analysis, drafts, history and the live workflow; other ids are 404', async () => {
    const res = await call('viewer', 'GET', `/v1/reviews/${ids.leak}`);
    expect(res.status).toBe(200);
    const review = res.body.review;
    expect(review).toMatchObject({
      id: ids.leak,
      propertyName: expect.any(String),
      reviewerName: 'Sam Ortiz',
      urgent: true,
      status: 'awaiting_approval',
      replyable: false,
      canDecide: true,
      replies: [],
      workflow: { id: review.workflowId, status: { state: 'awaiting_approval', revision: 1 } },
    });
    expect(review.workflow.url).toContain(encodeURIComponent(review.workflowId));
    expect(review.pendingDraft).toMatchObject({ seq: expect.any(Number), text: expect.any(String) });
    expect(review.drafts).toHaveLength(1);
    expect(review.events.length).toBeGreaterThan(0);
    expect(review.events.map((e: { at: string }) => e.at)).toEqual(
      [...review.events.map((e: { at: string }) => e.at)].sort(),
    );
    expect((await call('viewer', 'GET', '/v1/reviews/00000000-0000-4000-8000-000000000000')).status).toBe(404);
    expect((await call('viewer', 'GET', '/v1/reviews/not-a-uuid')).status).toBe(404);
    expect((await call('adminB', 'GET', `/v1/reviews/${ids.leak}`)).status).toBe(404);
  });
});

describe('decisions', () => {
  test('viewers cannot decide; a regenerate makes the old draft stale; a manager approves an edit, posted once', async () => {
    const { id, externalId } = await googleReview(1, 'Mold in the bathroom and nobody came.');
    const detail = await awaitingDecision(id, 'viewer');
    expect(detail).toMatchObject({ replyable: true, urgent: true, ticket: { priority: 'urgent' } });
    const seq = detail.pendingDraft.seq;
    expect((await call('viewer', 'POST', `/v1/reviews/${id}/approve`, { draftSeq: seq })).status).toBe(403);
    expect((await call('adminB', 'POST', `/v1/reviews/${id}/approve`, { draftSeq: seq })).status).toBe(404);
    const regenerated = await call('manager', 'POST', `/v1/reviews/${id}/regenerate`, {
      draftSeq: seq,
      instruction: 'more formal',
    });
    expect(regenerated.status).toBe(200);
    expect(regenerated.body.result).toMatchObject({ status: 'awaiting_approval', draft: { seq: seq + 1 } });
    expect(regenerated.body.review.pendingDraft).toMatchObject({ seq: seq + 1, instruction: 'more formal' });

    const stale = await call('manager', 'POST', `/v1/reviews/${id}/approve`, { draftSeq: seq });
    expect(stale.status).toBe(409);
    expect(stale.body.error.code).toBe('stale_draft');
    expect(stale.body.error.message).toMatch(/replaced/);
    expect((await call('manager', 'POST', `/v1/reviews/${id}/approve`, { draftSeq: seq + 1, text: ' ' })).status).toBe(
      400,
    );

    const text = 'Maya, we are so sorry. Our team will inspect the bathroom today; please call the office.';
    const approved = await call('manager', 'POST', `/v1/reviews/${id}/approve`, { draftSeq: seq + 1, text });
    expect(approved.status).toBe(200);
    expect(approved.body.result).toEqual({ status: 'replied', draft: null, postedText: text });
    expect(approved.body.review).toMatchObject({ status: 'replied', replyText: text, canDecide: false });
    expect(approved.body.review.replies).toMatchObject([{ status: 'posted', edited: true, text }]);
    expect((await emulatorReplies(sandbox.url, externalId)).map((r) => r.comment)).toEqual([text]);

    const again = await call('manager', 'POST', `/v1/reviews/${id}/approve`, { draftSeq: seq + 1 });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('not_awaiting_decision');
    const audit = await withTenant(t.deps.db, t.orgA.id, (tx) =>
      tx.select().from(auditLog).where(eq(auditLog.targetId, id)),
    );
    expect(audit.map((a) => a.action)).toContain('review.reply_approved');
  });

  test('a rejection posts nothing and closes the decision', async () => {
    const { id, externalId } = await googleReview(2, 'Parking is a nightmare every evening.');
    const detail = await awaitingDecision(id);
    const seq = detail.pendingDraft.seq;
    expect((await call('manager', 'POST', `/v1/reviews/${id}/reject`, { draftSeq: seq })).status).toBe(400);
    const rejected = await call('manager', 'POST', `/v1/reviews/${id}/reject`, {
      draftSeq: seq,
      reason: 'The regional manager will call her instead',
    });
    expect(rejected.status).toBe(200);
    expect(rejected.body.result).toEqual({ status: 'rejected', draft: null, postedText: null });
    expect(rejected.body.review).toMatchObject({ status: 'rejected', replyText: null, canDecide: false, replies: [] });
    expect(rejected.body.review.drafts.find((d: { seq: number }) => d.seq === seq).status).toBe('rejected');
    expect(await emulatorReplies(sandbox.url, externalId)).toEqual([]);
    const late = await call('manager', 'POST', `/v1/reviews/${id}/regenerate`, { draftSeq: seq });
    expect(late.status).toBe(409);
    expect(late.body.error.code).toBe('not_awaiting_decision');
  });

  test('approving a review from another site records the reply for staff to use there (nowhere to post it)', async () => {
    const res = await submit(newReview({ source: 'apartments_com', rating: 4, text: 'Quiet building, fair rent.' }));
    const detail = await awaitingDecision(res.body.review.id);
    const approved = await call('admin', 'POST', `/v1/reviews/${detail.id}/approve`, {
      draftSeq: detail.pendingDraft.seq,
    });
    expect(approved.status).toBe(200);
    expect(approved.body.result).toEqual({ status: 'not_replyable', draft: null, postedText: null });
    expect(approved.body.review).toMatchObject({ status: 'not_replyable', canDecide: false });
  });

  test('a review whose triage is not running answers 409 not_awaiting_decision', async () => {
    const id = await withTenant(t.deps.db, t.orgA.id, async (tx) => {
      const [row] = await tx
        .insert(reviews)
        .values({
          orgId: t.orgA.id,
          propertyId: t.orgA.propertyId,
          source: 'yelp',
          externalId: `never-triaged-${process.pid}`,
          rating: 1,
          text: 'Stored, but its workflow never started.',
          contentHash: 'c'.repeat(64),
          reviewCreatedAt: new Date(),
          reviewUpdatedAt: new Date(),
          status: 'expired',
          workflowId: `review/${t.orgA.id}/yelp/never-triaged-${process.pid}`,
        })
        .returning({ id: reviews.id });
      return row!.id;
    });
    const res = await call('manager', 'POST', `/v1/reviews/${id}/approve`, { draftSeq: 1 });
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({ code: 'not_awaiting_decision', message: expect.stringMatching(/expired/) });
    const page = await call('viewer', 'GET', `/v1/reviews/${id}`);
    expect(page.body.review).toMatchObject({ canDecide: false, workflow: { status: null } });
  });
});
