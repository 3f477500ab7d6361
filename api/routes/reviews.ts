/**
 * /v1/reviews: reviews submitted by external systems (other review sites, CRMs), the review queue and pages
 * the admin UI reads, and staff's decisions on a draft (approve, optionally edited; reject; regenerate), which
 * go to the review's triage workflow as its `decideReply` update. The workflow's validator is the authority on
 * whether a decision applies; its refusals come back as 409 (stale draft, nothing waiting) or 422.
 */
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { and, desc, eq, ilike, lt, or, type SQL } from 'drizzle-orm';
import { Hono } from 'hono';
import { z } from 'zod';
import { ingestReview } from '../../activities/reviewflow-ingest';
import { properties, REVIEW_SENTIMENTS, REVIEW_STATUSES, reviews, reviewTickets } from '../../db/schema';
import { isUuid, withTenant } from '../../db/tenancy';
import { decideReplyUpdate, MAX_REPLY_CHARS, type ReplyDecision } from '../../workflows/reviewflow';
import { actorOf, requireAuth, requirePermission, type AppContext, type AppDeps, type AppEnv } from '../context';
import { ApiError, notFound } from '../errors';
import { loadReviewDetail, presentReviewDetail, presentReviewListItem, reviewflowQueueOf } from '../reviews-shared';
import { requireJsonBody, validate } from '../validation';

/** Review sources are identifiers: yelp, apartments_com, zillow. `google` reviews come from connections. */
const REVIEW_SOURCE = /^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$/;

const createReviewBody = z
  .strictObject({
    propertyId: z.uuid({ message: 'must be a property id (uuid)' }),
    source: z
      .string()
      .max(64)
      .regex(REVIEW_SOURCE, 'must be lower_snake_case, e.g. yelp or apartments_com')
      .refine((s) => s !== 'google', 'Google reviews arrive through a Business Profile connection, not this endpoint'),
    externalId: z.string().trim().min(1, 'must not be empty').max(200),
    reviewerName: z.string().trim().max(200).nullable().optional(),
    rating: z.number().int('must be a whole number of stars').min(1).max(5).nullable().optional(),
    text: z.string().max(10_000).nullable().optional(),
    createdAt: z.iso.datetime({ offset: true }).optional(),
    updatedAt: z.iso.datetime({ offset: true }).optional(),
    url: z.url().max(2_000).optional(),
  })
  .refine((b) => (b.rating ?? null) !== null || Boolean(b.text?.trim()), {
    message: 'give a rating or a text (or both)',
    path: ['rating'],
  });

const listQuery = z.strictObject({
  propertyId: z.uuid().optional(),
  sentiment: z.enum(REVIEW_SENTIMENTS).optional(),
  urgent: z.enum(['true', 'false']).optional(),
  status: z.enum(REVIEW_STATUSES).optional(),
  source: z.string().max(64).regex(REVIEW_SOURCE, 'must be lower_snake_case').optional(),
  ticket: z.enum(['open', 'resolved']).optional(),
  q: z.string().trim().min(1).max(100).optional(),
  /** The id of the last review of the previous page (keyset on received_at, id). */
  cursor: z.uuid().optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

const draftSeq = z.number().int().min(1);
const approveBody = z.strictObject({
  draftSeq,
  text: z.string().trim().min(1, 'must not be empty').max(MAX_REPLY_CHARS).optional(),
});
const rejectBody = z.strictObject({ draftSeq, reason: z.string().trim().min(1, 'give a reason').max(500) });
const regenerateBody = z.strictObject({ draftSeq, instruction: z.string().trim().max(500).optional() });

function reviewParam(c: AppContext): string {
  const value = c.req.param('reviewId');
  if (!value || !isUuid(value)) throw notFound('Review');
  return value;
}

/** Mounted at /v1/reviews. */
export function createReviewRoutes(deps: AppDeps) {
  const now = deps.now ?? (() => new Date());

  async function detail(orgId: string, reviewId: string) {
    const loaded = await withTenant(deps.db, orgId, (tx) => loadReviewDetail(deps, tx, reviewId));
    return presentReviewDetail(deps, loaded);
  }

  async function decideOn(c: AppContext, decision: ReplyDecision) {
    const auth = requireAuth(c);
    const reviewId = reviewParam(c);
    const review = await withTenant(deps.db, auth.orgId, async (tx) => {
      const [row] = await tx.select().from(reviews).where(eq(reviews.id, reviewId));
      if (!row) throw notFound('Review');
      return row;
    });
    let result;
    try {
      result = await deps.temporal.workflow
        .getHandle(review.workflowId)
        .executeUpdate(decideReplyUpdate, { args: [decision] });
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) {
        throw new ApiError(409, 'not_awaiting_decision', `This review is ${review.status}, not waiting for a decision`);
      }
      if (err instanceof WorkflowUpdateFailedError) {
        const reason = (err.cause as Error | undefined)?.message ?? err.message;
        if (reason.startsWith('invalid_decision:')) throw new ApiError(422, 'invalid_decision', reason);
        if (reason.startsWith('stale_draft:')) throw new ApiError(409, 'stale_draft', reason);
        if (reason.startsWith('post_failed:')) throw new ApiError(502, 'post_failed', reason);
        throw new ApiError(409, 'not_awaiting_decision', reason);
      }
      // A closed run refuses updates with a plain gRPC error: the review is decided already.
      if (/workflow execution already completed|not found/i.test((err as Error).message)) {
        throw new ApiError(409, 'not_awaiting_decision', `This review is ${review.status}, not waiting for a decision`);
      }
      throw err;
    }
    return c.json({ result, review: await detail(auth.orgId, reviewId) });
  }

  return new Hono<AppEnv>()
    .post('/', requirePermission('reviews:write'), requireJsonBody(), validate('json', createReviewBody), async (c) => {
      const auth = requireAuth(c);
      const body = c.req.valid('json');
      const exists = await withTenant(deps.db, auth.orgId, async (tx) => {
        const [property] = await tx
          .select({ id: properties.id })
          .from(properties)
          .where(eq(properties.id, body.propertyId));
        return Boolean(property);
      });
      if (!exists) {
        throw new ApiError(422, 'unknown_property', `Property ${body.propertyId} is not in this organization`, {
          field: 'propertyId',
        });
      }
      const createdAt = body.createdAt ? new Date(body.createdAt) : now();
      const actor = actorOf(auth);
      const result = await ingestReview(
        {
          db: deps.db,
          temporal: deps.temporal,
          taskQueue: reviewflowQueueOf(deps),
          orgId: auth.orgId,
          actor: actor.actorLabel,
        },
        {
          propertyId: body.propertyId,
          source: body.source,
          externalId: body.externalId,
          sourceName: body.url ?? null,
          reviewerName: body.reviewerName?.trim() || null,
          rating: body.rating ?? null,
          text: body.text?.trim() ? body.text : null,
          createdAt,
          updatedAt: body.updatedAt ? new Date(body.updatedAt) : createdAt,
        },
      );
      const review = await withTenant(deps.db, auth.orgId, async (tx) => {
        const [row] = await tx
          .select({ review: reviews, propertyName: properties.name, ticket: reviewTickets })
          .from(reviews)
          .leftJoin(properties, eq(properties.id, reviews.propertyId))
          .leftJoin(reviewTickets, eq(reviewTickets.reviewId, reviews.id))
          .where(eq(reviews.id, result.reviewId));
        return presentReviewListItem(row!.review, row!.propertyName, row!.ticket);
      });
      return c.json(
        { review, created: result.created, updated: result.changed, workflowId: result.workflowId },
        result.created ? 201 : 200,
      );
    })

    .get('/', requirePermission('reviews:read'), validate('query', listQuery), async (c) => {
      const auth = requireAuth(c);
      const q = c.req.valid('query');
      const rows = await withTenant(deps.db, auth.orgId, async (tx) => {
        const where: (SQL | undefined)[] = [
          q.propertyId ? eq(reviews.propertyId, q.propertyId) : undefined,
          q.sentiment ? eq(reviews.sentiment, q.sentiment) : undefined,
          q.urgent ? eq(reviews.urgent, q.urgent === 'true') : undefined,
          q.status ? eq(reviews.status, q.status) : undefined,
          q.source ? eq(reviews.source, q.source) : undefined,
          q.ticket ? eq(reviewTickets.status, q.ticket) : undefined,
          q.q
            ? or(
                ilike(reviews.text, `%${q.q.replace(/[%_\\]/g, '\\$&')}%`),
                ilike(reviews.reviewerName, `%${q.q.replace(/[%_\\]/g, '\\$&')}%`),
              )
            : undefined,
        ];
        if (q.cursor) {
          const [after] = await tx
            .select({ receivedAt: reviews.receivedAt })
            .from(reviews)
            .where(eq(reviews.id, q.cursor));
          if (after) {
            where.push(
              or(
                lt(reviews.receivedAt, after.receivedAt),
                and(eq(reviews.receivedAt, after.receivedAt), lt(reviews.id, q.cursor)),
              ),
            );
          }
        }
        return tx
          .select({ review: reviews, propertyName: properties.name, ticket: reviewTickets })
          .from(reviews)
          .leftJoin(properties, eq(properties.id, reviews.propertyId))
          .leftJoin(reviewTickets, eq(reviewTickets.reviewId, reviews.id))
          .where(and(...where))
          .orderBy(desc(reviews.receivedAt), desc(reviews.id))
          .limit(q.limit + 1);
      });
      const page = rows.slice(0, q.limit);
      return c.json({
        reviews: page.map((r) => presentReviewListItem(r.review, r.propertyName, r.ticket)),
        nextCursor: rows.length > q.limit ? page[page.length - 1]!.review.id : null,
      });
    })

    .get('/:reviewId', requirePermission('reviews:read'), async (c) => {
      const auth = requireAuth(c);
      return c.json({ review: await detail(auth.orgId, reviewParam(c)) });
    })

    .post(
      '/:reviewId/approve',
      requirePermission('approvals:write'),
      requireJsonBody(),
      validate('json', approveBody),
      (c) => {
        const body = c.req.valid('json');
        return decideOn(c, {
          action: 'approve',
          draftSeq: body.draftSeq,
          ...(body.text !== undefined ? { text: body.text } : {}),
          by: actorOf(requireAuth(c)),
        });
      },
    )

    .post(
      '/:reviewId/reject',
      requirePermission('approvals:write'),
      requireJsonBody(),
      validate('json', rejectBody),
      (c) => {
        const body = c.req.valid('json');
        return decideOn(c, {
          action: 'reject',
          draftSeq: body.draftSeq,
          reason: body.reason,
          by: actorOf(requireAuth(c)),
        });
      },
    )

    .post(
      '/:reviewId/regenerate',
      requirePermission('approvals:write'),
      requireJsonBody(),
      validate('json', regenerateBody),
      (c) => {
        const body = c.req.valid('json');
        return decideOn(c, {
          action: 'regenerate',
          draftSeq: body.draftSeq,
          ...(body.instruction ? { instruction: body.instruction } : {}),
          by: actorOf(requireAuth(c)),
        });
      },
    );
}
