/**
 * What the ReviewFlow routers share: the review views of the API contract, the live triage status, and the
 * dependencies built from config when a test does not inject them.
 */
import { asc, desc, eq } from 'drizzle-orm';
import type { Transaction } from '../db/client';
import {
  properties,
  reviewDrafts,
  reviewEvents,
  reviewReplies,
  reviews,
  reviewTickets,
  type Review,
  type ReviewTicket,
} from '../db/schema';
import {
  createBusinessProfileClientFactory,
  type BusinessProfileClientFactory,
} from '../integrations/business-profile';
import { createPubSubPushVerifier, type PubSubPushVerifier } from '../integrations/pubsub-push';
import { workflowUiUrl } from '../temporal/client';
import { TASK_QUEUES } from '../temporal/task-queues';
import { reviewTriageStatusQuery, type ReviewTriageStatus } from '../workflows/reviewflow';
import type { AppDeps } from './context';
import { notFound } from './errors';

export const reviewflowQueueOf = (deps: AppDeps) => deps.reviewflowTaskQueue ?? TASK_QUEUES.reviewflow;

const businessProfileFactories = new WeakMap<AppDeps, BusinessProfileClientFactory>();
export function businessProfileOf(deps: AppDeps): BusinessProfileClientFactory {
  if (deps.businessProfile) return deps.businessProfile;
  let factory = businessProfileFactories.get(deps);
  if (!factory) {
    factory = createBusinessProfileClientFactory({
      apiUrl: deps.config.reviewflow.businessProfileUrl,
      tokenUrl: deps.config.adPlatforms.googleOAuthTokenUrl,
    });
    businessProfileFactories.set(deps, factory);
  }
  return factory;
}

const verifiers = new WeakMap<AppDeps, PubSubPushVerifier>();
export function pubsubVerifierOf(deps: AppDeps): PubSubPushVerifier {
  if (deps.pubsubVerifier) return deps.pubsubVerifier;
  let verifier = verifiers.get(deps);
  if (!verifier) {
    verifier = createPubSubPushVerifier({
      audience: deps.config.reviewflow.pubsubAudience,
      serviceAccountEmail: deps.config.reviewflow.pubsubServiceAccountEmail,
      certsUrl: deps.config.reviewflow.googleCertsUrl,
    });
    verifiers.set(deps, verifier);
  }
  return verifier;
}

type TicketSummary = Pick<ReviewTicket, 'id' | 'status' | 'priority'>;

export function presentReviewListItem(review: Review, propertyName: string | null, ticket: TicketSummary | null) {
  return {
    id: review.id,
    propertyId: review.propertyId,
    propertyName,
    source: review.source,
    externalId: review.externalId,
    reviewerName: review.reviewerName,
    rating: review.rating,
    text: review.text,
    sentiment: review.sentiment,
    topics: review.topics,
    urgent: review.urgent,
    status: review.status,
    revision: review.revision,
    receivedAt: review.receivedAt,
    reviewCreatedAt: review.reviewCreatedAt,
    reviewUpdatedAt: review.reviewUpdatedAt,
    decisionDueAt: review.decisionDueAt,
    autoPostAt: review.autoPostAt,
    replyText: review.replyText,
    repliedAt: review.repliedAt,
    repliedBy: review.repliedBy,
    ticket: ticket ? { id: ticket.id, status: ticket.status, priority: ticket.priority } : null,
    workflowId: review.workflowId,
  };
}

export type ReviewListItemView = ReturnType<typeof presentReviewListItem>;

/** The triage's live status, or null when the run has closed (or the server cannot be reached). */
export async function liveTriageStatus(deps: AppDeps, workflowId: string): Promise<ReviewTriageStatus | null> {
  try {
    const handle = deps.temporal.workflow.getHandle(workflowId);
    const description = await handle.describe();
    if (description.status.name !== 'RUNNING') return null;
    return await handle.query(reviewTriageStatusQuery);
  } catch {
    // Not found (never started, or past retention), closed between describe and query, or the server down: the
    // page still renders from the database, without live state.
    return null;
  }
}

export async function loadReviewDetail(deps: AppDeps, tx: Transaction, reviewId: string) {
  const [row] = await tx
    .select({ review: reviews, propertyName: properties.name, ticket: reviewTickets })
    .from(reviews)
    .leftJoin(properties, eq(properties.id, reviews.propertyId))
    .leftJoin(reviewTickets, eq(reviewTickets.reviewId, reviews.id))
    .where(eq(reviews.id, reviewId));
  if (!row) throw notFound('Review');
  const drafts = await tx
    .select()
    .from(reviewDrafts)
    .where(eq(reviewDrafts.reviewId, reviewId))
    .orderBy(asc(reviewDrafts.seq));
  const replies = await tx
    .select()
    .from(reviewReplies)
    .where(eq(reviewReplies.reviewId, reviewId))
    .orderBy(desc(reviewReplies.attemptedAt));
  const events = await tx
    .select()
    .from(reviewEvents)
    .where(eq(reviewEvents.reviewId, reviewId))
    .orderBy(asc(reviewEvents.at), asc(reviewEvents.id));
  return { ...row, drafts, replies, events };
}

export async function presentReviewDetail(deps: AppDeps, loaded: Awaited<ReturnType<typeof loadReviewDetail>>) {
  const { review, drafts, replies, events } = loaded;
  const status = await liveTriageStatus(deps, review.workflowId);
  const pending = drafts.find((d) => d.status === 'pending') ?? null;
  const { uiUrl, namespace } = deps.config.temporal;
  return {
    ...presentReviewListItem(review, loaded.propertyName, loaded.ticket),
    analyzer: review.analyzer,
    sourceName: review.sourceName,
    connectionId: review.connectionId,
    replyable: review.source === 'google' && review.connectionId !== null,
    pendingDraft: pending
      ? {
          seq: pending.seq,
          text: pending.text,
          generator: pending.generator,
          instruction: pending.instruction,
          createdAt: pending.createdAt,
        }
      : null,
    drafts: drafts.map((d) => ({
      seq: d.seq,
      text: d.text,
      generator: d.generator,
      templateKey: d.templateKey,
      instruction: d.instruction,
      status: d.status,
      reviewRevision: d.reviewRevision,
      createdAt: d.createdAt,
    })),
    replies: replies.map((r) => ({
      id: r.id,
      text: r.text,
      status: r.status,
      approvedBy: r.approvedBy,
      approvedAt: r.approvedAt,
      edited: r.edited,
      reconciled: r.reconciled,
      postedAt: r.postedAt,
      error: r.error,
    })),
    events: events.map((e) => ({ kind: e.kind, actor: e.actor, details: e.details, at: e.at })),
    workflow: { id: review.workflowId, url: workflowUiUrl(uiUrl, namespace, review.workflowId), status },
    canDecide:
      pending !== null &&
      (status?.state === 'awaiting_approval' || status?.state === 'scheduled') &&
      status.draft?.seq === pending.seq,
  };
}

export function presentTicket(
  ticket: ReviewTicket,
  propertyName: string | null,
  review: Pick<Review, 'rating' | 'reviewerName' | 'text' | 'sentiment' | 'status' | 'urgent'>,
) {
  return {
    id: ticket.id,
    reviewId: ticket.reviewId,
    propertyId: ticket.propertyId,
    propertyName,
    status: ticket.status,
    priority: ticket.priority,
    title: ticket.title,
    openedAt: ticket.openedAt,
    resolvedAt: ticket.resolvedAt,
    resolvedBy: ticket.resolvedBy,
    resolution: ticket.resolution,
    review: {
      rating: review.rating,
      reviewerName: review.reviewerName,
      text: review.text,
      sentiment: review.sentiment,
      status: review.status,
      urgent: review.urgent,
    },
  };
}
