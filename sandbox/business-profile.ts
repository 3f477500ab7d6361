/**
 * Google Business Profile emulator: the v4 reviews API (list with paging, get, update reply, delete reply) behind
 * OAuth bearer tokens from the sandbox token endpoint, and the review notifications Business Profile publishes to
 * Pub/Sub, delivered the way a push subscription does (POST with a signed OIDC token, retried until a 2xx).
 * Same paths, payloads and error bodies as mybusiness.googleapis.com, so integrations/business-profile.ts runs
 * unchanged against it.
 *
 * Control endpoints (not Google's) start with `_`: create locations and reviews, push (duplicate) notifications,
 * configure where pushes go, inject failures around reply posting, and list every reply that was applied.
 */
import { Hono, type Context } from 'hono';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { SANDBOX_PUBSUB_PUSH_SERVICE_ACCOUNT } from '../config';
import { numberToStarRating, type BusinessProfileReview } from '../integrations/business-profile';
import { signPushToken } from '../integrations/pubsub-push';
import { verifyBearer } from './google-oauth';
import { SANDBOX_PUBSUB_KEY_ID, SANDBOX_PUBSUB_PRIVATE_KEY_PEM } from './pubsub-keys';
import { syntheticReviews } from './review-world';

const DEFAULT_SYNTHETIC_REVIEWS = 24;
const MAX_PAGE_SIZE = 50;
const MAX_REPLY_BYTES = 4096;

interface StoredReview {
  reviewId: string;
  displayName: string;
  isAnonymous: boolean;
  stars: number;
  comment: string | null;
  createTime: string;
  updateTime: string;
  reply: { comment: string; updateTime: string } | null;
}

interface Location {
  accountId: string;
  locationId: string;
  reviews: Map<string, StoredReview>;
}

export interface AppliedReply {
  accountId: string;
  locationId: string;
  reviewId: string;
  comment: string;
  at: string;
}

export interface PushDelivery {
  messageId: string;
  type: string;
  reviewName: string;
  attempt: number;
  httpStatus: number | null;
  error: string | null;
  at: string;
}

interface Failures {
  /** The next n reply PUTs apply the reply, then answer 503 (the caller cannot know it worked). */
  replyApplyThenFail: number;
  /** The next n reply PUTs apply the reply, then never answer (the caller times out). */
  replyApplyThenHang: number;
  /** The next n reply PUTs answer 503 without applying anything. */
  replyFailBeforeApply: number;
}

function googleError(c: Context, status: 400 | 401 | 404 | 503, message: string) {
  const statusName = { 400: 'INVALID_ARGUMENT', 401: 'UNAUTHENTICATED', 404: 'NOT_FOUND', 503: 'UNAVAILABLE' }[status];
  return c.json({ error: { code: status, message, status: statusName } }, status);
}

const reviewBody = z.strictObject({
  accountId: z.string().regex(/^\d+$/),
  locationId: z.string().regex(/^\d+$/),
  reviewId: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,100}$/)
    .optional(),
  reviewerName: z.string().max(200).optional(),
  isAnonymous: z.boolean().optional(),
  starRating: z.number().int().min(1).max(5),
  comment: z.string().max(4096).nullable().optional(),
  notify: z.boolean().optional(),
});

export function createBusinessProfileEmulator() {
  const locations = new Map<string, Location>();
  const applied: AppliedReply[] = [];
  const deliveries: PushDelivery[] = [];
  const failures: Failures = { replyApplyThenFail: 0, replyApplyThenHang: 0, replyFailBeforeApply: 0 };
  const push = {
    endpoint: null as string | null,
    audience: null as string | null,
    retries: 3,
    retryDelayMs: 250,
  };

  const key = (accountId: string, locationId: string) => `${accountId}/${locationId}`;

  function location(accountId: string, locationId: string, synthetic = DEFAULT_SYNTHETIC_REVIEWS): Location {
    const k = key(accountId, locationId);
    let loc = locations.get(k);
    if (loc) return loc;
    loc = { accountId, locationId, reviews: new Map() };
    const now = Date.now();
    for (const s of syntheticReviews(k, synthetic, now)) {
      const editAt = s.edit ? Date.parse(s.createTime) + s.edit.editAfterHours * 3_600_000 : null;
      const version = s.edit && editAt! <= now ? s.edit : s.first;
      loc.reviews.set(s.reviewId, {
        reviewId: s.reviewId,
        displayName: s.reviewerName,
        isAnonymous: s.isAnonymous,
        stars: version.stars,
        comment: version.comment,
        createTime: s.createTime,
        updateTime: version === s.first ? s.createTime : new Date(editAt!).toISOString(),
        reply: s.ownerReply ? { comment: s.ownerReply, updateTime: s.createTime } : null,
      });
    }
    locations.set(k, loc);
    return loc;
  }

  function present(loc: Location, r: StoredReview): BusinessProfileReview {
    return {
      name: `accounts/${loc.accountId}/locations/${loc.locationId}/reviews/${r.reviewId}`,
      reviewId: r.reviewId,
      reviewer: { displayName: r.displayName, isAnonymous: r.isAnonymous },
      starRating: numberToStarRating(r.stars),
      ...(r.comment ? { comment: r.comment } : {}),
      createTime: r.createTime,
      updateTime: r.updateTime,
      ...(r.reply ? { reviewReply: r.reply } : {}),
    };
  }

  /** Publishes a notification and delivers it like a push subscription: retried with backoff until a 2xx. */
  function publish(loc: Location, reviewId: string, type: string): string {
    const messageId = String(BigInt('0x' + randomBytes(7).toString('hex')));
    const reviewName = `accounts/${loc.accountId}/locations/${loc.locationId}/reviews/${reviewId}`;
    if (!push.endpoint) return messageId;
    const endpoint = push.endpoint;
    const audience = push.audience ?? endpoint;
    const data = Buffer.from(
      JSON.stringify({ type, reviewName, locationName: `accounts/${loc.accountId}/locations/${loc.locationId}` }),
    ).toString('base64');
    const body = JSON.stringify({
      message: { data, messageId, message_id: messageId, publishTime: new Date().toISOString(), attributes: {} },
      subscription: 'projects/p11-sandbox/subscriptions/business-profile-push',
    });
    void (async () => {
      for (let attempt = 1; attempt <= push.retries + 1; attempt++) {
        const token = signPushToken({
          audience,
          email: SANDBOX_PUBSUB_PUSH_SERVICE_ACCOUNT,
          privateKeyPem: SANDBOX_PUBSUB_PRIVATE_KEY_PEM,
          kid: SANDBOX_PUBSUB_KEY_ID,
        });
        const record: PushDelivery = {
          messageId,
          type,
          reviewName,
          attempt,
          httpStatus: null,
          error: null,
          at: new Date().toISOString(),
        };
        deliveries.push(record);
        try {
          const res = await fetch(endpoint, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
            body,
            signal: AbortSignal.timeout(10_000),
          });
          record.httpStatus = res.status;
          await res.body?.cancel();
          if ([102, 200, 201, 202, 204].includes(res.status)) return;
        } catch (err) {
          record.error = (err as Error).message;
        }
        await new Promise((r) => setTimeout(r, push.retryDelayMs * 2 ** (attempt - 1)));
      }
    })();
    return messageId;
  }

  const app = new Hono();

  // ── Google's API ──
  app.use('/v4/*', async (c, next) => {
    if (!verifyBearer(c.req.header('authorization'))) {
      return googleError(c, 401, 'Request had invalid authentication credentials. Expected OAuth 2 access token.');
    }
    await next();
  });

  app.get('/v4/accounts/:accountId/locations/:locationId/reviews', (c) => {
    const loc = location(c.req.param('accountId'), c.req.param('locationId'));
    const pageSize = Number(c.req.query('pageSize') ?? MAX_PAGE_SIZE);
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_PAGE_SIZE) {
      return googleError(c, 400, `pageSize must be between 1 and ${MAX_PAGE_SIZE}`);
    }
    const token = c.req.query('pageToken');
    const offset = token ? Number(Buffer.from(token, 'base64url').toString('utf8').replace(/^o:/, '')) : 0;
    if (!Number.isInteger(offset) || offset < 0) return googleError(c, 400, 'Invalid pageToken');
    // Newest update first, as Google's default ordering.
    const all = [...loc.reviews.values()].sort((a, b) => b.updateTime.localeCompare(a.updateTime));
    const page = all.slice(offset, offset + pageSize);
    const rated = all.filter((r) => r.stars > 0);
    return c.json({
      reviews: page.map((r) => present(loc, r)),
      averageRating: rated.length ? Math.round((rated.reduce((s, r) => s + r.stars, 0) / rated.length) * 10) / 10 : 0,
      totalReviewCount: all.length,
      ...(offset + pageSize < all.length
        ? { nextPageToken: Buffer.from(`o:${offset + pageSize}`).toString('base64url') }
        : {}),
    });
  });

  app.get('/v4/accounts/:accountId/locations/:locationId/reviews/:reviewId', (c) => {
    const loc = location(c.req.param('accountId'), c.req.param('locationId'));
    const review = loc.reviews.get(c.req.param('reviewId'));
    return review ? c.json(present(loc, review)) : googleError(c, 404, 'Requested entity was not found.');
  });

  app.put('/v4/accounts/:accountId/locations/:locationId/reviews/:reviewId/reply', async (c) => {
    const loc = location(c.req.param('accountId'), c.req.param('locationId'));
    const review = loc.reviews.get(c.req.param('reviewId'));
    if (!review) return googleError(c, 404, 'Requested entity was not found.');
    const body = (await c.req.json().catch(() => null)) as { comment?: unknown } | null;
    const comment = typeof body?.comment === 'string' ? body.comment : '';
    if (!comment.trim()) return googleError(c, 400, 'Request contains an invalid argument: comment is required.');
    if (Buffer.byteLength(comment) > MAX_REPLY_BYTES) {
      return googleError(c, 400, `Request contains an invalid argument: comment exceeds ${MAX_REPLY_BYTES} bytes.`);
    }
    if (failures.replyFailBeforeApply > 0) {
      failures.replyFailBeforeApply--;
      return googleError(c, 503, 'The service is currently unavailable.');
    }
    review.reply = { comment, updateTime: new Date().toISOString() };
    applied.push({
      accountId: loc.accountId,
      locationId: loc.locationId,
      reviewId: review.reviewId,
      comment,
      at: review.reply.updateTime,
    });
    if (failures.replyApplyThenFail > 0) {
      failures.replyApplyThenFail--;
      return googleError(c, 503, 'The service is currently unavailable.');
    }
    if (failures.replyApplyThenHang > 0) {
      failures.replyApplyThenHang--;
      // Never answers: the client's timeout (or a dying worker) ends the request. Bounded so the server can close.
      await new Promise((r) => setTimeout(r, 120_000).unref());
    }
    return c.json(review.reply);
  });

  app.delete('/v4/accounts/:accountId/locations/:locationId/reviews/:reviewId/reply', (c) => {
    const loc = location(c.req.param('accountId'), c.req.param('locationId'));
    const review = loc.reviews.get(c.req.param('reviewId'));
    if (!review) return googleError(c, 404, 'Requested entity was not found.');
    review.reply = null;
    return c.json({});
  });

  // ── Control endpoints ──
  app.post('/_locations', async (c) => {
    const parsed = z
      .strictObject({
        accountId: z.string().regex(/^\d+$/),
        locationId: z.string().regex(/^\d+$/),
        synthetic: z.number().int().min(0).max(1000).optional(),
      })
      .safeParse(await c.req.json().catch(() => null));
    if (!parsed.success) return c.json({ error: parsed.error.issues }, 400);
    const { accountId, locationId, synthetic } = parsed.data;
    locations.delete(key(accountId, locationId));
    const loc = location(accountId, locationId, synthetic ?? DEFAULT_SYNTHETIC_REVIEWS);
    return c.json({ accountId, locationId, reviews: loc.reviews.size }, 201);
  });

  app.post('/_reviews', async (c) => {
    const parsed = reviewBody.safeParse(await c.req.json().catch(() => null));
    if (!parsed.success) return c.json({ error: parsed.error.issues }, 400);
    const input = parsed.data;
    const loc = location(input.accountId, input.locationId);
    const now = new Date().toISOString();
    const existing = input.reviewId ? loc.reviews.get(input.reviewId) : undefined;
    const review: StoredReview = existing
      ? { ...existing, stars: input.starRating, comment: input.comment ?? null, updateTime: now }
      : {
          reviewId: input.reviewId ?? `rv-${randomBytes(10).toString('hex')}`,
          displayName: input.isAnonymous ? 'A Google User' : (input.reviewerName ?? 'A Google User'),
          isAnonymous: input.isAnonymous ?? !input.reviewerName,
          stars: input.starRating,
          comment: input.comment ?? null,
          createTime: now,
          updateTime: now,
          reply: null,
        };
    loc.reviews.set(review.reviewId, review);
    const messageId =
      input.notify === false ? null : publish(loc, review.reviewId, existing ? 'UPDATED_REVIEW' : 'NEW_REVIEW');
    return c.json({ review: present(loc, review), messageId }, existing ? 200 : 201);
  });

  app.post('/_notify', async (c) => {
    const parsed = z
      .strictObject({
        accountId: z.string(),
        locationId: z.string(),
        reviewId: z.string(),
        type: z.enum(['NEW_REVIEW', 'UPDATED_REVIEW']).optional(),
      })
      .safeParse(await c.req.json().catch(() => null));
    if (!parsed.success) return c.json({ error: parsed.error.issues }, 400);
    const loc = location(parsed.data.accountId, parsed.data.locationId);
    if (!loc.reviews.has(parsed.data.reviewId)) return c.json({ error: 'no such review' }, 404);
    return c.json({ messageId: publish(loc, parsed.data.reviewId, parsed.data.type ?? 'NEW_REVIEW') }, 202);
  });

  app.post('/_config', async (c) => {
    const parsed = z
      .strictObject({
        pushEndpoint: z.string().url().nullable().optional(),
        audience: z.string().nullable().optional(),
        pushRetries: z.number().int().min(0).max(20).optional(),
        pushRetryDelayMs: z.number().int().min(0).max(60_000).optional(),
        failures: z
          .strictObject({
            replyApplyThenFail: z.number().int().min(0).optional(),
            replyApplyThenHang: z.number().int().min(0).optional(),
            replyFailBeforeApply: z.number().int().min(0).optional(),
          })
          .optional(),
      })
      .safeParse(await c.req.json().catch(() => null));
    if (!parsed.success) return c.json({ error: parsed.error.issues }, 400);
    const body = parsed.data;
    if (body.pushEndpoint !== undefined) push.endpoint = body.pushEndpoint;
    if (body.audience !== undefined) push.audience = body.audience;
    if (body.pushRetries !== undefined) push.retries = body.pushRetries;
    if (body.pushRetryDelayMs !== undefined) push.retryDelayMs = body.pushRetryDelayMs;
    Object.assign(failures, body.failures ?? {});
    return c.json({ push, failures });
  });

  app.get('/_replies', (c) => {
    const { accountId, locationId, reviewId } = c.req.query();
    return c.json({
      replies: applied.filter(
        (r) =>
          (!accountId || r.accountId === accountId) &&
          (!locationId || r.locationId === locationId) &&
          (!reviewId || r.reviewId === reviewId),
      ),
    });
  });

  app.get('/_deliveries', (c) => c.json({ deliveries }));

  return app;
}
