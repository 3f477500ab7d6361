/**
 * Google Business Profile emulator: the v4 reviews API (list with paging and ordering, get, update reply, delete
 * reply) behind OAuth bearer tokens from the sandbox token endpoint, and the review notifications Business Profile
 * publishes to Pub/Sub, delivered the way a push subscription does (POST with a signed OIDC token, retried with
 * backoff until a 2xx). Same paths, payloads and error bodies as mybusiness.googleapis.com, so
 * integrations/business-profile.ts runs unchanged against it.
 *
 * Every location exists; its reviews come lazily from the synthetic world (sandbox/review-world.ts, seeded by the
 * location). Reviews their authors edit later change at a known time: in real time, or at once when the world's
 * clock is moved with `POST /_world/advance`; either way an UPDATED_REVIEW notification goes out.
 *
 * Control endpoints (not Google's) start with `_`: create locations and reviews, push (duplicate) notifications,
 * move the clock, configure where pushes go, inject failures around reply posting, list every reply that was
 * applied and every push attempted. All state belongs to the app instance.
 */
import { Hono, type Context } from 'hono';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { SANDBOX_PUBSUB_PUSH_SERVICE_ACCOUNT } from '../config';
import {
  MAX_REPLY_BYTES,
  MAX_REVIEWS_PAGE_SIZE,
  numberToStarRating,
  type BusinessProfileReview,
} from '../integrations/business-profile';
import { signPushToken } from '../integrations/pubsub-push';
import { verifyBearer } from './google-oauth';
import { SANDBOX_PUBSUB_KEY_ID, SANDBOX_PUBSUB_PRIVATE_KEY_PEM } from './pubsub-keys';
import { DEFAULT_SYNTHETIC_REVIEWS, syntheticReviews, type SyntheticReviewVersion } from './review-world';

/** setTimeout's ceiling; later edits are applied when the location is next read or the clock is advanced. */
const MAX_TIMER_MS = 2_147_483_647;
/** What a push subscription treats as an acknowledgement. */
const PUSH_ACK_STATUSES = new Set([102, 200, 201, 202, 204]);
const ORDERS = ['updateTime desc', 'rating', 'rating desc'] as const;
type Order = (typeof ORDERS)[number];

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

interface PendingEdit {
  reviewId: string;
  atMs: number;
  version: SyntheticReviewVersion;
}

interface Location {
  accountId: string;
  locationId: string;
  reviews: Map<string, StoredReview>;
  pendingEdits: PendingEdit[];
  timer: NodeJS.Timeout | null;
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
  endpoint: string;
  attempt: number;
  httpStatus: number | null;
  error: string | null;
  at: string;
}

interface Failures {
  /** The next n reply PUTs apply the reply, then answer 503 (the caller cannot know it worked). */
  replyApplyThenFail: number;
  /** The next n reply PUTs apply the reply, then never answer (until the caller gives up and disconnects). */
  replyApplyThenHang: number;
  /** The next n reply PUTs answer 503 without applying anything. */
  replyFailBeforeApply: number;
  /** The next n review reads (list or get) answer 503. */
  readFail: number;
}

const STATUS_NAMES = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  404: 'NOT_FOUND',
  503: 'UNAVAILABLE',
} as const;

function googleError(c: Context, status: keyof typeof STATUS_NAMES, message: string) {
  if (status === 401)
    c.header('www-authenticate', 'Bearer realm="https://accounts.google.com/", error="invalid_token"');
  return c.json({ error: { code: status, message, status: STATUS_NAMES[status] } }, status);
}

const NOT_FOUND = 'Requested entity was not found.';
const UNAVAILABLE = 'The service is currently unavailable.';

const id = z.string().regex(/^\d{1,30}$/, 'digits only, as Google account and location ids are');

const reviewBody = z.strictObject({
  accountId: id,
  locationId: id,
  reviewId: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,100}$/)
    .optional(),
  reviewerName: z.string().min(1).max(200).optional(),
  isAnonymous: z.boolean().optional(),
  starRating: z.number().int().min(1).max(5),
  comment: z.string().max(4096).nullable().optional(),
  notify: z.boolean().optional(),
});

const reviewRef = z.strictObject({ accountId: id, locationId: id, reviewId: z.string().min(1).max(200) });

const durationBody = z
  .strictObject({
    hours: z
      .number()
      .min(0)
      .max(24 * 365)
      .optional(),
    minutes: z
      .number()
      .min(0)
      .max(60 * 24 * 365)
      .optional(),
    seconds: z
      .number()
      .min(0)
      .max(3600 * 24 * 365)
      .optional(),
  })
  .refine((d) => d.hours !== undefined || d.minutes !== undefined || d.seconds !== undefined, 'say how far to advance');

const configBody = z.strictObject({
  pushEndpoint: z.string().url().nullable().optional(),
  audience: z.string().min(1).nullable().optional(),
  pushRetries: z.number().int().min(0).max(20).optional(),
  pushRetryDelayMs: z.number().int().min(0).max(60_000).optional(),
  failures: z
    .strictObject({
      replyApplyThenFail: z.number().int().min(0).optional(),
      replyApplyThenHang: z.number().int().min(0).optional(),
      replyFailBeforeApply: z.number().int().min(0).optional(),
      readFail: z.number().int().min(0).optional(),
    })
    .optional(),
});

async function jsonBody(c: Context): Promise<unknown> {
  return c.req.json().catch(() => null);
}

function badControl(c: Context, error: z.ZodError) {
  return c.json({ error: error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ') }, 400);
}

export function createBusinessProfileEmulator() {
  const locations = new Map<string, Location>();
  const applied: AppliedReply[] = [];
  const deliveries: PushDelivery[] = [];
  const failures: Failures = { replyApplyThenFail: 0, replyApplyThenHang: 0, replyFailBeforeApply: 0, readFail: 0 };
  const push = {
    endpoint: null as string | null,
    audience: null as string | null,
    retries: 3,
    retryDelayMs: 250,
  };
  // The world's clock: real time plus whatever `_world/advance` added. Push tokens use real time (the receiver
  // checks their expiry against its own clock).
  let offsetMs = 0;
  const nowMs = () => Date.now() + offsetMs;
  const iso = (ms: number) => new Date(ms).toISOString();

  const key = (accountId: string, locationId: string) => `${accountId}/${locationId}`;
  const locationName = (loc: Location) => `accounts/${loc.accountId}/locations/${loc.locationId}`;

  function create(accountId: string, locationId: string, synthetic: number): Location {
    const k = key(accountId, locationId);
    const previous = locations.get(k);
    if (previous?.timer) clearTimeout(previous.timer);
    const loc: Location = { accountId, locationId, reviews: new Map(), pendingEdits: [], timer: null };
    const now = nowMs();
    for (const s of syntheticReviews(k, synthetic, now)) {
      const editMs = s.edit ? Date.parse(s.edit.editTime) : null;
      const shown = s.edit && editMs! <= now ? s.edit : s.first;
      loc.reviews.set(s.reviewId, {
        reviewId: s.reviewId,
        displayName: s.reviewerName,
        isAnonymous: s.isAnonymous,
        stars: shown.stars,
        comment: shown.comment,
        createTime: s.createTime,
        updateTime: shown === s.first ? s.createTime : s.edit!.editTime,
        reply: s.ownerReply,
      });
      if (s.edit && editMs! > now) loc.pendingEdits.push({ reviewId: s.reviewId, atMs: editMs!, version: s.edit });
    }
    loc.pendingEdits.sort((a, b) => a.atMs - b.atMs);
    locations.set(k, loc);
    schedule(loc);
    return loc;
  }

  /** The location, created with its synthetic reviews on first use, with every edit that is due applied. */
  function location(accountId: string, locationId: string): Location {
    const loc = locations.get(key(accountId, locationId)) ?? create(accountId, locationId, DEFAULT_SYNTHETIC_REVIEWS);
    settle(loc);
    return loc;
  }

  /** Applies the authors' edits that are due by the world's clock, each with an UPDATED_REVIEW notification. */
  function settle(loc: Location): { reviewName: string; updateTime: string }[] {
    const now = nowMs();
    const done: { reviewName: string; updateTime: string }[] = [];
    while (loc.pendingEdits.length > 0 && loc.pendingEdits[0]!.atMs <= now) {
      const edit = loc.pendingEdits.shift()!;
      const review = loc.reviews.get(edit.reviewId);
      if (!review) continue;
      review.stars = edit.version.stars;
      review.comment = edit.version.comment;
      review.updateTime = iso(edit.atMs);
      publish(loc, review.reviewId, 'UPDATED_REVIEW');
      done.push({ reviewName: `${locationName(loc)}/reviews/${review.reviewId}`, updateTime: review.updateTime });
    }
    return done;
  }

  /** A timer for the location's next edit, so edits also happen while nobody reads the location. */
  function schedule(loc: Location): void {
    if (loc.timer) clearTimeout(loc.timer);
    loc.timer = null;
    const next = loc.pendingEdits[0];
    if (!next) return;
    const delay = Math.max(0, next.atMs - nowMs());
    if (delay > MAX_TIMER_MS) return;
    loc.timer = setTimeout(() => {
      loc.timer = null;
      settle(loc);
      schedule(loc);
    }, delay);
    // The sandbox (or a test) must be able to exit with edits still pending.
    loc.timer.unref();
  }

  function present(loc: Location, r: StoredReview): BusinessProfileReview {
    return {
      name: `${locationName(loc)}/reviews/${r.reviewId}`,
      reviewId: r.reviewId,
      reviewer: { displayName: r.displayName, isAnonymous: r.isAnonymous },
      starRating: numberToStarRating(r.stars),
      ...(r.comment ? { comment: r.comment } : {}),
      createTime: r.createTime,
      updateTime: r.updateTime,
      ...(r.reply ? { reviewReply: r.reply } : {}),
    };
  }

  /** Publishes a notification and delivers it as a push subscription does: retried with backoff until a 2xx. */
  function publish(loc: Location, reviewId: string, type: string): string {
    const messageId = String(BigInt('0x' + randomBytes(7).toString('hex')));
    const reviewName = `${locationName(loc)}/reviews/${reviewId}`;
    if (!push.endpoint) return messageId;
    const endpoint = push.endpoint;
    const audience = push.audience ?? endpoint;
    const { retries, retryDelayMs } = push;
    // Business Profile's v4 notification: the type plus the review's and the location's resource names.
    const data = Buffer.from(JSON.stringify({ type, reviewName, locationName: locationName(loc) })).toString('base64');
    const publishTime = iso(nowMs());
    const body = JSON.stringify({
      message: { data, messageId, message_id: messageId, publishTime, publish_time: publishTime, attributes: {} },
      subscription: 'projects/p11-sandbox/subscriptions/business-profile-push',
    });
    void (async () => {
      for (let attempt = 1; attempt <= retries + 1; attempt++) {
        // A fresh token per attempt, as Google signs each push request.
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
          endpoint,
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
          if (PUSH_ACK_STATUSES.has(res.status)) return;
        } catch (err) {
          record.error = (err as Error).message;
        }
        if (attempt <= retries) await new Promise((r) => setTimeout(r, retryDelayMs * 2 ** (attempt - 1)).unref());
      }
    })();
    return messageId;
  }

  const app = new Hono();

  // ── Google's API ──
  app.use('/v4/*', async (c, next) => {
    if (!verifyBearer(c.req.header('authorization'))) {
      return googleError(
        c,
        401,
        'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.',
      );
    }
    await next();
  });

  app.get('/v4/accounts/:accountId/locations/:locationId/reviews', (c) => {
    if (failures.readFail > 0) {
      failures.readFail--;
      return googleError(c, 503, UNAVAILABLE);
    }
    const loc = location(c.req.param('accountId'), c.req.param('locationId'));
    const pageSizeParam = c.req.query('pageSize');
    const pageSize =
      pageSizeParam === undefined || pageSizeParam === '' ? MAX_REVIEWS_PAGE_SIZE : Number(pageSizeParam);
    if (!Number.isInteger(pageSize) || pageSize < 0 || pageSize > MAX_REVIEWS_PAGE_SIZE) {
      return googleError(
        c,
        400,
        `Request contains an invalid argument: pageSize must be at most ${MAX_REVIEWS_PAGE_SIZE}.`,
      );
    }
    const orderParam = (c.req.query('orderBy') ?? '').trim().replace(/\s+/g, ' ');
    const order: Order | undefined = orderParam ? ORDERS.find((o) => o === orderParam) : 'updateTime desc';
    if (!order) {
      return googleError(c, 400, `Request contains an invalid argument: orderBy must be one of ${ORDERS.join(', ')}.`);
    }
    // Opaque to callers; bound to the ordering it was issued for, as Google's tokens are.
    let offset = 0;
    const token = c.req.query('pageToken');
    if (token) {
      let decoded: { o?: unknown; s?: unknown } | null = null;
      try {
        decoded = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { o?: unknown; s?: unknown };
      } catch {
        decoded = null;
      }
      if (!decoded || !Number.isInteger(decoded.o) || (decoded.o as number) < 0 || decoded.s !== order) {
        return googleError(c, 400, 'Request contains an invalid argument: invalid pageToken.');
      }
      offset = decoded.o as number;
    }
    const byUpdate = (a: StoredReview, b: StoredReview) =>
      b.updateTime.localeCompare(a.updateTime) || a.reviewId.localeCompare(b.reviewId);
    const all = [...loc.reviews.values()].sort((a, b) =>
      order === 'rating'
        ? a.stars - b.stars || byUpdate(a, b)
        : order === 'rating desc'
          ? b.stars - a.stars || byUpdate(a, b)
          : byUpdate(a, b),
    );
    const size = pageSize || MAX_REVIEWS_PAGE_SIZE;
    const page = all.slice(offset, offset + size);
    const average = all.length ? all.reduce((s, r) => s + r.stars, 0) / all.length : 0;
    return c.json({
      // Google leaves out empty lists.
      ...(page.length ? { reviews: page.map((r) => present(loc, r)) } : {}),
      averageRating: Math.round(average * 10) / 10,
      totalReviewCount: all.length,
      ...(offset + size < all.length
        ? { nextPageToken: Buffer.from(JSON.stringify({ o: offset + size, s: order })).toString('base64url') }
        : {}),
    });
  });

  app.get('/v4/accounts/:accountId/locations/:locationId/reviews/:reviewId', (c) => {
    if (failures.readFail > 0) {
      failures.readFail--;
      return googleError(c, 503, UNAVAILABLE);
    }
    const loc = location(c.req.param('accountId'), c.req.param('locationId'));
    const review = loc.reviews.get(c.req.param('reviewId'));
    return review ? c.json(present(loc, review)) : googleError(c, 404, NOT_FOUND);
  });

  app.put('/v4/accounts/:accountId/locations/:locationId/reviews/:reviewId/reply', async (c) => {
    const loc = location(c.req.param('accountId'), c.req.param('locationId'));
    const review = loc.reviews.get(c.req.param('reviewId'));
    if (!review) return googleError(c, 404, NOT_FOUND);
    const body = (await jsonBody(c)) as { comment?: unknown } | null;
    const comment = typeof body?.comment === 'string' ? body.comment : '';
    if (!comment.trim()) return googleError(c, 400, 'Request contains an invalid argument: comment is required.');
    if (Buffer.byteLength(comment, 'utf8') > MAX_REPLY_BYTES) {
      return googleError(c, 400, `Request contains an invalid argument: comment exceeds ${MAX_REPLY_BYTES} bytes.`);
    }
    if (failures.replyFailBeforeApply > 0) {
      failures.replyFailBeforeApply--;
      return googleError(c, 503, UNAVAILABLE);
    }
    review.reply = { comment, updateTime: iso(nowMs()) };
    applied.push({
      accountId: loc.accountId,
      locationId: loc.locationId,
      reviewId: review.reviewId,
      comment,
      at: review.reply.updateTime,
    });
    if (failures.replyApplyThenFail > 0) {
      failures.replyApplyThenFail--;
      return googleError(c, 503, UNAVAILABLE);
    }
    if (failures.replyApplyThenHang > 0) {
      failures.replyApplyThenHang--;
      // No answer until the caller gives up (its timeout, or a dying worker closing the socket); bounded so the
      // server can always close.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 120_000);
        timer.unref();
        c.req.raw.signal.addEventListener(
          'abort',
          () => {
            clearTimeout(timer);
            resolve();
          },
          { once: true },
        );
      });
    }
    return c.json(review.reply);
  });

  app.delete('/v4/accounts/:accountId/locations/:locationId/reviews/:reviewId/reply', (c) => {
    const loc = location(c.req.param('accountId'), c.req.param('locationId'));
    const review = loc.reviews.get(c.req.param('reviewId'));
    if (!review) return googleError(c, 404, NOT_FOUND);
    review.reply = null;
    return c.json({});
  });

  // ── Control endpoints ──
  app.post('/_locations', async (c) => {
    const parsed = z
      .strictObject({ accountId: id, locationId: id, synthetic: z.number().int().min(0).max(1000).optional() })
      .safeParse(await jsonBody(c));
    if (!parsed.success) return badControl(c, parsed.error);
    const { accountId, locationId, synthetic } = parsed.data;
    const loc = create(accountId, locationId, synthetic ?? DEFAULT_SYNTHETIC_REVIEWS);
    return c.json(
      {
        accountId,
        locationId,
        name: locationName(loc),
        reviews: loc.reviews.size,
        pendingEdits: loc.pendingEdits.map((e) => ({
          reviewName: `${locationName(loc)}/reviews/${e.reviewId}`,
          editTime: iso(e.atMs),
        })),
      },
      201,
    );
  });

  app.post('/_reviews', async (c) => {
    const parsed = reviewBody.safeParse(await jsonBody(c));
    if (!parsed.success) return badControl(c, parsed.error);
    const input = parsed.data;
    const loc = location(input.accountId, input.locationId);
    const now = iso(nowMs());
    const existing = input.reviewId ? loc.reviews.get(input.reviewId) : undefined;
    const anonymous = input.isAnonymous ?? (existing ? existing.isAnonymous : !input.reviewerName);
    const review: StoredReview = existing
      ? {
          ...existing,
          stars: input.starRating,
          comment: input.comment ?? null,
          updateTime: now,
          ...(input.reviewerName ? { displayName: input.reviewerName } : {}),
          isAnonymous: anonymous,
        }
      : {
          reviewId: input.reviewId ?? `rv-${randomBytes(10).toString('hex')}`,
          displayName: anonymous ? 'A Google User' : input.reviewerName!,
          isAnonymous: anonymous,
          stars: input.starRating,
          comment: input.comment ?? null,
          createTime: now,
          updateTime: now,
          reply: null,
        };
    loc.reviews.set(review.reviewId, review);
    // The author's newest version wins over an edit the world had planned.
    loc.pendingEdits = loc.pendingEdits.filter((e) => e.reviewId !== review.reviewId);
    schedule(loc);
    const messageId =
      input.notify === false ? null : publish(loc, review.reviewId, existing ? 'UPDATED_REVIEW' : 'NEW_REVIEW');
    return c.json({ review: present(loc, review), messageId }, existing ? 200 : 201);
  });

  /** The author deleted the review: reads answer 404 from now on. */
  app.delete('/_reviews', (c) => {
    const parsed = reviewRef.safeParse(c.req.query());
    if (!parsed.success) return badControl(c, parsed.error);
    const loc = location(parsed.data.accountId, parsed.data.locationId);
    if (!loc.reviews.delete(parsed.data.reviewId)) return c.json({ error: 'no such review' }, 404);
    loc.pendingEdits = loc.pendingEdits.filter((e) => e.reviewId !== parsed.data.reviewId);
    schedule(loc);
    return c.json({ deleted: true });
  });

  app.post('/_notify', async (c) => {
    const parsed = reviewRef
      .extend({ type: z.enum(['NEW_REVIEW', 'UPDATED_REVIEW']).optional() })
      .safeParse(await jsonBody(c));
    if (!parsed.success) return badControl(c, parsed.error);
    const loc = location(parsed.data.accountId, parsed.data.locationId);
    if (!loc.reviews.has(parsed.data.reviewId)) return c.json({ error: 'no such review' }, 404);
    if (!push.endpoint) return c.json({ error: 'no push endpoint configured (POST /_config {pushEndpoint})' }, 409);
    return c.json({ messageId: publish(loc, parsed.data.reviewId, parsed.data.type ?? 'NEW_REVIEW') }, 202);
  });

  app.get('/_world', (c) =>
    c.json({
      now: iso(nowMs()),
      offsetMs,
      pendingEdits: [...locations.values()].flatMap((loc) =>
        loc.pendingEdits.map((e) => ({
          reviewName: `${locationName(loc)}/reviews/${e.reviewId}`,
          editTime: iso(e.atMs),
        })),
      ),
    }),
  );

  /** Moves the world's clock forward: edits that fall due are applied (and notified) now. */
  app.post('/_world/advance', async (c) => {
    const parsed = durationBody.safeParse(await jsonBody(c));
    if (!parsed.success) return badControl(c, parsed.error);
    const { hours = 0, minutes = 0, seconds = 0 } = parsed.data;
    offsetMs += Math.round(((hours * 60 + minutes) * 60 + seconds) * 1000);
    const edits = [...locations.values()].flatMap((loc) => {
      const done = settle(loc);
      schedule(loc);
      return done;
    });
    return c.json({ now: iso(nowMs()), offsetMs, edits });
  });

  app.post('/_config', async (c) => {
    const parsed = configBody.safeParse(await jsonBody(c));
    if (!parsed.success) return badControl(c, parsed.error);
    const body = parsed.data;
    if (body.pushEndpoint !== undefined) push.endpoint = body.pushEndpoint;
    if (body.audience !== undefined) push.audience = body.audience;
    if (body.pushRetries !== undefined) push.retries = body.pushRetries;
    if (body.pushRetryDelayMs !== undefined) push.retryDelayMs = body.pushRetryDelayMs;
    for (const [name, n] of Object.entries(body.failures ?? {})) {
      if (n !== undefined) failures[name as keyof Failures] = n;
    }
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

  app.get('/_deliveries', (c) => {
    const { messageId, reviewName } = c.req.query();
    return c.json({
      deliveries: deliveries.filter(
        (d) => (!messageId || d.messageId === messageId) && (!reviewName || d.reviewName === reviewName),
      ),
    });
  });

  return app;
}
