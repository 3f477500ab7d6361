/**
 * The Business Profile emulator over raw HTTP (Google's paths, payloads and errors), its failure injection, the
 * synthetic world (content and edits over time), and its Pub/Sub pushes verified as the API verifies them.
 */
import { serve, type ServerType } from '@hono/node-server';
import { createSign, generateKeyPairSync, X509Certificate } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SANDBOX_PUBSUB_PUSH_SERVICE_ACCOUNT } from '../config';
import type { BusinessProfileReview } from '../integrations/business-profile';
import {
  createPubSubPushVerifier,
  parseBusinessProfilePush,
  PushAuthError,
  signPushToken,
  type PubSubPushEnvelope,
} from '../integrations/pubsub-push';
import { createBusinessProfileEmulator } from './business-profile';
import { issueAccessToken } from './google-oauth';
import { SANDBOX_PUBSUB_KEY_ID, SANDBOX_PUBSUB_PRIVATE_KEY_PEM, SANDBOX_PUBSUB_PUBLIC_KEY_PEM } from './pubsub-keys';
import { syntheticReviews, type ReviewTone } from './review-world';
import { startSandbox, type RunningSandbox } from './server';

let sandbox: RunningSandbox;
let receiver: ServerType;
let receiverUrl: string;
/** What the push receiver got; `failFirst` message ids answer 500 on their first delivery. */
const pushes: { authorization: string | undefined; body: PubSubPushEnvelope }[] = [];
let failFirstDelivery = false;

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0 });
  receiver = await new Promise<ServerType>((resolve) => {
    const s = serve(
      {
        port: 0,
        hostname: '127.0.0.1',
        fetch: async (req) => {
          const body = (await req.json()) as PubSubPushEnvelope;
          const seenBefore = pushes.some((p) => p.body.message.messageId === body.message.messageId);
          pushes.push({ authorization: req.headers.get('authorization') ?? undefined, body });
          return new Response(null, { status: failFirstDelivery && !seenBefore ? 500 : 204 });
        },
      },
      () => resolve(s),
    );
  });
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks/google/business-profile`;
});

afterAll(async () => {
  if ('closeAllConnections' in receiver) receiver.closeAllConnections();
  receiver?.close();
  await sandbox?.close();
});

const bp = (path: string) => `${sandbox.url}/business-profile${path}`;
const auth = () => ({ authorization: `Bearer ${issueAccessToken('test-client')}` });

async function control(path: string, body: unknown, method = 'POST') {
  const res = await fetch(bp(path), {
    method,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as any };
}

async function google(method: string, path: string, body?: unknown, signal?: AbortSignal) {
  const res = await fetch(bp(path), {
    method,
    headers: { ...auth(), 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal,
  });
  return { status: res.status, body: (await res.json()) as any };
}

const reviewsPath = (l: { accountId: string; locationId: string }) =>
  `/v4/accounts/${l.accountId}/locations/${l.locationId}/reviews`;

async function emptyLocation(accountId: string, locationId: string) {
  const location = { accountId, locationId };
  expect((await control('/_locations', { ...location, synthetic: 0 })).status).toBe(201);
  return location;
}

async function addReview(location: object, review: Record<string, unknown>): Promise<BusinessProfileReview> {
  const res = await control('/_reviews', { ...location, notify: false, ...review });
  expect(res.status).toBeLessThan(300);
  return res.body.review;
}

describe("Google's reviews API", () => {
  it("requires a bearer token the sandbox OAuth endpoint issued, answering 401 in Google's error shape", async () => {
    const none = await fetch(bp('/v4/accounts/1/locations/2/reviews'));
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({ error: { code: 401, status: 'UNAUTHENTICATED' } });
    const forged = await fetch(bp('/v4/accounts/1/locations/2/reviews'), {
      headers: { authorization: 'Bearer ya29.sandbox-eyJjIjoieCJ9.forged' },
    });
    expect(forged.status).toBe(401);
    const expired = await fetch(bp('/v4/accounts/1/locations/2/reviews'), {
      headers: { authorization: `Bearer ${issueAccessToken('c', Date.now() - 2 * 3600_000)}` },
    });
    expect(expired.status).toBe(401);

    const token = await fetch(`${sandbox.url}/google-oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        client_id: 'c',
        client_secret: 's',
        refresh_token: 'sandbox-x',
      }),
    });
    const { access_token } = (await token.json()) as { access_token: string };
    const ok = await fetch(bp('/v4/accounts/1/locations/2/reviews'), {
      headers: { authorization: `Bearer ${access_token}` },
    });
    expect(ok.status).toBe(200);
  });

  it('pages with an opaque token bound to the ordering, newest update first, at most 50 a page', async () => {
    const location = { accountId: '701', locationId: '801' };
    await control('/_locations', { ...location, synthetic: 70 });
    const first = await google('GET', `${reviewsPath(location)}?pageSize=50`);
    expect(first.status).toBe(200);
    expect(first.body.reviews).toHaveLength(50);
    expect(first.body.totalReviewCount).toBe(70);
    expect(first.body.averageRating).toBeGreaterThan(1);
    expect(first.body.averageRating).toBeLessThan(5);
    expect(first.body.nextPageToken).toEqual(expect.any(String));
    const second = await google(
      'GET',
      `${reviewsPath(location)}?pageSize=50&pageToken=${encodeURIComponent(first.body.nextPageToken)}`,
    );
    expect(second.body.reviews).toHaveLength(20);
    expect(second.body.nextPageToken).toBeUndefined();
    const all = [...first.body.reviews, ...second.body.reviews] as BusinessProfileReview[];
    expect(new Set(all.map((r) => r.reviewId)).size).toBe(70);
    for (let i = 1; i < all.length; i++) expect(all[i - 1]!.updateTime >= all[i]!.updateTime).toBe(true);
    for (const r of all) {
      expect(r.name).toBe(`accounts/701/locations/801/reviews/${r.reviewId}`);
      expect(['ONE', 'TWO', 'THREE', 'FOUR', 'FIVE']).toContain(r.starRating);
      expect(Date.parse(r.createTime)).toBeLessThanOrEqual(Date.parse(r.updateTime));
    }

    const byRating = await google(
      'GET',
      `${reviewsPath(location)}?pageSize=50&orderBy=${encodeURIComponent('rating')}`,
    );
    const stars = (byRating.body.reviews as BusinessProfileReview[]).map((r) => r.starRating);
    expect(stars[0]).toBe('ONE');
    const misuse = await google(
      'GET',
      `${reviewsPath(location)}?pageSize=50&orderBy=rating&pageToken=${encodeURIComponent(first.body.nextPageToken)}`,
    );
    expect(misuse.status).toBe(400);

    const tooBig = await google('GET', `${reviewsPath(location)}?pageSize=51`);
    expect(tooBig.status).toBe(400);
    expect(tooBig.body.error).toMatchObject({ code: 400, status: 'INVALID_ARGUMENT' });
    expect((await google('GET', `${reviewsPath(location)}?pageToken=garbage`)).status).toBe(400);
    expect((await google('GET', `${reviewsPath(location)}?orderBy=updateTime`)).status).toBe(400);

    // Google leaves the list out when a location has no reviews.
    const empty = await emptyLocation('702', '802');
    const none = await google('GET', reviewsPath(empty));
    expect(none.body).toEqual({ averageRating: 0, totalReviewCount: 0 });
  });

  it("puts, replaces and deletes replies, and 404s unknown reviews in Google's shape", async () => {
    const location = await emptyLocation('703', '803');
    const review = await addReview(location, { reviewerName: 'Maya R.', starRating: 5, comment: 'Lovely staff' });
    expect(review).toMatchObject({ reviewer: { displayName: 'Maya R.', isAnonymous: false }, starRating: 'FIVE' });
    const path = `${reviewsPath(location)}/${review.reviewId}`;

    const put = await google('PUT', `${path}/reply`, { comment: 'Thank you, Maya!' });
    expect(put.status).toBe(200);
    expect(put.body).toEqual({ comment: 'Thank you, Maya!', updateTime: expect.any(String) });
    await google('PUT', `${path}/reply`, { comment: 'Thanks so much, Maya!' });
    expect((await google('GET', path)).body.reviewReply.comment).toBe('Thanks so much, Maya!');
    expect(await google('DELETE', `${path}/reply`)).toEqual({ status: 200, body: {} });
    expect((await google('GET', path)).body.reviewReply).toBeUndefined();

    const missing = await google('GET', `${reviewsPath(location)}/nope`);
    expect(missing).toEqual({
      status: 404,
      body: { error: { code: 404, message: expect.any(String), status: 'NOT_FOUND' } },
    });
    expect((await google('PUT', `${reviewsPath(location)}/nope/reply`, { comment: 'x' })).status).toBe(404);
    expect((await google('DELETE', `${reviewsPath(location)}/nope/reply`)).status).toBe(404);

    // The limit is in bytes: 1,500 euro signs are 4,500 bytes.
    expect((await google('PUT', `${path}/reply`, { comment: '€'.repeat(1500) })).status).toBe(400);
    expect((await google('PUT', `${path}/reply`, { comment: 'a'.repeat(4096) })).status).toBe(200);
    expect((await google('PUT', `${path}/reply`, { comment: '   ' })).status).toBe(400);

    const replies = await (await fetch(bp(`/_replies?reviewId=${review.reviewId}`))).json();
    expect(replies.replies.map((r: { comment: string }) => r.comment.slice(0, 30))).toEqual([
      'Thank you, Maya!',
      'Thanks so much, Maya!',
      'a'.repeat(30),
    ]);
  });

  it('injects failures around the reply: before applying, after applying, and a hang after applying', async () => {
    const location = await emptyLocation('704', '804');
    const review = await addReview(location, { reviewerName: 'Ben K.', starRating: 4, comment: 'Nice' });
    const path = `${reviewsPath(location)}/${review.reviewId}`;
    const applied = async () =>
      (
        (await (await fetch(bp(`/_replies?accountId=704&locationId=804&reviewId=${review.reviewId}`))).json()) as {
          replies: unknown[];
        }
      ).replies.length;

    await control('/_config', { failures: { replyFailBeforeApply: 1 } });
    expect((await google('PUT', `${path}/reply`, { comment: 'one' })).status).toBe(503);
    expect(await applied()).toBe(0);
    expect((await google('GET', path)).body.reviewReply).toBeUndefined();

    await control('/_config', { failures: { replyApplyThenFail: 1 } });
    const failed = await google('PUT', `${path}/reply`, { comment: 'two' });
    expect(failed).toMatchObject({ status: 503, body: { error: { status: 'UNAVAILABLE' } } });
    expect(await applied()).toBe(1);
    expect((await google('GET', path)).body.reviewReply.comment).toBe('two');

    await control('/_config', { failures: { replyApplyThenHang: 1 } });
    await expect(google('PUT', `${path}/reply`, { comment: 'three' }, AbortSignal.timeout(300))).rejects.toThrow();
    expect(await applied()).toBe(2);
    expect((await google('GET', path)).body.reviewReply.comment).toBe('three');

    // Each injection is used up: the next PUT is normal.
    expect((await google('PUT', `${path}/reply`, { comment: 'four' })).status).toBe(200);
    expect(await applied()).toBe(3);

    await control('/_config', { failures: { readFail: 1 } });
    expect((await google('GET', path)).status).toBe(503);
    expect((await google('GET', path)).status).toBe(200);
  });

  it('updates and deletes reviews through the control endpoints, validating their input', async () => {
    const location = await emptyLocation('705', '805');
    const anonymous = await addReview(location, { starRating: 2, comment: 'Meh' });
    expect(anonymous.reviewer).toEqual({ displayName: 'A Google User', isAnonymous: true });
    const updated = await control('/_reviews', {
      ...location,
      reviewId: anonymous.reviewId,
      starRating: 4,
      comment: 'Better now',
      notify: false,
    });
    expect(updated.status).toBe(200);
    expect(updated.body.review).toMatchObject({
      reviewId: anonymous.reviewId,
      starRating: 'FOUR',
      comment: 'Better now',
    });
    expect(Date.parse(updated.body.review.updateTime)).toBeGreaterThanOrEqual(Date.parse(anonymous.updateTime));
    expect(updated.body.review.createTime).toBe(anonymous.createTime);

    const ratingOnly = await addReview(location, { reviewerName: 'Sam', starRating: 1 });
    expect(ratingOnly.comment).toBeUndefined();

    const del = await fetch(bp(`/_reviews?accountId=705&locationId=805&reviewId=${ratingOnly.reviewId}`), {
      method: 'DELETE',
    });
    expect(del.status).toBe(200);
    expect((await google('GET', `${reviewsPath(location)}/${ratingOnly.reviewId}`)).status).toBe(404);

    expect((await control('/_reviews', { ...location, starRating: 6 })).status).toBe(400);
    expect((await control('/_reviews', { ...location, starRating: 3, surprise: true })).status).toBe(400);
    expect((await control('/_locations', { accountId: 'abc', locationId: '1' })).status).toBe(400);
    expect((await control('/_config', { pushEndpoint: 'not a url' })).status).toBe(400);
    expect((await control('/_world/advance', {})).status).toBe(400);
  });
});

describe('the synthetic world', () => {
  const now = Date.parse('2026-06-01T12:00:00Z');

  it('is a pure function of the location, with the same first reviews for a longer list', () => {
    const a = syntheticReviews('1/2', 24, now);
    expect(syntheticReviews('1/2', 24, now)).toEqual(a);
    expect(syntheticReviews('1/2', 40, now).slice(0, 24)).toEqual(a);
    expect(syntheticReviews('1/3', 24, now).map((r) => r.first.comment)).not.toEqual(a.map((r) => r.first.comment));
  });

  it('mixes ratings, tones, rating-only, anonymous, answered and later-edited reviews over 90 days', () => {
    const small = syntheticReviews('1100220033/4400550066', 24, now);
    const tones = new Set<ReviewTone>(small.map((r) => r.first.labels.tone));
    expect(tones.size).toBe(11);
    expect(new Set(small.map((r) => r.first.stars)).size).toBeGreaterThanOrEqual(4);
    expect(small.some((r) => r.first.comment === null)).toBe(true);

    const big = syntheticReviews('42/42', 600, now);
    const share = (pred: (r: (typeof big)[number]) => boolean) => big.filter(pred).length / big.length;
    expect(share((r) => r.first.stars === 5)).toBeGreaterThan(0.3);
    expect(share((r) => r.first.stars === 1)).toBeGreaterThan(0.1);
    expect(share((r) => r.isAnonymous)).toBeGreaterThan(0.03);
    expect(share((r) => r.ownerReply !== null)).toBeGreaterThan(0.03);
    expect(share((r) => r.edit !== null && Date.parse(r.edit.editTime) <= now)).toBeGreaterThan(0.02);
    expect(share((r) => r.edit !== null && Date.parse(r.edit.editTime) > now)).toBeGreaterThan(0.02);
    for (const r of big) {
      const created = Date.parse(r.createTime);
      expect(created).toBeLessThan(now);
      expect(created).toBeGreaterThan(now - 91 * 24 * 3600_000);
      if (r.edit) expect(Date.parse(r.edit.editTime)).toBeGreaterThan(created);
      if (r.ownerReply) expect(Date.parse(r.ownerReply.updateTime)).toBeLessThan(now);
    }
    expect(new Set(big.map((r) => r.first.comment)).size).toBeGreaterThan(300);
  });

  it('is not separable by keywords: praise words in complaints, problem words in happy reviews, urgent five-stars', () => {
    const big = syntheticReviews('7/7', 800, now).flatMap((r) => (r.edit ? [r.first, r.edit] : [r.first]));
    const texts = (pred: (v: (typeof big)[number]) => boolean) =>
      big.filter((v) => v.comment && pred(v)).map((v) => v.comment!.toLowerCase());
    const praise = /\b(wonderful|love|great|amazing|fantastic|thanks|appreciate)\b/;
    const trouble = /\b(leak|ants|broken|quit|jammed|noise|mix-up|weird)\b/;
    expect(texts((v) => v.labels.sentiment === 'negative').filter((t) => praise.test(t)).length).toBeGreaterThan(10);
    expect(texts((v) => v.labels.sentiment === 'positive').filter((t) => trouble.test(t)).length).toBeGreaterThan(10);
    const urgentHigh = big.filter((v) => v.labels.urgentIssue && v.stars >= 4);
    expect(urgentHigh.length).toBeGreaterThan(2);
    expect(new Set(big.map((v) => v.labels.urgentIssue).filter(Boolean)).size).toBeGreaterThanOrEqual(10);
  });

  it('applies edits at their time: at once when the clock is advanced, with an UPDATED_REVIEW push', async () => {
    const app = createBusinessProfileEmulator();
    const call = async (path: string, init?: RequestInit) => {
      const res = await app.request(path, {
        ...init,
        headers: { ...auth(), 'content-type': 'application/json', ...(init?.headers ?? {}) },
      });
      return { status: res.status, body: (await res.json()) as any };
    };
    const created = await call('/_locations', {
      method: 'POST',
      body: JSON.stringify({ accountId: '900', locationId: '901', synthetic: 120 }),
    });
    const pending = created.body.pendingEdits as { reviewName: string; editTime: string }[];
    expect(pending.length).toBeGreaterThan(0);
    const target = pending[0]!;
    const reviewId = target.reviewName.split('/').pop()!;
    const before = (await call(`/v4/accounts/900/locations/901/reviews/${reviewId}`)).body as BusinessProfileReview;
    expect(Date.parse(target.editTime)).toBeGreaterThan(Date.now());

    await call('/_config', {
      method: 'POST',
      body: JSON.stringify({ pushEndpoint: receiverUrl, pushRetryDelayMs: 10 }),
    });
    const advanced = await call('/_world/advance', { method: 'POST', body: JSON.stringify({ hours: 73 }) });
    expect(advanced.body.edits.map((e: { reviewName: string }) => e.reviewName).sort()).toEqual(
      pending.map((p) => p.reviewName).sort(),
    );
    const after = (await call(`/v4/accounts/900/locations/901/reviews/${reviewId}`)).body as BusinessProfileReview;
    expect(after.updateTime).toBe(target.editTime);
    expect(after.createTime).toBe(before.createTime);
    expect([after.starRating, after.comment]).not.toEqual([before.starRating, before.comment]);
    expect((await call('/_world')).body.pendingEdits).toEqual([]);

    await expect
      .poll(() => pushes.filter((p) => parseBusinessProfilePush(p.body).reviewId === reviewId).length, {
        timeout: 5000,
      })
      .toBeGreaterThan(0);
    const pushed = pushes.find((p) => parseBusinessProfilePush(p.body).reviewId === reviewId)!;
    expect(parseBusinessProfilePush(pushed.body)).toMatchObject({
      type: 'UPDATED_REVIEW',
      location: { accountId: '900', locationId: '901' },
    });
  });
});

describe('Pub/Sub push notifications', () => {
  const audience = 'https://console.example/webhooks/google/business-profile';
  const verifier = (overrides: Partial<Parameters<typeof createPubSubPushVerifier>[0]> = {}) =>
    createPubSubPushVerifier({
      audience,
      serviceAccountEmail: SANDBOX_PUBSUB_PUSH_SERVICE_ACCOUNT,
      certsUrl: `${sandbox.url}/google-oauth/certs`,
      ...overrides,
    });
  const sign = (over: Partial<Parameters<typeof signPushToken>[0]> = {}) =>
    `Bearer ${signPushToken({
      audience,
      email: SANDBOX_PUBSUB_PUSH_SERVICE_ACCOUNT,
      privateKeyPem: SANDBOX_PUBSUB_PRIVATE_KEY_PEM,
      kid: SANDBOX_PUBSUB_KEY_ID,
      ...over,
    })}`;

  it('publishes X.509 certificates by key id, cacheable, for the fixed signing key', async () => {
    const res = await fetch(`${sandbox.url}/google-oauth/certs`);
    expect(res.headers.get('cache-control')).toMatch(/max-age=\d+/);
    const certs = (await res.json()) as Record<string, string>;
    const pem = certs[SANDBOX_PUBSUB_KEY_ID]!;
    expect(pem).toMatch(/^-----BEGIN CERTIFICATE-----/);
    const cert = new X509Certificate(pem);
    expect(cert.publicKey.export({ type: 'spki', format: 'pem' }).toString().trim()).toBe(
      SANDBOX_PUBSUB_PUBLIC_KEY_PEM.trim(),
    );
  });

  it('delivers new, updated and duplicate notifications with tokens the verifier accepts, retrying until a 2xx', async () => {
    const location = await emptyLocation('710', '810');
    await control('/_config', { pushEndpoint: receiverUrl, audience, pushRetryDelayMs: 10, pushRetries: 3 });
    failFirstDelivery = true;
    try {
      const added = await control('/_reviews', {
        ...location,
        reviewerName: 'Rosa S.',
        starRating: 1,
        comment: 'Mold',
      });
      const messageId = added.body.messageId as string;
      await expect.poll(() => pushes.filter((p) => p.body.message.messageId === messageId).length).toBe(2);
      const attempts = pushes.filter((p) => p.body.message.messageId === messageId);
      expect(attempts[0]!.body).toEqual(attempts[1]!.body);
      await verifier().verify(attempts[1]!.authorization);
      expect(parseBusinessProfilePush(attempts[1]!.body)).toEqual({
        type: 'NEW_REVIEW',
        location,
        reviewId: added.body.review.reviewId,
        messageId,
      });
      const recorded = (await (await fetch(bp(`/_deliveries?messageId=${messageId}`))).json()).deliveries;
      expect(recorded.map((d: { attempt: number; httpStatus: number }) => [d.attempt, d.httpStatus])).toEqual([
        [1, 500],
        [2, 204],
      ]);
    } finally {
      failFirstDelivery = false;
    }

    const review = (await control('/_reviews', { ...location, reviewerName: 'Tom', starRating: 5, notify: false }))
      .body;
    expect(review.messageId).toBeNull();
    const updated = await control('/_reviews', { ...location, reviewId: review.review.reviewId, starRating: 2 });
    const dup = await control('/_notify', { ...location, reviewId: review.review.reviewId, type: 'UPDATED_REVIEW' });
    expect(dup.status).toBe(202);
    for (const id of [updated.body.messageId, dup.body.messageId]) {
      await expect.poll(() => pushes.some((p) => p.body.message.messageId === id)).toBe(true);
      const n = parseBusinessProfilePush(pushes.find((p) => p.body.message.messageId === id)!.body);
      expect(n).toMatchObject({ type: 'UPDATED_REVIEW', reviewId: review.review.reviewId });
    }
    expect(updated.body.messageId).not.toBe(dup.body.messageId);
    expect((await control('/_notify', { ...location, reviewId: 'missing' })).status).toBe(404);
    await control('/_config', { pushEndpoint: null });
    expect((await control('/_notify', { ...location, reviewId: review.review.reviewId })).status).toBe(409);
  });

  it('rejects a wrong audience, another account, an unverified email, a tampered, foreign-key or expired token', async () => {
    const v = verifier();
    await v.verify(sign());
    const rejects = (authorization: string | undefined) =>
      expect(v.verify(authorization)).rejects.toBeInstanceOf(PushAuthError);
    await rejects(sign({ audience: 'https://elsewhere.example/push' }));
    await rejects(sign({ email: 'attacker@evil.iam.gserviceaccount.com' }));
    await rejects(sign({ nowMs: Date.now() - 3 * 3600_000 }));
    await rejects(sign({ nowMs: Date.now() + 3600_000 }));
    const token = sign();
    const [header, payload, signature] = token.slice('Bearer '.length).split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString('utf8'));
    const forgedPayload = Buffer.from(JSON.stringify({ ...claims, aud: audience, email: 'x@y.z' })).toString(
      'base64url',
    );
    await rejects(`Bearer ${header}.${forgedPayload}.${signature}`);
    await rejects(`Bearer ${header}.${payload}.${signature!.slice(0, -6)}AAAAAA`);
    // Correctly signed, but Google did not verify the email.
    const unverified = `${header}.${Buffer.from(JSON.stringify({ ...claims, email_verified: false })).toString('base64url')}`;
    const signer = createSign('RSA-SHA256').update(unverified);
    await rejects(`Bearer ${unverified}.${signer.sign(SANDBOX_PUBSUB_PRIVATE_KEY_PEM).toString('base64url')}`);
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    await rejects(sign({ privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() }));
    await rejects(sign({ kid: 'unknown-kid' }));
    await rejects(undefined);
    await rejects('Basic dXNlcjpwYXNz');
    await expect(verifier({ serviceAccountEmail: '' }).verify(sign())).rejects.toBeInstanceOf(PushAuthError);
  });
});
