/**
 * The Business Profile client against the emulator (paging, replies, the error classes the post activity relies
 * on, token reuse and refresh), the Pub/Sub push parser, and the Slack notifier against the Slack emulator.
 */
import { serve, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdWorldState } from '../sandbox/ad-world';
import { createGoogleOAuthEmulator } from '../sandbox/google-oauth';
import { startSandbox, type RunningSandbox } from '../sandbox/server';
import {
  BusinessProfileAuthError,
  BusinessProfileRequestError,
  BusinessProfileTimeoutError,
  createBusinessProfileClientFactory,
  numberToStarRating,
  parseReviewName,
  SANDBOX_BUSINESS_PROFILE_CREDENTIALS,
  starRatingToNumber,
  type BusinessProfileLocation,
} from './business-profile';
import { parseBusinessProfilePush, PushPayloadError } from './pubsub-push';
import { createSlackNotifier, SlackWebhookError } from './slack';

let sandbox: RunningSandbox;
const servers: ServerType[] = [];

async function serveApp(fetch: (req: Request) => Response | Promise<Response>): Promise<string> {
  const server = await new Promise<ServerType>((resolve) => {
    const s = serve({ port: 0, hostname: '127.0.0.1', fetch }, () => resolve(s));
  });
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0 });
});

afterAll(async () => {
  for (const s of servers) {
    if ('closeAllConnections' in s) s.closeAllConnections();
    s.close();
  }
  await sandbox?.close();
});

const factory = (options: { tokenUrl?: string; apiUrl?: string; timeoutMs?: number } = {}) =>
  createBusinessProfileClientFactory({
    apiUrl: options.apiUrl ?? `${sandbox.url}/business-profile`,
    tokenUrl: options.tokenUrl ?? `${sandbox.url}/google-oauth/token`,
    timeoutMs: options.timeoutMs,
  });

async function control(path: string, body: unknown) {
  const res = await fetch(`${sandbox.url}/business-profile${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${path} → ${res.status} ${await res.text()}`);
  return (await res.json()) as any;
}

async function location(accountId: string, locationId: string, synthetic = 0): Promise<BusinessProfileLocation> {
  await control('/_locations', { accountId, locationId, synthetic });
  return { accountId, locationId };
}

const addReview = async (loc: BusinessProfileLocation, review: Record<string, unknown>) =>
  (await control('/_reviews', { ...loc, notify: false, ...review })).review as { reviewId: string };

const appliedReplies = async (reviewId: string) =>
  (
    (await (await fetch(`${sandbox.url}/business-profile/_replies?reviewId=${reviewId}`)).json()) as {
      replies: unknown[];
    }
  ).replies.length;

/** A token endpoint that counts grants and can hand out tokens Business Profile will refuse. */
async function countingTokenServer(options: { badTokens?: number } = {}) {
  const state = { grants: 0, badTokens: options.badTokens ?? 0 };
  const real = createGoogleOAuthEmulator(createAdWorldState());
  const app = new Hono()
    .use('/token', async (c, next) => {
      state.grants++;
      if (state.badTokens > 0) {
        state.badTokens--;
        return c.json({ access_token: 'ya29.sandbox-revoked.x', expires_in: 3599, token_type: 'Bearer' });
      }
      await next();
    })
    .route('/', real);
  const url = await serveApp(app.fetch);
  return { state, tokenUrl: `${url}/token` };
}

describe('helpers', () => {
  it('maps star ratings both ways and parses resource names', () => {
    expect(['ONE', 'TWO', 'THREE', 'FOUR', 'FIVE'].map((s) => starRatingToNumber(s as never))).toEqual([1, 2, 3, 4, 5]);
    expect(starRatingToNumber('STAR_RATING_UNSPECIFIED')).toBeNull();
    expect([1, 2, 3, 4, 5, 0, 7].map(numberToStarRating)).toEqual([
      'ONE',
      'TWO',
      'THREE',
      'FOUR',
      'FIVE',
      'STAR_RATING_UNSPECIFIED',
      'STAR_RATING_UNSPECIFIED',
    ]);
    expect(parseReviewName('accounts/1/locations/2/reviews/AbC_-9')).toEqual({
      accountId: '1',
      locationId: '2',
      reviewId: 'AbC_-9',
    });
    expect(parseReviewName('accounts/1/locations/2')).toEqual({ accountId: '1', locationId: '2' });
    for (const bad of [
      '',
      'accounts/1',
      'accounts//locations/2',
      'accounts/1/locations/2/reviews/',
      'locations/2/reviews/a',
    ]) {
      expect(parseReviewName(bad)).toBeNull();
    }
  });
});

describe('Business Profile client against the emulator', () => {
  it('pages through every review of a location, newest update first', async () => {
    const loc = await location('601', '701', 130);
    const client = factory()(SANDBOX_BUSINESS_PROFILE_CREDENTIALS);
    const seen: string[] = [];
    let pageToken: string | undefined;
    let pages = 0;
    do {
      const page = await client.listReviews(loc, { pageToken });
      expect(page.totalReviewCount).toBe(130);
      seen.push(...page.reviews.map((r) => r.reviewId));
      pageToken = page.nextPageToken;
      pages++;
    } while (pageToken);
    expect(pages).toBe(3);
    expect(new Set(seen).size).toBe(130);

    const byRating = await client.listReviews(loc, { pageSize: 10, orderBy: 'rating desc' });
    expect(byRating.reviews.map((r) => r.starRating)).toEqual(Array(10).fill('FIVE'));
    await expect(client.listReviews(loc, { pageSize: 51 })).rejects.toBeInstanceOf(BusinessProfileRequestError);
    // An emulator 400 (a token it never issued) is a permanent request error with its status.
    const bad = await client.listReviews(loc, { pageToken: 'not-a-token' }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(BusinessProfileRequestError);
    expect((bad as BusinessProfileRequestError).status).toBe(400);

    const empty = await client.listReviews(await location('602', '702'));
    expect(empty).toMatchObject({ reviews: [], totalReviewCount: 0 });
  });

  it('reads a review, posts, replaces and deletes its reply; a deleted review reads as null', async () => {
    const loc = await location('603', '703');
    const client = factory()(SANDBOX_BUSINESS_PROFILE_CREDENTIALS);
    const { reviewId } = await addReview(loc, { reviewerName: 'Priya N.', starRating: 4, comment: 'Great gym' });
    expect(await client.getReview(loc, reviewId)).toMatchObject({
      name: `accounts/603/locations/703/reviews/${reviewId}`,
      reviewer: { displayName: 'Priya N.' },
      starRating: 'FOUR',
      comment: 'Great gym',
    });
    const reply = await client.updateReply(loc, reviewId, 'Thanks, Priya! Enjoy the gym.');
    expect(reply).toEqual({ comment: 'Thanks, Priya! Enjoy the gym.', updateTime: expect.any(String) });
    await client.updateReply(loc, reviewId, 'Thank you, Priya!');
    expect((await client.getReview(loc, reviewId))?.reviewReply?.comment).toBe('Thank you, Priya!');
    await client.deleteReply(loc, reviewId);
    expect((await client.getReview(loc, reviewId))?.reviewReply).toBeUndefined();
    expect(await appliedReplies(reviewId)).toBe(2);

    await fetch(`${sandbox.url}/business-profile/_reviews?accountId=603&locationId=703&reviewId=${reviewId}`, {
      method: 'DELETE',
    });
    expect(await client.getReview(loc, reviewId)).toBeNull();
    const notFound = await client.updateReply(loc, reviewId, 'Hello?').catch((e: unknown) => e);
    expect(notFound).toBeInstanceOf(BusinessProfileRequestError);
    expect((notFound as BusinessProfileRequestError).status).toBe(404);
    // Nothing left to delete is not an error.
    await client.deleteReply(loc, reviewId);
  });

  it('refuses a reply Google would refuse before sending it', async () => {
    const loc = await location('604', '704');
    const client = factory()(SANDBOX_BUSINESS_PROFILE_CREDENTIALS);
    const { reviewId } = await addReview(loc, { starRating: 5, comment: 'Nice' });
    await expect(client.updateReply(loc, reviewId, '€'.repeat(1400))).rejects.toBeInstanceOf(
      BusinessProfileRequestError,
    );
    await expect(client.updateReply(loc, reviewId, '  ')).rejects.toBeInstanceOf(BusinessProfileRequestError);
    expect(await appliedReplies(reviewId)).toBe(0);
  });

  it('tells an uncertain outcome (timeout) from a transient failure and from permanent ones', async () => {
    const loc = await location('605', '705');
    const { reviewId } = await addReview(loc, { reviewerName: 'Ben K.', starRating: 4, comment: 'Nice' });
    const client = factory({ timeoutMs: 300 })(SANDBOX_BUSINESS_PROFILE_CREDENTIALS);

    await control('/_config', { failures: { replyApplyThenHang: 1 } });
    await expect(client.updateReply(loc, reviewId, 'Thanks Ben')).rejects.toBeInstanceOf(BusinessProfileTimeoutError);
    expect((await client.getReview(loc, reviewId))?.reviewReply?.comment).toBe('Thanks Ben');

    await control('/_config', { failures: { replyApplyThenFail: 1 } });
    const afterApply = await client.updateReply(loc, reviewId, 'Thank you Ben').catch((e: unknown) => e);
    expect(afterApply).toBeInstanceOf(Error);
    for (const permanent of [BusinessProfileAuthError, BusinessProfileRequestError, BusinessProfileTimeoutError]) {
      expect(afterApply).not.toBeInstanceOf(permanent);
    }
    expect((afterApply as Error).message).toMatch(/UNAVAILABLE/);

    await control('/_config', { failures: { readFail: 1 } });
    await expect(client.getReview(loc, reviewId)).rejects.not.toBeInstanceOf(BusinessProfileRequestError);
    expect(await appliedReplies(reviewId)).toBe(2);
  });

  it('treats revoked credentials as an auth error, and an unreachable or garbled API as transient', async () => {
    const revoked = factory()({ ...SANDBOX_BUSINESS_PROFILE_CREDENTIALS, refreshToken: 'revoked-token' });
    await expect(revoked.listReviews({ accountId: '1', locationId: '2' })).rejects.toBeInstanceOf(
      BusinessProfileAuthError,
    );

    const closed = await serveApp(() => new Response('x'));
    const server = servers.pop()!;
    if ('closeAllConnections' in server) server.closeAllConnections();
    await new Promise((r) => server.close(r));
    const unreachable = await factory({ apiUrl: closed })(SANDBOX_BUSINESS_PROFILE_CREDENTIALS)
      .getReview({ accountId: '1', locationId: '2' }, 'x')
      .catch((e: unknown) => e);
    expect(unreachable).toBeInstanceOf(Error);
    expect(unreachable).not.toBeInstanceOf(BusinessProfileTimeoutError);
    expect(unreachable).not.toBeInstanceOf(BusinessProfileRequestError);

    const proxy = await serveApp(() => new Response('<html>Bad Gateway</html>', { status: 502 }));
    const garbled = await factory({ apiUrl: proxy })(SANDBOX_BUSINESS_PROFILE_CREDENTIALS)
      .getReview({ accountId: '1', locationId: '2' }, 'x')
      .catch((e: unknown) => e);
    expect((garbled as Error).message).toMatch(/502/);
    expect(garbled).not.toBeInstanceOf(BusinessProfileRequestError);

    const forbidden = await serveApp(() =>
      Response.json(
        { error: { code: 403, message: 'The caller does not have permission', status: 'PERMISSION_DENIED' } },
        { status: 403 },
      ),
    );
    await expect(
      factory({ apiUrl: forbidden })(SANDBOX_BUSINESS_PROFILE_CREDENTIALS).listReviews({
        accountId: '1',
        locationId: '2',
      }),
    ).rejects.toBeInstanceOf(BusinessProfileAuthError);
  });

  it('reuses one access token per credentials, and refreshes once when Google stops honouring it', async () => {
    const loc = await location('606', '706', 5);
    const counting = await countingTokenServer();
    const make = factory({ tokenUrl: counting.tokenUrl });
    const client = make(SANDBOX_BUSINESS_PROFILE_CREDENTIALS);
    expect(make({ ...SANDBOX_BUSINESS_PROFILE_CREDENTIALS })).toBe(client);
    await client.listReviews(loc);
    await client.listReviews(loc, { pageSize: 2 });
    await make(SANDBOX_BUSINESS_PROFILE_CREDENTIALS).listReviews(loc);
    expect(counting.state.grants).toBe(1);

    const refreshing = await countingTokenServer({ badTokens: 1 });
    const page = await factory({ tokenUrl: refreshing.tokenUrl })(SANDBOX_BUSINESS_PROFILE_CREDENTIALS).listReviews(
      loc,
    );
    expect(page.reviews).toHaveLength(5);
    expect(refreshing.state.grants).toBe(2);

    const alwaysBad = await countingTokenServer({ badTokens: 10 });
    await expect(
      factory({ tokenUrl: alwaysBad.tokenUrl })(SANDBOX_BUSINESS_PROFILE_CREDENTIALS).listReviews(loc),
    ).rejects.toBeInstanceOf(BusinessProfileAuthError);
    expect(alwaysBad.state.grants).toBe(2);
  });
});

describe('Pub/Sub push parsing', () => {
  const envelope = (data: unknown, message: Record<string, unknown> = {}) => ({
    message: {
      data: Buffer.from(typeof data === 'string' ? data : JSON.stringify(data)).toString('base64'),
      messageId: '9001',
      publishTime: '2026-11-01T10:00:00Z',
      ...message,
    },
    subscription: 'projects/p/subscriptions/s',
  });

  it('reads the v4 (camelCase), v1 (snake_case) and short spellings', () => {
    const expected = {
      type: 'NEW_REVIEW',
      location: { accountId: '1', locationId: '2' },
      reviewId: 'abc',
      messageId: '9001',
    };
    for (const data of [
      { type: 'NEW_REVIEW', reviewName: 'accounts/1/locations/2/reviews/abc', locationName: 'accounts/1/locations/2' },
      { notificationType: 'NEW_REVIEW', review_name: 'accounts/1/locations/2/reviews/abc' },
      { type: 'NEW_REVIEW', review: 'accounts/1/locations/2/reviews/abc', location: 'accounts/1/locations/2' },
    ]) {
      expect(parseBusinessProfilePush(envelope(data))).toEqual(expected);
    }
    // Other notification types name only the location; the caller acknowledges and ignores them.
    expect(
      parseBusinessProfilePush(envelope({ type: 'GOOGLE_UPDATE', locationName: 'accounts/1/locations/2' })),
    ).toEqual({
      type: 'GOOGLE_UPDATE',
      location: { accountId: '1', locationId: '2' },
      reviewId: null,
      messageId: '9001',
    });
    expect(
      parseBusinessProfilePush(
        envelope(
          { type: 'UPDATED_REVIEW', reviewName: 'accounts/1/locations/2/reviews/x' },
          { messageId: undefined, message_id: '77' },
        ),
      ).messageId,
    ).toBe('77');
  });

  it('refuses malformed envelopes and data with a clear PushPayloadError', () => {
    const cases: [unknown, RegExp][] = [
      [null, /envelope/],
      [{ hello: 1 }, /envelope/],
      [{ message: { data: '' }, subscription: 's' }, /data/],
      [envelope({ type: 'NEW_REVIEW' }, { messageId: undefined }), /messageId/],
      [envelope('not json at all'), /base64-encoded JSON/],
      [envelope([1, 2]), /notification/],
      [envelope({ reviewName: 'accounts/1/locations/2/reviews/a' }), /type/],
      [envelope({ type: 'NEW_REVIEW' }), /location/],
      [envelope({ type: 'NEW_REVIEW', reviewName: 'reviews/a' }), /location/],
    ];
    for (const [body, message] of cases) {
      let error: unknown;
      try {
        parseBusinessProfilePush(body);
      } catch (e) {
        error = e;
      }
      expect(error, JSON.stringify(body)).toBeInstanceOf(PushPayloadError);
      expect((error as Error).message).toMatch(message);
    }
  });
});

describe('Slack notifier against the Slack emulator', () => {
  const hook = (secret: string) => `${sandbox.url}/slack/services/T0001/B0001/${secret}`;
  const messages = async (secret: string) =>
    (
      (await (await fetch(`${sandbox.url}/slack/_messages?path=/services/T0001/B0001/${secret}`)).json()) as {
        messages: { body: { text: string; blocks?: unknown[] } }[];
      }
    ).messages;
  const slackConfig = (body: unknown) =>
    fetch(`${sandbox.url}/slack/_config`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  it('posts text and blocks through @slack/webhook', async () => {
    const blocks = [{ type: 'section', text: { type: 'mrkdwn', text: '*1★* Mold in the bathroom' } }];
    await createSlackNotifier().post(hook('s1'), { text: 'Negative review at The Reserve', blocks });
    expect(await messages('s1')).toEqual(
      [{ body: { text: 'Negative review at The Reserve', blocks } }].map((m) => expect.objectContaining(m)),
    );
  });

  it('reports a Slack outage as transient and a revoked webhook or a bad URL as permanent', async () => {
    await slackConfig({ failNext: 1 });
    const outage = await createSlackNotifier()
      .post(hook('s2'), { text: 'x' })
      .catch((e: unknown) => e);
    expect(outage).toBeInstanceOf(SlackWebhookError);
    expect(outage).toMatchObject({ permanent: false, status: 500 });
    await createSlackNotifier().post(hook('s2'), { text: 'after the outage' });
    expect((await messages('s2')).map((m) => m.body.text)).toEqual(['after the outage']);

    await slackConfig({ revoke: '/services/T0001/B0001/s3' });
    const revoked = await createSlackNotifier()
      .post(hook('s3'), { text: 'x' })
      .catch((e: unknown) => e);
    expect(revoked).toMatchObject({ permanent: true, status: 404 });
    expect((revoked as Error).message).toMatch(/no_service/);

    await expect(createSlackNotifier().post('not a url', { text: 'x' })).rejects.toMatchObject({ permanent: true });
    const empty = await createSlackNotifier()
      .post(hook('s4'), { text: '' })
      .catch((e: unknown) => e);
    expect(empty).toMatchObject({ permanent: true, status: 400 });
  });

  it('reports an unreachable Slack as transient', async () => {
    const url = await serveApp(() => new Response('ok'));
    const server = servers.pop()!;
    if ('closeAllConnections' in server) server.closeAllConnections();
    await new Promise((r) => server.close(r));
    const down = await createSlackNotifier({ timeoutMs: 1000 })
      .post(`${url}/services/T/B/x`, { text: 'x' })
      .catch((e: unknown) => e);
    expect(down).toMatchObject({ permanent: false, status: null });
  });
});
