import { serve, type ServerType } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SANDBOX_PUBSUB_PUSH_SERVICE_ACCOUNT } from '../config';
import {
  BusinessProfileAuthError,
  BusinessProfileTimeoutError,
  createBusinessProfileClientFactory,
  SANDBOX_BUSINESS_PROFILE_CREDENTIALS,
} from '../integrations/business-profile';
import { createPubSubPushVerifier, parseBusinessProfilePush, PushAuthError, signPushToken } from '../integrations/pubsub-push';
import { createSlackNotifier } from '../integrations/slack';
import { SANDBOX_PUBSUB_KEY_ID, SANDBOX_PUBSUB_PRIVATE_KEY_PEM } from './pubsub-keys';
import { startSandbox, type RunningSandbox } from './server';

let sandbox: RunningSandbox;
let receiver: ServerType;
let receiverUrl: string;
const pushes: { authorization: string | undefined; body: unknown }[] = [];

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0 });
  receiver = await new Promise<ServerType>((resolve) => {
    const s = serve(
      {
        port: 0,
        hostname: '127.0.0.1',
        fetch: async (req) => {
          pushes.push({ authorization: req.headers.get('authorization') ?? undefined, body: await req.json() });
          // The first delivery of each message fails, so the retry is exercised.
          return new Response(null, { status: pushes.length % 2 === 1 ? 500 : 204 });
        },
      },
      () => resolve(s),
    );
  });
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/push`;
});

afterAll(async () => {
  receiver?.close();
  await sandbox?.close();
});

const post = async (path: string, body: unknown) => {
  const res = await fetch(`${sandbox.url}/business-profile${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
};

const clientFor = (timeoutMs?: number) =>
  createBusinessProfileClientFactory({
    apiUrl: `${sandbox.url}/business-profile`,
    tokenUrl: `${sandbox.url}/google-oauth/token`,
    timeoutMs,
  })(SANDBOX_BUSINESS_PROFILE_CREDENTIALS);

describe('Business Profile emulator through the client', () => {
  it('lists synthetic reviews page by page, with ratings, texts and some without text', async () => {
    const location = { accountId: '501', locationId: '601' };
    await post('/_locations', { ...location, synthetic: 70 });
    const client = clientFor();
    const seen: string[] = [];
    let pageToken: string | undefined;
    let pages = 0;
    do {
      const page = await client.listReviews(location, { pageSize: 50, pageToken });
      seen.push(...page.reviews.map((r) => r.reviewId));
      pageToken = page.nextPageToken;
      pages++;
      expect(page.totalReviewCount).toBe(70);
    } while (pageToken);
    expect(pages).toBe(2);
    expect(new Set(seen).size).toBe(70);
    const all = (await client.listReviews(location, { pageSize: 50 })).reviews;
    expect(new Set(all.map((r) => r.starRating)).size).toBeGreaterThan(2);
    expect(all.some((r) => !r.comment)).toBe(true);
  });

  it('posts, replaces and deletes replies; records every applied reply; 404s unknown reviews', async () => {
    const location = { accountId: '502', locationId: '602' };
    await post('/_locations', { ...location, synthetic: 0 });
    const { body } = await post('/_reviews', { ...location, reviewerName: 'Maya R.', starRating: 5, comment: 'Great', notify: false });
    const client = clientFor();
    const reviewId = body.review.reviewId as string;
    await client.updateReply(location, reviewId, 'Thanks Maya!');
    await client.updateReply(location, reviewId, 'Thank you, Maya!');
    expect((await client.getReview(location, reviewId))?.reviewReply?.comment).toBe('Thank you, Maya!');
    await client.deleteReply(location, reviewId);
    expect((await client.getReview(location, reviewId))?.reviewReply).toBeUndefined();
    expect(await client.getReview(location, 'nope')).toBeNull();
    const replies = await (await fetch(`${sandbox.url}/business-profile/_replies?reviewId=${reviewId}`)).json();
    expect(replies.replies.map((r: { comment: string }) => r.comment)).toEqual(['Thanks Maya!', 'Thank you, Maya!']);
  });

  it('applies a reply and then hangs when told to: the client times out with an uncertain outcome', async () => {
    const location = { accountId: '503', locationId: '603' };
    await post('/_locations', { ...location, synthetic: 0 });
    const { body } = await post('/_reviews', { ...location, reviewerName: 'Ben K.', starRating: 4, comment: 'Nice', notify: false });
    await post('/_config', { failures: { replyApplyThenHang: 1 } });
    const client = clientFor(300);
    await expect(client.updateReply(location, body.review.reviewId, 'Thanks Ben')).rejects.toBeInstanceOf(
      BusinessProfileTimeoutError,
    );
    expect((await client.getReview(location, body.review.reviewId))?.reviewReply?.comment).toBe('Thanks Ben');
  });

  it('refuses requests without a valid token', async () => {
    const res = await fetch(`${sandbox.url}/business-profile/v4/accounts/1/locations/2/reviews`);
    expect(res.status).toBe(401);
    const bad = createBusinessProfileClientFactory({
      apiUrl: `${sandbox.url}/business-profile`,
      tokenUrl: `${sandbox.url}/google-oauth/token`,
    })({ ...SANDBOX_BUSINESS_PROFILE_CREDENTIALS, refreshToken: 'revoked' });
    await expect(bad.listReviews({ accountId: '1', locationId: '2' })).rejects.toBeInstanceOf(BusinessProfileAuthError);
  });
});

describe('Pub/Sub push notifications', () => {
  const audience = 'https://console.example/webhooks/google/business-profile';
  const verifier = () =>
    createPubSubPushVerifier({
      audience,
      serviceAccountEmail: SANDBOX_PUBSUB_PUSH_SERVICE_ACCOUNT,
      certsUrl: `${sandbox.url}/google-oauth/certs`,
    });

  it('pushes a new review with a token the verifier accepts, retrying until a 2xx', async () => {
    await post('/_config', { pushEndpoint: receiverUrl, audience, pushRetryDelayMs: 20 });
    const location = { accountId: '504', locationId: '604' };
    await post('/_locations', { ...location, synthetic: 0 });
    const { body } = await post('/_reviews', { ...location, reviewerName: 'Rosa S.', starRating: 1, comment: 'Mold' });
    await expect.poll(() => pushes.length, { timeout: 5000 }).toBeGreaterThanOrEqual(2);
    const [first, second] = pushes;
    expect(first!.body).toEqual(second!.body);
    await verifier().verify(second!.authorization);
    const notification = parseBusinessProfilePush(second!.body);
    expect(notification).toMatchObject({ type: 'NEW_REVIEW', location, reviewId: body.review.reviewId });
    await post('/_config', { pushEndpoint: null });
  });

  it('rejects a wrong audience, another service account, a tampered or expired token, and no token', async () => {
    const sign = (over: Partial<Parameters<typeof signPushToken>[0]> = {}) =>
      `Bearer ${signPushToken({
        audience,
        email: SANDBOX_PUBSUB_PUSH_SERVICE_ACCOUNT,
        privateKeyPem: SANDBOX_PUBSUB_PRIVATE_KEY_PEM,
        kid: SANDBOX_PUBSUB_KEY_ID,
        ...over,
      })}`;
    const v = verifier();
    await v.verify(sign());
    await expect(v.verify(sign({ audience: 'https://elsewhere' }))).rejects.toBeInstanceOf(PushAuthError);
    await expect(v.verify(sign({ email: 'attacker@evil.iam.gserviceaccount.com' }))).rejects.toBeInstanceOf(PushAuthError);
    await expect(v.verify(sign({ nowMs: Date.now() - 3 * 3600_000 }))).rejects.toBeInstanceOf(PushAuthError);
    const token = sign();
    await expect(v.verify(token.slice(0, -4) + 'AAAA')).rejects.toBeInstanceOf(PushAuthError);
    await expect(v.verify(undefined)).rejects.toBeInstanceOf(PushAuthError);
  });

  it('parses both documented field spellings and refuses malformed envelopes', () => {
    const envelope = (data: unknown) => ({
      message: { data: Buffer.from(JSON.stringify(data)).toString('base64'), messageId: '1' },
      subscription: 'projects/p/subscriptions/s',
    });
    expect(
      parseBusinessProfilePush(envelope({ type: 'UPDATED_REVIEW', review_name: 'accounts/1/locations/2/reviews/abc' })),
    ).toMatchObject({ type: 'UPDATED_REVIEW', reviewId: 'abc', location: { accountId: '1', locationId: '2' } });
    expect(() => parseBusinessProfilePush({ hello: 1 })).toThrow(/envelope/);
    expect(() => parseBusinessProfilePush(envelope({ type: 'NEW_REVIEW' }))).toThrow(/location/);
  });
});

describe('Slack emulator through the official SDK', () => {
  it('receives messages and reports failures', async () => {
    const url = `${sandbox.url}/slack/services/T000/B000/secret1`;
    await createSlackNotifier().post(url, { text: 'Negative review at The Reserve' });
    const res = await (await fetch(`${sandbox.url}/slack/_messages?path=/services/T000/B000/secret1`)).json();
    expect(res.messages[0].body.text).toBe('Negative review at The Reserve');
    await fetch(`${sandbox.url}/slack/_config`, { method: 'POST', body: JSON.stringify({ failNext: 1 }) });
    await expect(createSlackNotifier().post(url, { text: 'x' })).rejects.toThrow(/Slack webhook/);
  });
});
