/**
 * ReviewFlow's API end to end: reviews submitted over HTTP and pushed by Business Profile (Pub/Sub, verified
 * tokens), triaged by a real worker on the dev server, decided on through the routes (permissions, stale drafts),
 * tickets, the report, settings, personas and connections with their polling Schedules. Business Profile,
 * SendGrid and Slack are the sandbox emulators.
 */
import type { Hono } from 'hono';
import { count, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createApp } from './app';
import type { AppEnv } from './context';
import { SANDBOX_PUBSUB_PUSH_SERVICE_ACCOUNT } from '../config';
import { reviewConnections, reviews } from '../db/schema';
import { withTenant } from '../db/tenancy';
import { SANDBOX_BUSINESS_PROFILE_CREDENTIALS } from '../integrations/business-profile';
import { signPushToken } from '../integrations/pubsub-push';
import { SANDBOX_PUBSUB_KEY_ID, SANDBOX_PUBSUB_PRIVATE_KEY_PEM } from '../sandbox/pubsub-keys';
import { startSandbox, type RunningSandbox } from '../sandbox/server';
import { createTestApp, TEST_PUBLIC_URL, type TestApp } from '../test/app-fixture';
import { emulatorReplies } from '../test/reviewflow-fixtures';
import { startReviewFlowWorker, type ReviewFlowWorker } from '../test/reviewflow-worker';
import { eventually } from '../test/tourspark-fixtures';
import { deleteReviewPollSchedule, describeReviewPollSchedule } from '../temporal/reviewflow-schedules';

let t: TestApp;
let app: Hono<AppEnv>;
let sandbox: RunningSandbox;
let worker: ReviewFlowWorker;
const cookies: Record<string, string> = {};
const location = { accountId: String(8_100_000 + process.pid), locationId: String(Date.now()) };
let connectionId: string;

type Who = 'key' | 'keyB' | 'admin' | 'manager' | 'viewer' | 'adminB';

function authHeaders(who: Who): Record<string, string> {
  if (who === 'key') return { authorization: `Bearer ${t.orgA.apiKey.key}` };
  if (who === 'keyB') return { authorization: `Bearer ${t.orgB.apiKey.key}` };
  return { cookie: cookies[who]!, origin: TEST_PUBLIC_URL };
}

async function call(who: Who, method: string, path: string, body?: unknown, extra: Record<string, string> = {}) {
  const headers: Record<string, string> = { ...authHeaders(who), ...extra };
  let payload: string | undefined;
  if (typeof body === 'string') payload = body;
  else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers['content-type'] ??= 'application/json';
  }
  const res = await app.request(path, { method, headers, body: payload });
  const text = await res.text();
  let json: any = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = text;
  }
  return { status: res.status, body: json };
}

const submit = (body: Record<string, unknown>, who: Who = 'key') => call(who, 'POST', '/v1/reviews', body);

async function awaitingDetail(id: string, who: Who = 'admin') {
  return eventually(async () => {
    const res = await call(who, 'GET', `/v1/reviews/${id}`);
    expect(res.body.review.canDecide).toBe(true);
    return res.body.review;
  }, 20_000);
}

async function countReviews(orgId: string) {
  return withTenant(t.database.db, orgId, async (tx) => Number((await tx.select({ n: count() }).from(reviews))[0]!.n));
}

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0 });
  t = await createTestApp({ enabledProducts: ['reviewflow'], env: { SANDBOX_URL: sandbox.url } });
  worker = await startReviewFlowWorker({
    name: 'api',
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
});

afterAll(async () => {
  if (connectionId) await deleteReviewPollSchedule(t.deps.temporal, connectionId).catch(() => undefined);
  await worker?.close();
  await t?.close();
  await sandbox?.close();
});

describe('POST /v1/reviews', () => {
  test('creates once, answers the same content with 200, and re-triages changed content', async () => {
    const body = {
      propertyId: t.orgA.propertyId,
      source: 'yelp',
      externalId: 'yelp-1001',
      reviewerName: 'Jordan Ellis',
      rating: 2,
      text: 'The elevator is broken again and management never answers the phone.',
    };
    const first = await submit(body);
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({
      created: true,
      updated: false,
      review: { source: 'yelp', rating: 2, revision: 1 },
    });
    expect(first.body.workflowId).toBe(`review/${t.orgA.id}/yelp/yelp-1001`);
    const again = await submit(body);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ created: false, updated: false, review: { id: first.body.review.id } });
    const detail = await awaitingDetail(first.body.review.id);
    expect(detail).toMatchObject({ sentiment: 'negative', replyable: false, ticket: { status: 'open' } });
    const changed = await submit({ ...body, rating: 4, text: 'Update: they fixed the elevator, thank you!' });
    expect(changed.body).toMatchObject({ created: false, updated: true, review: { revision: 2 } });
    await eventually(async () => {
      const res = await call('admin', 'GET', `/v1/reviews/${first.body.review.id}`);
      expect(res.body.review.workflow.status.revision).toBe(2);
      expect(res.body.review.sentiment).toBe('positive');
    }, 20_000);
  });

  test('refuses bad input with 4xx and stores nothing', async () => {
    const before = await countReviews(t.orgA.id);
    const base = { propertyId: t.orgA.propertyId, source: 'yelp', externalId: 'bad-1', rating: 3, text: 'ok' };
    const cases: [unknown, number, RegExp][] = [
      [{ ...base, rating: 6 }, 400, /rating/],
      [{ ...base, rating: 3.5 }, 400, /whole number/],
      [{ ...base, rating: null, text: '  ' }, 400, /rating or a text/],
      [{ ...base, source: 'Google Maps' }, 400, /lower_snake_case/],
      [{ ...base, source: 'google' }, 400, /Business Profile connection/],
      [{ ...base, externalId: '' }, 400, /externalId/],
      [{ ...base, propertyId: 'nope' }, 400, /property id/],
      [{ ...base, text: 'x'.repeat(10_001) }, 400, /text/],
      [{ ...base, extra: 1 }, 400, /extra|Unrecognized/i],
      [{ ...base, propertyId: t.orgB.propertyId }, 422, /not in this organization/],
    ];
    for (const [body, status, message] of cases) {
      const res = await submit(body as Record<string, unknown>);
      expect(res.status, JSON.stringify(body).slice(0, 80)).toBe(status);
      expect(res.body.error.message).toMatch(message);
    }
    const notJson = await call('key', 'POST', '/v1/reviews', 'rating=5', {
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(notJson.status).toBe(415);
    const malformed = await call('key', 'POST', '/v1/reviews', '{"rating":', { 'content-type': 'application/json' });
    expect(malformed.status).toBe(400);
    expect(await countReviews(t.orgA.id)).toBe(before);
  });

  test('needs reviews:write: a viewer cannot submit', async () => {
    const res = await submit({ propertyId: t.orgA.propertyId, source: 'yelp', externalId: 'v-1', rating: 5 }, 'viewer');
    expect(res.status).toBe(403);
  });
});

describe('decisions through the API, with a Business Profile connection', () => {
  let reviewId: string;
  let externalReviewId: string;

  beforeAll(async () => {
    const created = await call('admin', 'POST', '/v1/reviewflow/connections', {
      propertyId: t.orgA.propertyId,
      name: 'Org A on Google',
      ...location,
      credentials: SANDBOX_BUSINESS_PROFILE_CREDENTIALS,
    });
    expect(created.status).toBe(201);
    connectionId = created.body.connection.id;
    expect(created.body.connection.schedule).toMatchObject({ paused: false });
    expect(JSON.stringify(created.body)).not.toContain(SANDBOX_BUSINESS_PROFILE_CREDENTIALS.refreshToken);
  });

  test('a Pub/Sub push with a valid token ingests and triages the review; duplicates change nothing', async () => {
    const res = await fetch(`${sandbox.url}/business-profile/_reviews`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        ...location,
        reviewerName: 'Maya R.',
        starRating: 1,
        comment: 'Mold in the bathroom.',
        notify: false,
      }),
    });
    externalReviewId = ((await res.json()) as { review: { reviewId: string } }).review.reviewId;
    const envelope = {
      message: {
        data: Buffer.from(
          JSON.stringify({
            type: 'NEW_REVIEW',
            reviewName: `accounts/${location.accountId}/locations/${location.locationId}/reviews/${externalReviewId}`,
            locationName: `accounts/${location.accountId}/locations/${location.locationId}`,
          }),
        ).toString('base64'),
        messageId: '9001',
      },
      subscription: 'projects/p/subscriptions/s',
    };
    const push = (token?: string) =>
      app.request('/webhooks/google/business-profile', {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify(envelope),
      });
    const sign = (over: { audience?: string; email?: string } = {}) =>
      signPushToken({
        audience: over.audience ?? t.deps.config.reviewflow.pubsubAudience,
        email: over.email ?? SANDBOX_PUBSUB_PUSH_SERVICE_ACCOUNT,
        privateKeyPem: SANDBOX_PUBSUB_PRIVATE_KEY_PEM,
        kid: SANDBOX_PUBSUB_KEY_ID,
      });
    const before = await countReviews(t.orgA.id);
    expect((await push()).status).toBe(401);
    expect((await push(sign({ audience: 'https://elsewhere.example/push' }))).status).toBe(401);
    expect((await push(sign({ email: 'someone@evil.iam.gserviceaccount.com' }))).status).toBe(401);
    expect(await countReviews(t.orgA.id)).toBe(before);

    expect((await push(sign())).status).toBe(204);
    expect((await push(sign())).status).toBe(204);
    expect(await countReviews(t.orgA.id)).toBe(before + 1);
    const list = await call('manager', 'GET', '/v1/reviews?source=google');
    expect(list.body.reviews).toHaveLength(1);
    reviewId = list.body.reviews[0].id;
    const detail = await awaitingDetail(reviewId, 'manager');
    expect(detail).toMatchObject({ urgent: true, replyable: true, ticket: { priority: 'urgent' } });
    const runs: string[] = [];
    for await (const run of t.deps.temporal.workflow.list({ query: `WorkflowId = '${detail.workflowId}'` }))
      runs.push(run.runId);
    expect(runs).toHaveLength(1);
  });

  test('viewers read but cannot decide; a stale draft is refused; a manager approves an edit that is posted', async () => {
    const detail = await awaitingDetail(reviewId, 'viewer');
    const seq = detail.pendingDraft.seq;
    expect((await call('viewer', 'POST', `/v1/reviews/${reviewId}/approve`, { draftSeq: seq })).status).toBe(403);
    expect((await call('adminB', 'POST', `/v1/reviews/${reviewId}/approve`, { draftSeq: seq })).status).toBe(404);
    const regenerated = await call('manager', 'POST', `/v1/reviews/${reviewId}/regenerate`, {
      draftSeq: seq,
      instruction: 'more formal',
    });
    expect(regenerated.status).toBe(200);
    expect(regenerated.body.result.draft.seq).toBe(seq + 1);
    const stale = await call('manager', 'POST', `/v1/reviews/${reviewId}/approve`, { draftSeq: seq });
    expect(stale.status).toBe(409);
    expect(stale.body.error.code).toBe('stale_draft');
    const empty = await call('manager', 'POST', `/v1/reviews/${reviewId}/approve`, { draftSeq: seq + 1, text: '' });
    expect(empty.status).toBe(400);
    const text = 'Maya, we are so sorry. Our team will inspect the bathroom today; please call the office.';
    const approved = await call('manager', 'POST', `/v1/reviews/${reviewId}/approve`, { draftSeq: seq + 1, text });
    expect(approved.status).toBe(200);
    expect(approved.body.result).toEqual({ status: 'replied', draft: null, postedText: text });
    expect(approved.body.review).toMatchObject({ status: 'replied', replyText: text, canDecide: false });
    expect(approved.body.review.replies).toMatchObject([{ status: 'posted', edited: true, text }]);
    expect((await emulatorReplies(sandbox.url, externalReviewId)).map((r) => r.comment)).toEqual([text]);
    const again = await call('manager', 'POST', `/v1/reviews/${reviewId}/approve`, { draftSeq: seq + 1 });
    expect(again.status).toBe(409);
    const audit = await call('admin', 'GET', '/v1/audit-log');
    expect(JSON.stringify(audit.body)).toContain('review.reply_approved');
  });

  test('tickets list, resolve and reopen; the report counts replies', async () => {
    const tickets = await call('viewer', 'GET', '/v1/reviewflow/tickets?status=open');
    const ticket = tickets.body.tickets.find((x: { reviewId: string }) => x.reviewId === reviewId);
    expect(ticket).toMatchObject({ status: 'open', priority: 'urgent', review: { rating: 1 } });
    expect((await call('viewer', 'POST', `/v1/reviewflow/tickets/${ticket.id}/resolve`, {})).status).toBe(403);
    const resolved = await call('manager', 'POST', `/v1/reviewflow/tickets/${ticket.id}/resolve`, {
      resolution: 'Mold remediated',
    });
    expect(resolved.body.ticket).toMatchObject({ status: 'resolved', resolution: 'Mold remediated' });
    expect((await call('manager', 'POST', `/v1/reviewflow/tickets/${ticket.id}/resolve`, {})).status).toBe(409);
    expect((await call('adminB', 'POST', `/v1/reviewflow/tickets/${ticket.id}/reopen`)).status).toBe(404);
    const report = await call('viewer', 'GET', '/v1/reviewflow/report?days=30');
    expect(report.body.report).toMatchObject({ replied: 1, autoReplied: 0, autoReplyShare: 0 });
    expect(report.body.report.medianTimeToReplyMinutes).toBeGreaterThanOrEqual(0);
    expect(report.body.report.received).toBeGreaterThanOrEqual(2);
  });

  test('connections: pause polling pauses the Schedule, poll now runs a poll, delete removes both', async () => {
    const paused = await call('admin', 'PATCH', `/v1/reviewflow/connections/${connectionId}`, {
      pollingEnabled: false,
    });
    expect(paused.body.connection).toMatchObject({ pollingEnabled: false, schedule: { paused: true } });
    expect((await call('manager', 'PATCH', `/v1/reviewflow/connections/${connectionId}`, { name: 'x' })).status).toBe(
      403,
    );
    const poll = await call('admin', 'POST', `/v1/reviewflow/connections/${connectionId}/poll`);
    expect(poll.status).toBe(202);
    const result = await t.deps.temporal.workflow.getHandle(poll.body.workflowId).result();
    expect(result).toMatchObject({ seen: 1, created: 0 });
    const duplicate = await call('admin', 'POST', '/v1/reviewflow/connections', {
      propertyId: t.orgA.propertyId,
      name: 'Again',
      ...location,
      credentials: SANDBOX_BUSINESS_PROFILE_CREDENTIALS,
    });
    expect(duplicate.status).toBe(409);
    expect((await call('adminB', 'DELETE', `/v1/reviewflow/connections/${connectionId}`)).status).toBe(404);
    expect((await call('admin', 'DELETE', `/v1/reviewflow/connections/${connectionId}`)).status).toBe(204);
    expect(await describeReviewPollSchedule(t.deps.temporal, connectionId)).toBeNull();
    const rows = await withTenant(t.database.db, t.orgA.id, (tx) =>
      tx.select().from(reviewConnections).where(eq(reviewConnections.id, connectionId)),
    );
    expect(rows).toEqual([]);
    connectionId = '';
  });
});

describe('settings and personas', () => {
  test('settings validate durations and their order, keep the Slack URL write-only, and need reviewflow:write', async () => {
    expect((await call('viewer', 'GET', '/v1/reviewflow/settings')).body.settings).toMatchObject({
      autoReplyPositive: false,
      autoReplyDelay: '30m',
      slackConfigured: false,
    });
    expect((await call('manager', 'PUT', '/v1/reviewflow/settings', { autoReplyPositive: true })).status).toBe(403);
    const bad = await call('admin', 'PUT', '/v1/reviewflow/settings', { autoReplyDelay: 'soon' });
    expect(bad.status).toBe(400);
    const order = await call('admin', 'PUT', '/v1/reviewflow/settings', { reminderAfter: '3d', escalateAfter: '2d' });
    expect(order.status).toBe(422);
    const saved = await call('admin', 'PUT', '/v1/reviewflow/settings', {
      autoReplyPositive: true,
      autoReplyDelay: '10m',
      slackWebhookUrl: 'https://hooks.slack.com/services/T1/B1/secret',
    });
    expect(saved.body.settings).toMatchObject({
      autoReplyPositive: true,
      autoReplyDelay: '10m',
      slackConfigured: true,
    });
    expect(JSON.stringify(saved.body)).not.toContain('secret');
    const insecure = await call('admin', 'PUT', '/v1/reviewflow/settings', {
      slackWebhookUrl: 'http://hooks.slack.com/x',
    });
    expect(insecure.status).toBe(422);
  });

  test('personas default from the property and save per property', async () => {
    const before = await call('viewer', 'GET', '/v1/reviewflow/personas');
    expect(before.body.personas[0]).toMatchObject({ custom: false, tone: 'warm' });
    const saved = await call('admin', 'PUT', `/v1/reviewflow/personas/${t.orgA.propertyId}`, {
      signature: 'Dana, Community Manager',
      tone: 'professional',
      managerEmail: 'dana@example.test',
    });
    expect(saved.body.persona).toMatchObject({ custom: true, tone: 'professional' });
    expect(
      (await call('admin', 'PUT', `/v1/reviewflow/personas/${t.orgB.propertyId}`, { signature: 'x', tone: 'warm' }))
        .status,
    ).toBe(404);
    expect(
      (await call('admin', 'PUT', `/v1/reviewflow/personas/${t.orgA.propertyId}`, { signature: 'x', tone: 'grumpy' }))
        .status,
    ).toBe(400);
  });
});
