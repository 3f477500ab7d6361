/**
 * ReviewFlow AI's workflow contract: IDs, messages and shapes shared by the triage workflow
 * (workflows/reviewflow-triage.ts), the polling workflow (workflows/reviewflow-polling.ts), the API
 * (api/routes/reviews.ts, api/routes/reviewflow.ts, the Pub/Sub push route) and the admin UI.
 *
 * The approval here is the platform's model for every human approval: one update (`decideReply`) with a
 * validator that refuses stale or malformed decisions before they reach history; SLA durations as data
 * (reminder, escalation, expiry); an irreversible post done exactly once (written ahead as `posting`, an
 * uncertain outcome reconciled by reading the result back from the destination, never by posting again).
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { DurationString } from '../lib/duration';
import type { AuditActor } from '../db/audit';
import type { ReviewSentiment, ReviewStatus, ReviewTopic } from '../db/schema/reviewflow';

export const REVIEWFLOW_PRODUCT = 'reviewflow';

/**
 * One triage workflow per review, ever (an update re-triages the running one, or starts a new run under the same
 * ID once the last one closed). The organization is part of the ID because reviews submitted over the API carry
 * the submitter's own ids, which two organizations may share.
 */
export const reviewWorkflowId = (orgId: string, source: string, externalId: string) =>
  `review/${orgId}/${source}/${externalId}`;

/** The polling Schedule of a Business Profile connection, and the ID prefix of the runs it starts. */
export const reviewPollScheduleId = (connectionId: string) => `reviewflow/poll/${connectionId}`;

/** Idempotency key of a reply post: one reply at the source per (review revision, draft). */
export const replyPostKey = (workflowId: string, revision: number, draftSeq: number) =>
  `${workflowId}/reply/${revision}/${draftSeq}`;

/** What the triage needs at its start; everything else it reads with activities (and re-reads on updates). */
export interface ReviewTriageInput {
  orgId: string;
  reviewId: string;
  propertyId: string;
  source: string;
  externalId: string;
}

/** The analysis of seed 000 9.2, plus which analyser produced it. */
export interface ReviewAnalysis {
  sentiment: ReviewSentiment;
  topics: ReviewTopic[];
  urgent: boolean;
  /** 'llm:<model>' or 'local:<version>'. */
  analyzer: string;
}

/** An organization's routing and SLA, read by the triage each time it triages (a changed setting applies to the next triage). */
export interface ReviewflowPolicy {
  /** Positive reviews only: neutral and negative replies are never auto-posted, whatever this says. */
  autoReplyPositive: boolean;
  autoReplyDelay: DurationString;
  /** Counted from when the draft started waiting for a decision. */
  reminderAfter: DurationString;
  escalateAfter: DurationString;
  /** The draft expires (nothing is posted; a negative's ticket stays open). */
  expireAfter: DurationString;
}

export const REVIEWFLOW_DEFAULTS: ReviewflowPolicy = {
  autoReplyPositive: false,
  autoReplyDelay: '30m',
  reminderAfter: '24h',
  escalateAfter: '48h',
  expireAfter: '7d',
};

/**
 * Staff's decision on the pending draft. `draftSeq` is the draft they were shown: a decision on a draft that has
 * since been replaced (a regenerate, an updated review) is refused by the validator, so nobody approves text
 * they have not read.
 */
export type ReplyDecision =
  | {
      action: 'approve';
      draftSeq: number;
      /** Staff's edit; the draft's own text when absent. */ text?: string;
      by: AuditActor;
    }
  | { action: 'reject'; draftSeq: number; reason: string; by: AuditActor }
  | {
      action: 'regenerate';
      draftSeq: number;
      /** e.g. "mention the pool reopening in May" */ instruction?: string;
      by: AuditActor;
    };

export interface ReplyDecisionResult {
  status: ReviewStatus;
  /** The pending draft after the decision (a regenerate's new draft), when one is pending. */
  draft: { seq: number; text: string } | null;
  /** Set when an approval posted the reply. */
  postedText: string | null;
}

/** Longest reply Business Profile accepts (4,096 bytes); we hold drafts and edits to it for every source. */
export const MAX_REPLY_CHARS = 4_000;

/** An ingested review's content changed (new text or rating): re-triage; a pending draft is replaced. */
export interface ReviewChangedInput {
  revision: number;
}

export const reviewChangedSignal = defineSignal<[ReviewChangedInput]>('reviewChanged');
/** Approve (optionally edited), reject (with a reason) or regenerate (with an instruction) the pending draft. */
export const decideReplyUpdate = defineUpdate<ReplyDecisionResult, [ReplyDecision]>('decideReply');
export const reviewTriageStatusQuery = defineQuery<ReviewTriageStatus>('status');

export type ReviewTriageState =
  | 'analysing'
  /** A draft waits for staff. */
  | 'awaiting_approval'
  /** A positive review's reply auto-posts at `autoPostAt` unless staff decide first. */
  | 'scheduled'
  | 'posting'
  | 'done';

export interface ReviewTriageStatus {
  reviewId: string;
  state: ReviewTriageState;
  revision: number;
  analysis: ReviewAnalysis | null;
  /** The pending draft. */
  draft: { seq: number; text: string } | null;
  /** ISO times, while waiting. */
  autoPostAt: string | null;
  reminderAt: string | null;
  escalateAt: string | null;
  expireAt: string | null;
  remindersSent: number;
  escalated: boolean;
  /** Final review status once done. */
  outcome: ReviewStatus | null;
}

export interface ReviewTriageResult {
  reviewId: string;
  outcome: ReviewStatus;
  revision: number;
}

export interface ReviewPollInput {
  orgId: string;
  connectionId: string;
}

export interface ReviewPollResult {
  connectionId: string;
  /** Reviews listed at the source. */
  seen: number;
  /** New reviews handed to triage. */
  created: number;
  /** Reviews whose text or rating changed (their triage re-runs). */
  updated: number;
}
