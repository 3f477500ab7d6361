/**
 * One triage per review (`review/<org>/<source>/<externalId>`): analyse, draft, route, wait for a decision (or
 * the auto-post time), post exactly once. The model for every human approval on the platform:
 *
 * - Decisions arrive as one update, `decideReply`, whose validator refuses what cannot apply (no pending draft,
 *   a draft that has since been replaced, an empty edit) before anything enters history; the caller gets the
 *   outcome (the posted text, or the regenerated draft) as the update's result.
 * - Everything that changes the review runs in the main loop, one thing at a time: decisions queue in an inbox,
 *   so an approval can never race the auto-post or a re-triage.
 * - SLA as data: a reminder after `reminderAfter`, escalation to the org's admins after `escalateAfter`, expiry
 *   after `expireAfter`, all counted from when the draft started waiting. Tests run them in seconds.
 * - Positive reviews auto-post after `autoReplyDelay` when the organization enables it. Neutral and negative
 *   reviews are never auto-posted: `autoPostAllowed` is the only door to an unattended post, and it opens for
 *   'positive' only.
 * - An updated review (signal `reviewChanged`) supersedes the pending draft and re-triages; after a reply was
 *   posted, a newer revision re-triages too (its reply replaces the old one at the source).
 */
import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
// @temporalio/common is sandbox-safe (the workflow package uses it for its own durations).
import { msToNumber, type Duration } from '@temporalio/common';
import type { ReviewFlowActivities } from '../activities/reviewflow';
import type { ReviewSentiment, ReviewStatus } from '../db/schema/reviewflow';
import type { DurationString } from '../lib/duration';
import {
  decideReplyUpdate,
  MAX_REPLY_CHARS,
  replyPostKey,
  reviewChangedSignal,
  reviewTriageStatusQuery,
  type ReplyDecision,
  type ReplyDecisionResult,
  type ReviewAnalysis,
  type ReviewTriageInput,
  type ReviewTriageResult,
  type ReviewTriageState,
  type ReviewTriageStatus,
} from './reviewflow';

// Database reads and writes: idempotent, retried until the database answers.
const store = proxyActivities<ReviewFlowActivities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' },
});

// Analysis and drafting may call the LLM (they fall back to local models on its errors): a longer timeout, and
// retried because the fallback makes failures rare and the result is stored by key.
const thinking = proxyActivities<ReviewFlowActivities>({
  startToCloseTimeout: '2m',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '1m' },
});

// Emails and Slack: idempotent by key (SendGrid is asked before a resend); retried for a day's worth of outages.
const notifying = proxyActivities<ReviewFlowActivities>({
  startToCloseTimeout: '1m',
  retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '10m', maximumAttempts: 30 },
});

// The post is irreversible, but a retry never posts blindly: it reads the review back first (reconciliation).
// So it is safe to retry on timeouts and dead workers; the heartbeat timeout notices a worker that died mid-call.
const posting = proxyActivities<ReviewFlowActivities>({
  startToCloseTimeout: '1m',
  heartbeatTimeout: '20s',
  retry: {
    initialInterval: '2s',
    backoffCoefficient: 2,
    maximumInterval: '2m',
    maximumAttempts: 20,
    nonRetryableErrorTypes: ['ReviewReplyRejected'],
  },
});

/** A policy duration in ms, parsed as Temporal parses durations; a bad one fails the run instead of retrying forever. */
function ms(duration: DurationString): number {
  try {
    return msToNumber(duration as Duration);
  } catch {
    throw ApplicationFailure.nonRetryable(`Invalid duration "${duration}"`, 'InvalidDuration');
  }
}

/** The only way a reply is posted without a person: positive reviews, when the organization turned it on. */
function autoPostAllowed(sentiment: ReviewSentiment, autoReplyPositive: boolean, replyable: boolean): boolean {
  return sentiment === 'positive' && autoReplyPositive && replyable;
}

interface InboxEntry {
  decision: ReplyDecision;
  result?: ReplyDecisionResult;
  error?: string;
}

export interface ReviewTriageCarry {
  /** Draft sequence numbers continue across continue-as-new. */
  seq: number;
  latestRevision: number;
}

export async function reviewTriageWorkflow(
  input: ReviewTriageInput,
  carry: ReviewTriageCarry = { seq: 0, latestRevision: 0 },
): Promise<ReviewTriageResult> {
  const { orgId, reviewId } = input;
  const workflowId = workflowInfo().workflowId;

  let state: ReviewTriageState = 'analysing';
  let revision = 0;
  let latestRevision = carry.latestRevision;
  let seq = carry.seq;
  let analysis: ReviewAnalysis | null = null;
  let draft: { seq: number; text: string } | null = null;
  let outcome: ReviewStatus | null = null;
  let autoPostAt: number | null = null;
  let reminderAt: number | null = null;
  let escalateAt: number | null = null;
  let expireAt: number | null = null;
  let remindersSent = 0;
  let escalated = false;
  const inbox: InboxEntry[] = [];
  /** A decision is being carried out (a regenerate drafting, an approval posting): the next one waits its turn. */
  let deciding = false;

  const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());

  setHandler(reviewChangedSignal, ({ revision: changed }) => {
    latestRevision = Math.max(latestRevision, changed);
  });

  setHandler(reviewTriageStatusQuery, (): ReviewTriageStatus => ({
    reviewId,
    state,
    revision,
    analysis,
    draft,
    autoPostAt: iso(autoPostAt),
    reminderAt: iso(reminderAt),
    escalateAt: iso(escalateAt),
    expireAt: iso(expireAt),
    remindersSent,
    escalated,
    outcome,
  }));

  setHandler(
    decideReplyUpdate,
    async (decision): Promise<ReplyDecisionResult> => {
      const entry: InboxEntry = { decision };
      inbox.push(entry);
      await condition(() => entry.result !== undefined || entry.error !== undefined);
      if (entry.error) throw ApplicationFailure.nonRetryable(entry.error, 'DecisionRefused');
      return entry.result!;
    },
    {
      // Runs before the update is accepted: a refused decision leaves no trace in history.
      validator: (decision) => {
        if (!['approve', 'reject', 'regenerate'].includes(decision?.action)) {
          throw new Error(`invalid_decision: unknown action ${String((decision as { action: unknown })?.action)}`);
        }
        if (state !== 'awaiting_approval' && state !== 'scheduled') {
          throw new Error(`not_awaiting_decision: this review is ${outcome ?? state}, not waiting for a decision`);
        }
        if (inbox.length > 0 || deciding) {
          throw new Error('not_awaiting_decision: another decision is being processed');
        }
        if (!draft) throw new Error('not_awaiting_decision: there is no draft to decide on');
        if (!Number.isInteger(decision.draftSeq) || decision.draftSeq !== draft.seq) {
          throw new Error(
            `stale_draft: draft ${decision.draftSeq} was replaced by draft ${draft.seq}; review the new one`,
          );
        }
        if (!decision.by?.actorId) throw new Error('invalid_decision: who decided is missing');
        if (decision.action === 'approve' && decision.text !== undefined) {
          const text = decision.text.trim();
          if (!text) throw new Error('invalid_decision: the reply text is empty');
          if (text.length > MAX_REPLY_CHARS)
            throw new Error(`invalid_decision: the reply exceeds ${MAX_REPLY_CHARS} characters`);
        }
        if (decision.action === 'reject' && !decision.reason?.trim()) {
          throw new Error('invalid_decision: give a reason for rejecting');
        }
      },
    },
  );

  const mirror = (status: ReviewStatus, event?: Parameters<ReviewFlowActivities['markReviewState']>[0]['event']) =>
    store.markReviewState({
      orgId,
      reviewId,
      status,
      decisionDueAt: iso(expireAt),
      autoPostAt: iso(autoPostAt),
      event,
    });

  const refuseQueued = (message: string) => {
    for (const entry of inbox.splice(0)) entry.error = message;
  };

  /** Posts the current draft (or staff's edit): exactly once per (revision, draft). */
  async function post(text: string, approvedBy: string, edited: boolean): Promise<string | null> {
    state = 'posting';
    await mirror('posting');
    // A refusal (credentials revoked, text rejected) propagates: the caller hands the review back to staff.
    const posted = await posting.postReviewReply({
      orgId,
      reviewId,
      key: replyPostKey(workflowId, revision, draft!.seq),
      text,
      draftSeq: draft!.seq,
      approvedBy,
      edited,
    });
    outcome = 'replied';
    await store.finishReviewTriage({ orgId, reviewId, workflowId, revision, outcome });
    return posted.text;
  }

  let finished = false;
  while (!finished) {
    // 1. What is the review now (a newer revision may have arrived since the last pass)?
    const loaded = await store.loadReviewForTriage({ orgId, reviewId });
    revision = loaded.review.revision;
    latestRevision = Math.max(latestRevision, revision);
    const { policy, replyable } = loaded;
    state = 'analysing';
    outcome = null;
    draft = null;
    autoPostAt = reminderAt = escalateAt = expireAt = null;
    remindersSent = 0;
    escalated = false;

    if (loaded.answeredAtSource) {
      // Staff already replied on Google itself: nothing to draft or post (unless the review changes again).
      outcome = 'replied';
      await store.finishReviewTriage({ orgId, reviewId, workflowId, revision, outcome, repliedBy: 'source' });
      state = 'done';
      finished = latestRevision <= revision;
      continue;
    }

    // 2. Analyse and draft.
    analysis = await thinking.analyseReview({ orgId, reviewId, workflowId, revision });
    const drafted = await thinking.draftReviewReply({ orgId, reviewId, workflowId, revision, seq: ++seq });
    draft = { seq: drafted.seq, text: drafted.text };

    // 3. Route.
    if (analysis.sentiment === 'negative') {
      await store.openReviewTicket({ orgId, reviewId, workflowId });
      await notifying.notifyReviewStaff({
        orgId,
        reviewId,
        notice: 'negative',
        key: `${workflowId}/notify/negative/${revision}`,
      });
    }
    const waitStart = Date.now();
    if (autoPostAllowed(analysis.sentiment, policy.autoReplyPositive, replyable)) {
      state = 'scheduled';
      autoPostAt = waitStart + ms(policy.autoReplyDelay);
      await mirror('scheduled', {
        kind: 'auto_post_scheduled',
        key: `${workflowId}/auto/${revision}`,
        details: { at: iso(autoPostAt), delay: policy.autoReplyDelay },
      });
    } else {
      state = 'awaiting_approval';
      reminderAt = waitStart + ms(policy.reminderAfter);
      escalateAt = waitStart + ms(policy.escalateAfter);
      expireAt = waitStart + ms(policy.expireAfter);
      await mirror('awaiting_approval');
    }

    /** A post Business Profile refused (credentials revoked, text rejected) goes back to staff, on an SLA clock. */
    async function backToStaff(): Promise<void> {
      state = 'awaiting_approval';
      autoPostAt = null;
      if (expireAt === null) {
        reminderAt = Date.now() + ms(policy.reminderAfter);
        escalateAt = Date.now() + ms(policy.escalateAfter);
        expireAt = Date.now() + ms(policy.expireAfter);
      }
      await mirror('awaiting_approval');
    }

    /** Carries out one accepted decision on the current draft; its result or error goes back to the update. */
    async function decideOn(entry: InboxEntry): Promise<void> {
      const { decision } = entry;
      await store.recordReviewDecision({
        orgId,
        reviewId,
        workflowId,
        decision,
        key: `${workflowId}/decision/${revision}/${decision.draftSeq}/${decision.action}`,
      });
      if (decision.action === 'approve') {
        const text = decision.text?.trim() ?? draft!.text;
        const edited = decision.text !== undefined && text !== draft!.text.trim();
        if (!replyable) {
          // Nowhere to post it (a review submitted over the API): approved for staff to use at the source.
          outcome = 'not_replyable';
          await store.finishReviewTriage({
            orgId,
            reviewId,
            workflowId,
            revision,
            outcome,
            approvedBy: decision.by.actorLabel,
          });
          entry.result = { status: outcome, draft: null, postedText: null };
          finished = true;
          return;
        }
        try {
          const postedText = await post(text, decision.by.actorLabel, edited);
          entry.result = { status: 'replied', draft: null, postedText };
          finished = true;
        } catch (err) {
          // An ActivityFailure says only "activity failed"; the reason staff need is its cause's.
          const reason = (err as { cause?: Error }).cause?.message ?? (err as Error).message;
          entry.error = `post_failed: ${reason}`;
          await backToStaff();
        }
      } else if (decision.action === 'reject') {
        outcome = 'rejected';
        await store.finishReviewTriage({ orgId, reviewId, workflowId, revision, outcome });
        entry.result = { status: outcome, draft: null, postedText: null };
        finished = true;
      } else {
        const regenerated = await thinking.draftReviewReply({
          orgId,
          reviewId,
          workflowId,
          revision,
          seq: ++seq,
          instruction: decision.instruction ?? null,
          by: decision.by.actorLabel,
        });
        draft = { seq: regenerated.seq, text: regenerated.text };
        // A person has taken the review in hand: it waits for them now, not for the auto-post.
        if (state === 'scheduled') {
          state = 'awaiting_approval';
          autoPostAt = null;
          reminderAt = Date.now() + ms(policy.reminderAfter);
          escalateAt = Date.now() + ms(policy.escalateAfter);
          expireAt = Date.now() + ms(policy.expireAfter);
        }
        await mirror('awaiting_approval');
        entry.result = { status: 'awaiting_approval', draft, postedText: null };
      }
    }

    // 4. Wait for a decision, a newer revision, or the next deadline.
    let retriage = false;
    while (!finished && !retriage) {
      const deadlines = [
        state === 'scheduled' ? autoPostAt : null,
        state === 'awaiting_approval' && remindersSent === 0 ? reminderAt : null,
        state === 'awaiting_approval' && !escalated ? escalateAt : null,
        state === 'awaiting_approval' ? expireAt : null,
      ].filter((t): t is number => t !== null);
      const next = deadlines.length ? Math.min(...deadlines) : null;
      const wake = () => inbox.length > 0 || latestRevision > revision;
      const woke =
        next === null ? (await condition(wake), true) : await condition(wake, Math.max(1, next - Date.now()));
      if (latestRevision > revision) {
        refuseQueued('stale_draft: the review was updated; a new draft is being written');
        await store.markReviewState({
          orgId,
          reviewId,
          status: 'triaging',
          decisionDueAt: null,
          autoPostAt: null,
        });
        retriage = true;
        break;
      }
      if (woke && inbox.length > 0) {
        const entry = inbox.shift()!;
        const { decision } = entry;
        if (!draft || decision.draftSeq !== draft.seq) {
          // Accepted against a draft that was replaced before its turn came: never act on text nobody read.
          entry.error = `stale_draft: draft ${decision.draftSeq} was replaced by draft ${draft?.seq ?? 'none'}`;
          continue;
        }
        deciding = true;
        try {
          await decideOn(entry);
        } finally {
          deciding = false;
        }
        continue;
      }
      const now = Date.now();
      if (state === 'scheduled' && autoPostAt !== null && now >= autoPostAt) {
        try {
          await post(draft!.text, 'auto', false);
          finished = true;
        } catch {
          await backToStaff();
        }
        continue;
      }
      if (state !== 'awaiting_approval') continue;
      if (expireAt !== null && now >= expireAt) {
        outcome = 'expired';
        await store.finishReviewTriage({ orgId, reviewId, workflowId, revision, outcome });
        finished = true;
        continue;
      }
      if (escalateAt !== null && !escalated && now >= escalateAt) {
        escalated = true;
        await notifying.notifyReviewStaff({
          orgId,
          reviewId,
          notice: 'escalation',
          key: `${workflowId}/notify/escalation/${revision}/${draft!.seq}`,
        });
      }
      if (reminderAt !== null && remindersSent === 0 && now >= reminderAt) {
        remindersSent++;
        await notifying.notifyReviewStaff({
          orgId,
          reviewId,
          notice: 'reminder',
          key: `${workflowId}/notify/reminder/${revision}/${draft!.seq}`,
        });
      }
    }

    if (finished) {
      state = 'done';
      // A newer revision that arrived while posting or deciding re-triages (its reply replaces this one).
      if (latestRevision > revision) finished = false;
    }
    if (!finished && workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      return continueAsNew<typeof reviewTriageWorkflow>(input, { seq, latestRevision });
    }
  }

  state = 'done';
  await condition(allHandlersFinished);
  return { reviewId, outcome: outcome ?? 'replied', revision };
}
