/**
 * POST /webhooks/google/business-profile: Business Profile notifications delivered by Pub/Sub push. The token is
 * checked before anything is read (no, wrong-audience, wrong-account, expired and forged tokens: 401 and nothing
 * written); a valid push names a review, which is read from Business Profile with the connection's credentials
 * and triaged by a real worker; duplicates and redeliveries make one review and one workflow; unknown locations,
 * other notification types and deleted reviews are acknowledged (204) without writing; a Business Profile outage
 * answers 503 so Pub/Sub retries. Last, the emulator itself pushes to the API over HTTP, as Google would.
 */
import { count, eq } from 'drizzle-orm';
import { generateKeyPairSync } from 'node:crypto';
import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { SANDBOX_PUBSUB_PUSH_SERVICE_ACCOUNT } from '../config';
import { reviewConnections, reviewEvents, reviews, reviewTickets } from '../db/schema';
import { withTenant } from '../db/tenancy';
import {
  SANDBOX_BUSINESS_PROFILE_CREDENTIALS,
  type BusinessProfileClientFactory,
  type BusinessProfileReview,
} from '../integrations/business-profile';
import { signPushToken } from '../integrations/pubsub-push';
import { SANDBOX_PUBSUB_KEY_ID, SANDBOX_PUBSUB_PRIVATE_KEY_PEM } from '../sandbox/pubsub-keys';
import { startSandbox, type RunningSandbox } from '../sandbox/server';
import { createTestApp, type TestApp } from '../test/app-fixture';
import { startReviewFlowWorker, type ReviewFlowWorker } from '../test/reviewflow-worker';
import { eventually } from '../test/tourspark-fixtures';
import { reviewWorkflowId } from '../workflows/reviewflow';
import { createApp } from './app';
import type { AppDeps, AppEnv } from './context';
import { listen, type RunningServer } from './server';

let t: TestApp;
let app: Hono<AppEnv>;
let deps: AppDeps;
let sandbox: RunningSandbox;
let worker: ReviewFlowWorker;
const location = { accountId: String(8_400_000 + process.pid), locationId: String(Date.now()) };
let connectionId: string;
let messageSeq = 0;

function sign(over: { audience?: string; email?: string; nowMs?: number; key?: string } = {}) {
  return signPushToken({
    audience: over.audience ?? deps.config.reviewflow.pubsubAudience,
    email: over.email ?? SANDBOX_PUBSUB_PUSH_SERVICE_ACCOUNT,
    privateKeyPem: over.key ?? SANDBOX_PUBSUB_PRIVATE_KEY_PEM,
    kid: SANDBOX_PUBSUB_KEY_ID,
    ...(over.nowMs !== undefined ? { nowMs: over.nowMs } : {}),
  });
}

/** A Pub/Sub push envelope around a Business Profile notification. */
function envelope(
  notification: Record<string, unknown>,
  messageId = String(9_000_000 + ++messageSeq),
): Record<string, unknown> {
  return {
    message: {
      data: Buffer.from(JSON.stringify(notification)).toString('base64'),
      messageId,
      publishTime: new Date().toISOString(),
    },
    subscription: 'projects/p11/subscriptions/business-profile',
  };
}

function reviewNotification(reviewId: string, type = 'NEW_REVIEW', at = location) {
  const locationName = `accounts/${at.accountId}/locations/${at.locationId}`;
  return { type, reviewName: `${locationName}/reviews/${reviewId}`, locationName };
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

async function push(body: unknown, headers: Record<string, string>, target: Hono<AppEnv> = app) {
  const res = await target.request('/webhooks/google/business-profile', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

async function addReview(starRating: number, comment: string | null, reviewId?: string) {
  const res = await fetch(`${sandbox.url}/business-profile/_reviews`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...location, reviewerName: 'Chris Doe', starRating, comment, notify: false, reviewId }),
  });
  expect(res.ok).toBe(true);
  return ((await res.json()) as { review: BusinessProfileReview }).review;
}

/** Rows a push may write, over every organization. */
async function written() {
  const n = async (table: typeof reviews | typeof reviewEvents | typeof reviewTickets) =>
    Number((await t.deps.db.select({ n: count() }).from(table))[0]!.n);
  return { reviews: await n(reviews), events: await n(reviewEvents), tickets: await n(reviewTickets) };
}

async function reviewByExternalId(externalId: string) {
  return withTenant(t.deps.db, t.orgA.id, async (tx) => {
    const rows = await tx.select().from(reviews).where(eq(reviews.externalId, externalId));
    return rows;
  });
}

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0 });
  t = await createTestApp({ enabledProducts: ['reviewflow'], env: { SANDBOX_URL: sandbox.url } });
  worker = await startReviewFlowWorker({
    name: 'google-webhooks',
    database: t.database,
    encryptor: t.deps.encryptor,
    sandboxUrl: sandbox.url,
  });
  deps = { ...t.deps, reviewflowTaskQueue: worker.taskQueue };
  app = createApp(deps);
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
  await worker?.close();
  await t?.close();
  await sandbox?.close();
});

describe('the push token', () => {
  test("is required, Google-signed, for our audience and the subscription's account: else 401, nothing written", async () => {
    const review = await addReview(2, 'Loud neighbours and nobody does anything.');
    const body = envelope(reviewNotification(review.reviewId));
    const before = await written();
    const { privateKey: otherKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    const refused: [string, Record<string, string>][] = [
      ['no token', {}],
      ['not a bearer token', { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` }],
      ['garbage', { authorization: 'Bearer not.a.jwt' }],
      ['wrong audience', bearer(sign({ audience: 'https://elsewhere.example/webhooks/google/business-profile' }))],
      ['wrong service account', bearer(sign({ email: 'someone@evil.iam.gserviceaccount.com' }))],
      ['expired', bearer(sign({ nowMs: Date.now() - 2 * 3_600_000 }))],
      ['signed with another key', bearer(sign({ key: otherKey }))],
    ];
    for (const [name, headers] of refused) {
      const res = await push(body, headers);
      expect(res.status, name).toBe(401);
      expect(res.body.error.code, name).toBe('invalid_push_token');
    }
    // Checked before the body is even read: garbage without a token is a 401, not a 400.
    expect((await push('{"not json', {})).status).toBe(401);
    expect(await written()).toEqual(before);
    expect(await reviewByExternalId(review.reviewId)).toEqual([]);
  });
});

describe('a verified push', () => {
  test('ingests the named review and triages it; the same message again and an unchanged update change nothing', async () => {
    const review = await addReview(1, 'There is mold in the bathroom and the heat is out.');
    const message = envelope(reviewNotification(review.reviewId));
    expect((await push(message, bearer(sign()))).status).toBe(204);
    // Pub/Sub redelivers (at-least-once), and Business Profile may notify UPDATED_REVIEW for the same content.
    expect((await push(message, bearer(sign()))).status).toBe(204);
    expect((await push(envelope(reviewNotification(review.reviewId, 'UPDATED_REVIEW')), bearer(sign()))).status).toBe(
      204,
    );

    const rows = await reviewByExternalId(review.reviewId);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      source: 'google',
      connectionId,
      propertyId: t.orgA.propertyId,
      rating: 1,
      reviewerName: 'Chris Doe',
      revision: 1,
      workflowId: reviewWorkflowId(t.orgA.id, 'google', review.reviewId),
    });
    const triaged = await eventually(async () => {
      const [row] = await reviewByExternalId(review.reviewId);
      expect(row!.status).toBe('awaiting_approval');
      return row!;
    }, 20_000);
    expect(triaged).toMatchObject({ sentiment: 'negative', urgent: true });
    const tickets = await withTenant(t.deps.db, t.orgA.id, (tx) =>
      tx.select().from(reviewTickets).where(eq(reviewTickets.reviewId, triaged.id)),
    );
    expect(tickets).toMatchObject([{ status: 'open', priority: 'urgent' }]);
    const runs: string[] = [];
    for await (const run of t.deps.temporal.workflow.list({ query: `WorkflowId = '${triaged.workflowId}'` })) {
      runs.push(run.runId);
    }
    expect(runs).toHaveLength(1);
    // Org B sees nothing of it.
    const inB = await withTenant(t.deps.db, t.orgB.id, (tx) => tx.select().from(reviews));
    expect(inB).toEqual([]);
  });

  test('an edited review re-triages the running workflow', async () => {
    const review = await addReview(2, 'The pool was closed all weekend.');
    expect((await push(envelope(reviewNotification(review.reviewId)), bearer(sign()))).status).toBe(204);
    const [first] = await reviewByExternalId(review.reviewId);
    await eventually(async () => {
      const [row] = await reviewByExternalId(review.reviewId);
      expect(row!.status).toBe('awaiting_approval');
    }, 20_000);
    await addReview(5, 'Update: the pool reopened and the staff apologised. Lovely place!', review.reviewId);
    const updated = envelope(reviewNotification(review.reviewId, 'UPDATED_REVIEW'));
    expect((await push(updated, bearer(sign()))).status).toBe(204);
    const after = await eventually(async () => {
      const [row] = await reviewByExternalId(review.reviewId);
      expect(row).toMatchObject({ revision: 2, sentiment: 'positive', status: 'awaiting_approval' });
      return row!;
    }, 20_000);
    expect(after.id).toBe(first!.id);
    const history = await t.deps.temporal.workflow.getHandle(after.workflowId).fetchHistory();
    const signals = (history.events ?? []).flatMap((e) => e.workflowExecutionSignaledEventAttributes?.signalName ?? []);
    expect(signals).toContain('reviewChanged');
  });

  test('acknowledges what it cannot use without writing: unknown locations, other notification types, deleted reviews', async () => {
    const review = await addReview(4, 'Nice.');
    const before = await written();
    const elsewhere = { accountId: '1', locationId: String(Date.now()) };
    expect((await push(envelope(reviewNotification('abc', 'NEW_REVIEW', elsewhere)), bearer(sign()))).status).toBe(204);
    expect(
      (
        await push(
          envelope({
            type: 'GOOGLE_UPDATE',
            locationName: `accounts/${location.accountId}/locations/${location.locationId}`,
          }),
          bearer(sign()),
        )
      ).status,
    ).toBe(204);
    expect(
      (
        await push(
          envelope({
            type: 'NEW_REVIEW',
            locationName: `accounts/${location.accountId}/locations/${location.locationId}`,
          }),
          bearer(sign()),
        )
      ).status,
    ).toBe(204);
    await fetch(
      `${sandbox.url}/business-profile/_reviews?${new URLSearchParams({ ...location, reviewId: review.reviewId })}`,
      { method: 'DELETE' },
    );
    expect((await push(envelope(reviewNotification(review.reviewId)), bearer(sign()))).status).toBe(204);
    expect(await written()).toEqual(before);
  });

  test('a malformed envelope is a 400 that says why, and writes nothing', async () => {
    const before = await written();
    const cases: [unknown, string][] = [
      ['{"message":', 'malformed_json'],
      [{}, 'invalid_push'],
      [{ message: { data: '', messageId: '1' }, subscription: 's' }, 'invalid_push'],
      [{ message: { data: '!!!not base64 json', messageId: '1' }, subscription: 's' }, 'invalid_push'],
      [envelope({ reviewName: 'accounts/1/locations/2/reviews/3' }), 'invalid_push'],
      [envelope({ type: 'NEW_REVIEW', reviewName: 'reviews/3' }), 'invalid_push'],
      [{ message: { data: Buffer.from('{}').toString('base64') }, subscription: 's' }, 'invalid_push'],
    ];
    for (const [body, code] of cases) {
      const res = await push(body, bearer(sign()));
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe(code);
      expect(res.body.error.message.length).toBeGreaterThan(10);
    }
    expect(await written()).toEqual(before);
  });

  test('a Business Profile failure answers 503 (Pub/Sub retries) and the retry ingests the review', async () => {
    const review = await addReview(3, 'Average. The laundry room is often full.');
    const failing: BusinessProfileClientFactory = () => ({
      listReviews: () => Promise.reject(new Error('unused')),
      getReview: () => Promise.reject(new Error('503 UNAVAILABLE: The service is currently unavailable.')),
      updateReply: () => Promise.reject(new Error('unused')),
      deleteReply: () => Promise.reject(new Error('unused')),
    });
    const down = createApp({ ...deps, businessProfile: failing });
    const message = envelope(reviewNotification(review.reviewId));
    const before = await written();
    const res = await push(message, bearer(sign()), down);
    expect(res.status).toBe(503);
    expect(res.body.error).toMatchObject({ code: 'source_unavailable', message: expect.stringMatching(/UNAVAILABLE/) });
    expect(await written()).toEqual(before);
    expect((await push(message, bearer(sign()))).status).toBe(204);
    expect(await reviewByExternalId(review.reviewId)).toHaveLength(1);
  });
});

describe('the emulator pushing over HTTP', () => {
  let server: RunningServer;
  afterAll(async () => {
    await fetch(`${sandbox.url}/business-profile/_config`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ pushEndpoint: null, audience: null }),
    });
    await server?.close();
  });

  test('a new review at Business Profile reaches triage through a signed push', async () => {
    server = await listen(app, 0, '127.0.0.1');
    const config = await fetch(`${sandbox.url}/business-profile/_config`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        pushEndpoint: `${server.url}/webhooks/google/business-profile`,
        // The subscription's audience is the public URL the API is configured with.
        audience: deps.config.reviewflow.pubsubAudience,
        pushRetries: 0,
      }),
    });
    expect(config.status).toBe(200);
    const res = await fetch(`${sandbox.url}/business-profile/_reviews`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        ...location,
        reviewerName: 'Robin Park',
        starRating: 5,
        comment: 'Best apartment we ever rented.',
      }),
    });
    const { review, messageId } = (await res.json()) as { review: BusinessProfileReview; messageId: string };
    expect(messageId).toEqual(expect.any(String));
    const row = await eventually(async () => {
      const [found] = await reviewByExternalId(review.reviewId);
      expect(found).toMatchObject({ status: 'awaiting_approval', sentiment: 'positive' });
      return found!;
    }, 20_000);
    expect(row.reviewerName).toBe('Robin Park');
    const deliveries = await fetch(`${sandbox.url}/business-profile/_deliveries?messageId=${messageId}`);
    const { deliveries: list } = (await deliveries.json()) as { deliveries: { httpStatus: number | null }[] };
    expect(list.map((d) => d.httpStatus)).toEqual([204]);
  });
});
