/**
 * The one way a review enters ReviewFlow, whoever brings it: `POST /v1/reviews`, a Pub/Sub push from Business
 * Profile, or the 6-hourly poll. The review row is upserted by (organization, source, external id), and its
 * triage workflow is started or signalled with signal-with-start, so:
 * - a new review starts `review/<org>/<source>/<id>`;
 * - a changed review (new text or rating) bumps its revision and signals the running triage (it re-triages and
 *   replaces a pending draft), or starts a new run under the same ID when the last one closed;
 * - the same content again (a duplicate notification, a re-poll, a retried POST) changes nothing: one workflow.
 */
import { createHash } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { and, eq } from 'drizzle-orm';
import type { Database } from '../db/client';
import { properties, reviewEvents, reviews } from '../db/schema';
import { withTenant } from '../db/tenancy';
import { starRatingToNumber, type BusinessProfileReview } from '../integrations/business-profile';
import { searchAttributePairs } from '../workflows/search-attributes';
import {
  REVIEWFLOW_PRODUCT,
  reviewChangedSignal,
  reviewWorkflowId,
  type ReviewTriageInput,
  type ReviewTriageResult,
} from '../workflows/reviewflow';

export interface ReviewInput {
  propertyId: string;
  connectionId?: string | null;
  source: string;
  externalId: string;
  sourceName?: string | null;
  reviewerName: string | null;
  rating: number | null;
  text: string | null;
  createdAt: Date;
  updatedAt: Date;
  /** The reply already at the source (Business Profile), if any. */
  replyAtSource?: { text: string; updatedAt: Date } | null;
}

export interface IngestResult {
  reviewId: string;
  workflowId: string;
  created: boolean;
  changed: boolean;
  revision: number;
  /** A triage run was started or signalled. */
  started: boolean;
}

export interface IngestOptions {
  db: Database;
  temporal: Client;
  taskQueue: string;
  orgId: string;
  /** Who brought it, for the review's history: 'api:<key prefix>', 'pubsub', 'poll'. */
  actor: string;
}

type TriageWorkflow = (input: ReviewTriageInput) => Promise<ReviewTriageResult>;

/** Whitespace and case do not make a new revision; a changed word or star does. */
export function reviewContentHash(rating: number | null, text: string | null): string {
  const normalised = (text ?? '').replace(/\s+/g, ' ').trim();
  return createHash('sha256')
    .update(`${rating ?? '-'}\u0000${normalised}`)
    .digest('hex');
}

export function reviewInputFromBusinessProfile(
  connection: { id: string; propertyId: string },
  review: BusinessProfileReview,
): ReviewInput {
  const name = review.reviewer?.isAnonymous ? null : (review.reviewer?.displayName ?? null);
  return {
    propertyId: connection.propertyId,
    connectionId: connection.id,
    source: 'google',
    externalId: review.reviewId,
    sourceName: review.name,
    reviewerName: name,
    rating: starRatingToNumber(review.starRating),
    text: review.comment?.trim() ? review.comment : null,
    createdAt: new Date(review.createTime),
    updatedAt: new Date(review.updateTime),
    replyAtSource: review.reviewReply
      ? { text: review.reviewReply.comment, updatedAt: new Date(review.reviewReply.updateTime) }
      : null,
  };
}

export async function ingestReview(options: IngestOptions, input: ReviewInput): Promise<IngestResult> {
  const { db, orgId } = options;
  const workflowId = reviewWorkflowId(orgId, input.source, input.externalId);
  const contentHash = reviewContentHash(input.rating, input.text);

  const stored = await withTenant(db, orgId, async (tx) => {
    const [property] = await tx
      .select({ id: properties.id, name: properties.name })
      .from(properties)
      .where(eq(properties.id, input.propertyId));
    if (!property) throw new Error(`Property ${input.propertyId} is not in this organization`);
    const [existing] = await tx
      .select()
      .from(reviews)
      .where(and(eq(reviews.source, input.source), eq(reviews.externalId, input.externalId)))
      .for('update');
    const sourceReply = input.replyAtSource
      ? { replyText: input.replyAtSource.text, repliedAt: input.replyAtSource.updatedAt }
      : {};
    if (!existing) {
      const [row] = await tx
        .insert(reviews)
        .values({
          orgId,
          propertyId: input.propertyId,
          connectionId: input.connectionId ?? null,
          source: input.source,
          externalId: input.externalId,
          sourceName: input.sourceName ?? null,
          reviewerName: input.reviewerName,
          rating: input.rating,
          text: input.text,
          contentHash,
          reviewCreatedAt: input.createdAt,
          reviewUpdatedAt: input.updatedAt,
          workflowId,
          ...sourceReply,
        })
        .onConflictDoNothing()
        .returning();
      if (!row) throw new Error('The review was created concurrently; retry');
      await tx.insert(reviewEvents).values({
        orgId,
        reviewId: row.id,
        kind: 'received',
        actor: options.actor,
        details: { rating: input.rating, source: input.source },
        dedupeKey: `${workflowId}/received`,
      });
      return { row, created: true, changed: false, propertyName: property.name };
    }
    if (existing.contentHash === contentHash) {
      // Same words and stars: not a new revision. The source's times and its reply are still kept current.
      const replyMoved = input.replyAtSource && existing.replyText !== input.replyAtSource.text;
      if (replyMoved || existing.reviewUpdatedAt.getTime() !== input.updatedAt.getTime()) {
        await tx
          .update(reviews)
          .set({ reviewUpdatedAt: input.updatedAt, ...sourceReply, updatedAt: new Date() })
          .where(eq(reviews.id, existing.id));
      }
      return { row: existing, created: false, changed: false, propertyName: property.name };
    }
    const revision = existing.revision + 1;
    const [row] = await tx
      .update(reviews)
      .set({
        rating: input.rating,
        text: input.text,
        reviewerName: input.reviewerName ?? existing.reviewerName,
        contentHash,
        revision,
        reviewUpdatedAt: input.updatedAt,
        status: 'triaging',
        updatedAt: new Date(),
        ...sourceReply,
      })
      .where(eq(reviews.id, existing.id))
      .returning();
    await tx.insert(reviewEvents).values({
      orgId,
      reviewId: existing.id,
      kind: 'updated',
      actor: options.actor,
      details: { revision, rating: input.rating, previousRating: existing.rating },
      dedupeKey: `${workflowId}/updated/${revision}`,
    });
    return { row: row!, created: false, changed: true, propertyName: property.name };
  });

  const { row } = stored;
  const start = {
    workflowId,
    taskQueue: options.taskQueue,
    args: [{ orgId, reviewId: row.id, propertyId: row.propertyId, source: row.source, externalId: row.externalId }] as [
      ReviewTriageInput,
    ],
    typedSearchAttributes: searchAttributePairs({ orgId, product: REVIEWFLOW_PRODUCT, propertyId: row.propertyId }),
    memo: {
      summary: `${row.rating ? `${row.rating}★ ` : ''}${row.source} review by ${row.reviewerName ?? 'an anonymous reviewer'} of ${stored.propertyName}`,
    },
  };
  let started = false;
  if (stored.created || stored.changed) {
    await options.temporal.workflow.signalWithStart<TriageWorkflow, [{ revision: number }]>('reviewTriageWorkflow', {
      ...start,
      signal: reviewChangedSignal,
      signalArgs: [{ revision: row.revision }],
    });
    started = true;
  } else if (row.status === 'triaging') {
    // Stored but perhaps never handed over (a crash between the commit above and the start or signal): start it
    // now. A triage already running gets the revision again instead: harmless when it knew it, and the update it
    // missed when the crash came between a changed revision and its signal.
    try {
      await options.temporal.workflow.start<TriageWorkflow>('reviewTriageWorkflow', start);
      started = true;
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      await options.temporal.workflow
        .getHandle(workflowId)
        .signal(reviewChangedSignal, { revision: row.revision })
        .catch(() => undefined); // It closed in between: its final state is already on the row.
    }
  }
  return {
    reviewId: row.id,
    workflowId,
    created: stored.created,
    changed: stored.changed,
    revision: row.revision,
    started,
  };
}
