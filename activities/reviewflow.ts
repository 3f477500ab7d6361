/**
 * ReviewFlow's activities: what the triage workflow (workflows/reviewflow-triage.ts) and the polling workflow do
 * to the database, Business Profile, SendGrid and Slack. Every side effect is idempotent by a key derived from
 * the workflow ID and the step:
 * - a reply is posted exactly once: the `review_replies` row is written as `posting` before Business Profile is
 *   called, and a retry that finds it reads the review back and posts only if our reply is not there;
 * - an email carries its key to SendGrid and a retry asks SendGrid's activity API first; a Slack post is
 *   recorded before it is sent (at most once: Slack has no way to ask);
 * - events, drafts and tickets are unique by key, review or sequence number.
 */
import { ApplicationFailure, Context, log } from '@temporalio/activity';
import { and, desc, eq, inArray, ne } from 'drizzle-orm';
import { recordAudit, SYSTEM_ACTOR } from '../db/audit';
import type { Database, Transaction } from '../db/client';
import {
  memberships,
  properties,
  reviewConnections,
  reviewDrafts,
  reviewEvents,
  reviewflowPersonas,
  reviewflowSettings,
  reviewReplies,
  reviews,
  reviewTickets,
  users,
  type Review,
  type ReviewEventKind,
  type ReviewStatus,
} from '../db/schema';
import { withTenant } from '../db/tenancy';
import {
  BusinessProfileAuthError,
  BusinessProfileRequestError,
  type BusinessProfileClientFactory,
  type BusinessProfileCredentials,
} from '../integrations/business-profile';
import type { EmailSender } from '../integrations/email';
import type { ChatModel } from '../integrations/llm';
import type { SlackNotifier } from '../integrations/slack';
import type { Encryptor } from '../lib/crypto';
import { durationToMs, type DurationString } from '../lib/duration';
import {
  REVIEWFLOW_DEFAULTS,
  type ReplyDecision,
  type ReviewAnalysis,
  type ReviewflowPolicy,
  type ReviewPollInput,
  type ReviewPollResult,
} from '../workflows/reviewflow';
import { reviewAnalyserFor } from './reviewflow-analysis';
import { replyDrafterFor, type ReviewPersona } from './reviewflow-drafts';
import { ingestReview, reviewInputFromBusinessProfile } from './reviewflow-ingest';

export interface ReviewFlowActivityDeps {
  db: Database;
  encryptor: Encryptor;
  email: EmailSender;
  slack: SlackNotifier;
  businessProfile: BusinessProfileClientFactory;
  chatModel: ChatModel | null;
  /** Links in emails: `${publicUrl}/admin/reviews/<reviewId>`. */
  publicUrl: string;
  /** Task queue triage runs on (a poll starts triage for what it finds). */
  reviewflowTaskQueue: string;
  now?: () => Date;
  /** How far SendGrid's activity API may trail a send (see config.email.activityLag). */
  emailActivityLag?: DurationString;
}

export interface LoadedReview {
  review: {
    id: string;
    propertyId: string;
    propertyName: string;
    source: string;
    reviewerName: string | null;
    rating: number | null;
    text: string | null;
    revision: number;
  };
  /** Replies can be posted back (a Business Profile review of a connected location). */
  replyable: boolean;
  /** The source already shows a reply the platform did not post (staff answered on Google directly). */
  answeredAtSource: boolean;
  policy: ReviewflowPolicy;
}

export interface DraftInput {
  orgId: string;
  reviewId: string;
  workflowId: string;
  revision: number;
  seq: number;
  instruction?: string | null;
  /** Who asked for it (a regenerate). */
  by?: string | null;
}

export type StaffNotice = 'negative' | 'reminder' | 'escalation';

export interface PostReplyInput {
  orgId: string;
  reviewId: string;
  key: string;
  text: string;
  draftSeq: number;
  /** 'auto' or the approver's label. */
  approvedBy: string;
  edited: boolean;
}

export interface PostReplyResult {
  replyId: string;
  text: string;
  reconciled: boolean;
}

/** Error types the triage's post treats as permanent (the reply goes back to staff with the reason). */
export const REPLY_POST_FAILURE = 'ReviewReplyRejected';

const RECONCILE_MARGIN_MS = 60_000;

async function loadReviewRow(tx: Transaction, reviewId: string): Promise<Review> {
  const [row] = await tx.select().from(reviews).where(eq(reviews.id, reviewId));
  if (!row) throw ApplicationFailure.nonRetryable(`Review ${reviewId} not found`, 'ReviewNotFound');
  return row;
}

async function recordEvent(
  tx: Transaction,
  orgId: string,
  reviewId: string,
  kind: ReviewEventKind,
  actor: string,
  dedupeKey: string,
  details: Record<string, unknown> = {},
) {
  await tx.insert(reviewEvents).values({ orgId, reviewId, kind, actor, details, dedupeKey }).onConflictDoNothing();
}

export function createReviewFlowActivities(deps: ReviewFlowActivityDeps) {
  const { db } = deps;
  const now = deps.now ?? (() => new Date());
  const analyser = reviewAnalyserFor(deps.chatModel);
  const drafter = replyDrafterFor(deps.chatModel);
  const reviewLink = (reviewId: string) => `${deps.publicUrl}/admin/reviews/${reviewId}`;

  async function personaOf(
    tx: Transaction,
    propertyId: string,
  ): Promise<ReviewPersona & { managerEmail: string | null }> {
    const [property] = await tx.select().from(properties).where(eq(properties.id, propertyId));
    const [custom] = await tx.select().from(reviewflowPersonas).where(eq(reviewflowPersonas.propertyId, propertyId));
    const name = property?.name ?? 'our community';
    const officeContact = [property?.contactPhone, property?.contactEmail].filter(Boolean).join(' or ');
    return {
      propertyName: name,
      signature: custom?.signature ?? `The ${name} Team`,
      tone: custom?.tone ?? 'warm',
      contactLine:
        custom?.contactLine ??
        (officeContact ? `Please reach out to our office at ${officeContact} so we can help directly.` : null),
      managerEmail: custom?.managerEmail ?? property?.contactEmail ?? null,
    };
  }

  async function memberEmails(tx: Transaction, roles: ('admin' | 'manager')[]): Promise<string[]> {
    const rows = await tx
      .select({ email: users.email })
      .from(memberships)
      .innerJoin(users, eq(users.id, memberships.userId))
      .where(inArray(memberships.role, roles));
    return [...new Set(rows.map((r) => r.email))];
  }

  async function connectionClient(tx: Transaction, connectionId: string) {
    const [connection] = await tx.select().from(reviewConnections).where(eq(reviewConnections.id, connectionId));
    if (!connection) return null;
    const credentials = JSON.parse(
      deps.encryptor.decrypt(connection.credentialsCiphertext),
    ) as BusinessProfileCredentials;
    return {
      connection,
      client: deps.businessProfile(credentials),
      location: { accountId: connection.accountId, locationId: connection.locationId },
    };
  }

  /** Sends once per key: a retry whose earlier attempt may have reached SendGrid asks SendGrid first. */
  async function sendEmailOnce(
    orgId: string,
    reviewId: string,
    kind: ReviewEventKind,
    key: string,
    message: { to: string[]; subject: string; text: string },
  ) {
    const startedAt = now();
    if (message.to.length === 0) {
      // Nobody to tell (no manager email, no members): the history still shows the notice was due.
      await withTenant(db, orgId, (tx) =>
        recordEvent(tx, orgId, reviewId, kind, 'system', key, { to: [], status: 'no_recipients' }),
      );
      return false;
    }
    const existing = await withTenant(db, orgId, async (tx) => {
      const [row] = await tx.select().from(reviewEvents).where(eq(reviewEvents.dedupeKey, key));
      if (!row) {
        await tx.insert(reviewEvents).values({
          orgId,
          reviewId,
          kind,
          actor: 'system',
          details: { to: message.to, subject: message.subject, status: 'sending' },
          dedupeKey: key,
          at: startedAt,
        });
      }
      return row ?? null;
    });
    if (existing?.details.status === 'sent') return true;
    if (existing) {
      const lagMs = durationToMs(deps.emailActivityLag ?? '0s');
      if (now().getTime() - existing.at.getTime() < lagMs) {
        throw new Error(`Email ${key} may still appear in SendGrid's activity; retrying later`);
      }
      const found = await deps.email.findSent({
        idempotencyKey: key,
        since: new Date(existing.at.getTime() - RECONCILE_MARGIN_MS),
      });
      if (found) {
        await markEventSent(orgId, key);
        return true;
      }
    }
    await deps.email.send({ ...message, idempotencyKey: key, category: 'reviewflow' });
    await markEventSent(orgId, key);
    return true;
  }

  async function markEventSent(orgId: string, key: string) {
    await withTenant(db, orgId, async (tx) => {
      const [row] = await tx.select().from(reviewEvents).where(eq(reviewEvents.dedupeKey, key));
      if (row) {
        await tx
          .update(reviewEvents)
          .set({ details: { ...row.details, status: 'sent' } })
          .where(eq(reviewEvents.id, row.id));
      }
    });
  }

  return {
    async loadReviewForTriage(input: { orgId: string; reviewId: string }): Promise<LoadedReview> {
      return withTenant(db, input.orgId, async (tx) => {
        const review = await loadReviewRow(tx, input.reviewId);
        const [property] = await tx
          .select({ name: properties.name })
          .from(properties)
          .where(eq(properties.id, review.propertyId));
        const [settings] = await tx.select().from(reviewflowSettings);
        const ours = await tx
          .select({ text: reviewReplies.text })
          .from(reviewReplies)
          .where(and(eq(reviewReplies.reviewId, review.id), eq(reviewReplies.status, 'posted')));
        // A reply at the source that we did not post, written after this version of the review: staff answered
        // it on Google directly. A reply older than the review's last edit answered an earlier version.
        const sourceReply = review.replyText?.trim() ?? null;
        const answeredAtSource =
          sourceReply !== null &&
          sourceReply !== '' &&
          !ours.some((reply) => reply.text.trim() === sourceReply) &&
          (review.repliedAt === null || review.repliedAt.getTime() >= review.reviewUpdatedAt.getTime());
        return {
          review: {
            id: review.id,
            propertyId: review.propertyId,
            propertyName: property?.name ?? 'the property',
            source: review.source,
            reviewerName: review.reviewerName,
            rating: review.rating,
            text: review.text,
            revision: review.revision,
          },
          replyable: review.source === 'google' && review.connectionId !== null,
          answeredAtSource,
          policy: settings
            ? {
                autoReplyPositive: settings.autoReplyPositive,
                autoReplyDelay: settings.autoReplyDelay,
                reminderAfter: settings.reminderAfter,
                escalateAfter: settings.escalateAfter,
                expireAfter: settings.expireAfter,
              }
            : REVIEWFLOW_DEFAULTS,
        };
      });
    },

    async analyseReview(input: {
      orgId: string;
      reviewId: string;
      workflowId: string;
      revision: number;
    }): Promise<ReviewAnalysis> {
      const review = await withTenant(db, input.orgId, (tx) => loadReviewRow(tx, input.reviewId));
      const analysis = await analyser.analyse({ rating: review.rating, text: review.text });
      await withTenant(db, input.orgId, async (tx) => {
        await tx
          .update(reviews)
          .set({
            sentiment: analysis.sentiment,
            topics: analysis.topics,
            urgent: analysis.urgent,
            analyzer: analysis.analyzer,
            updatedAt: now(),
          })
          .where(eq(reviews.id, input.reviewId));
        await recordEvent(
          tx,
          input.orgId,
          input.reviewId,
          'analysed',
          analysis.analyzer,
          `${input.workflowId}/analysed/${input.revision}`,
          {
            revision: input.revision,
            sentiment: analysis.sentiment,
            topics: analysis.topics,
            urgent: analysis.urgent,
          },
        );
      });
      return analysis;
    },

    /** Idempotent by (review, seq): a retry returns the draft the first attempt wrote. */
    async draftReviewReply(input: DraftInput): Promise<{ seq: number; text: string; generator: string }> {
      const context = await withTenant(db, input.orgId, async (tx) => {
        const [existing] = await tx
          .select()
          .from(reviewDrafts)
          .where(and(eq(reviewDrafts.reviewId, input.reviewId), eq(reviewDrafts.seq, input.seq)));
        if (existing) return { existing };
        const review = await loadReviewRow(tx, input.reviewId);
        const persona = await personaOf(tx, review.propertyId);
        // The property's recent drafts, this review's own included, newest first: the next must differ from them.
        const recent = await tx
          .select({ text: reviewDrafts.text, templateKey: reviewDrafts.templateKey })
          .from(reviewDrafts)
          .innerJoin(reviews, eq(reviews.id, reviewDrafts.reviewId))
          .where(eq(reviews.propertyId, review.propertyId))
          .orderBy(desc(reviewDrafts.createdAt))
          .limit(5);
        return { review, persona, recent };
      });
      if ('existing' in context && context.existing) {
        return { seq: context.existing.seq, text: context.existing.text, generator: context.existing.generator };
      }
      const { review, persona, recent } = context as Exclude<typeof context, { existing: unknown }>;
      const analysis: ReviewAnalysis = {
        sentiment: review.sentiment ?? 'neutral',
        topics: review.topics,
        urgent: review.urgent,
        analyzer: review.analyzer ?? 'unknown',
      };
      const drafted = await drafter.draft({
        review: { reviewerName: review.reviewerName, rating: review.rating, text: review.text },
        analysis,
        persona,
        recent,
        instruction: input.instruction ?? null,
        seed: `${input.workflowId}/${input.seq}`,
      });
      return withTenant(db, input.orgId, async (tx) => {
        const [row] = await tx
          .insert(reviewDrafts)
          .values({
            orgId: input.orgId,
            reviewId: input.reviewId,
            reviewRevision: input.revision,
            seq: input.seq,
            text: drafted.text,
            generator: drafted.generator,
            templateKey: drafted.templateKey,
            instruction: input.instruction ?? null,
            createdAt: now(),
          })
          .onConflictDoNothing()
          .returning();
        if (!row) {
          const [raced] = await tx
            .select()
            .from(reviewDrafts)
            .where(and(eq(reviewDrafts.reviewId, input.reviewId), eq(reviewDrafts.seq, input.seq)));
          return { seq: raced!.seq, text: raced!.text, generator: raced!.generator };
        }
        await tx
          .update(reviewDrafts)
          .set({ status: 'superseded' })
          .where(
            and(
              eq(reviewDrafts.reviewId, input.reviewId),
              eq(reviewDrafts.status, 'pending'),
              ne(reviewDrafts.seq, input.seq),
            ),
          );
        await recordEvent(
          tx,
          input.orgId,
          input.reviewId,
          // A regenerate's decision is its own 'regenerated' event (recordReviewDecision); this is the draft it produced.
          'drafted',
          input.by ?? drafted.generator,
          `${input.workflowId}/draft/${input.seq}`,
          { seq: input.seq, generator: drafted.generator, instruction: input.instruction ?? null },
        );
        return { seq: row.seq, text: row.text, generator: row.generator };
      });
    },

    /** Mirrors the triage's state on the review row (lists, filters, the report). */
    async markReviewState(input: {
      orgId: string;
      reviewId: string;
      status: ReviewStatus;
      decisionDueAt: string | null;
      autoPostAt: string | null;
      event?: { kind: ReviewEventKind; key: string; details?: Record<string, unknown> };
    }): Promise<void> {
      await withTenant(db, input.orgId, async (tx) => {
        await tx
          .update(reviews)
          .set({
            status: input.status,
            decisionDueAt: input.decisionDueAt ? new Date(input.decisionDueAt) : null,
            autoPostAt: input.autoPostAt ? new Date(input.autoPostAt) : null,
            updatedAt: now(),
          })
          .where(eq(reviews.id, input.reviewId));
        if (input.event) {
          await recordEvent(
            tx,
            input.orgId,
            input.reviewId,
            input.event.kind,
            'system',
            input.event.key,
            input.event.details,
          );
        }
      });
    },

    /** One ticket per review, ever: a re-triage or a retry finds the first. */
    async openReviewTicket(input: {
      orgId: string;
      reviewId: string;
      workflowId: string;
    }): Promise<{ ticketId: string }> {
      return withTenant(db, input.orgId, async (tx) => {
        const review = await loadReviewRow(tx, input.reviewId);
        const topics = review.topics.length ? ` (${review.topics.slice(0, 3).join(', ')})` : '';
        const [created] = await tx
          .insert(reviewTickets)
          .values({
            orgId: input.orgId,
            reviewId: review.id,
            propertyId: review.propertyId,
            priority: review.urgent ? 'urgent' : 'normal',
            title: `${review.rating ? `${review.rating}★ ` : ''}review by ${review.reviewerName ?? 'an anonymous reviewer'}${topics}`,
            openedAt: now(),
          })
          .onConflictDoNothing()
          .returning();
        if (created) {
          await recordEvent(tx, input.orgId, review.id, 'ticket_opened', 'system', `${input.workflowId}/ticket`, {
            ticketId: created.id,
            priority: created.priority,
          });
          return { ticketId: created.id };
        }
        const [existing] = await tx.select().from(reviewTickets).where(eq(reviewTickets.reviewId, review.id));
        // A review that turned negative again after its ticket was resolved reopens it.
        if (existing && existing.status === 'resolved') {
          await tx
            .update(reviewTickets)
            .set({ status: 'open', resolvedAt: null, resolvedBy: null, updatedAt: now() })
            .where(eq(reviewTickets.id, existing.id));
        }
        return { ticketId: existing!.id };
      });
    },

    /**
     * Emails the people who must act (the property manager; the org's admins on escalation) and posts to Slack
     * when the organization configured a webhook (negative reviews and escalations). Once per key.
     */
    async notifyReviewStaff(input: {
      orgId: string;
      reviewId: string;
      notice: StaffNotice;
      key: string;
    }): Promise<{ emailed: string[]; slack: boolean }> {
      const context = await withTenant(db, input.orgId, async (tx) => {
        const review = await loadReviewRow(tx, input.reviewId);
        const persona = await personaOf(tx, review.propertyId);
        const [settings] = await tx.select().from(reviewflowSettings);
        let to: string[];
        if (input.notice === 'escalation') to = await memberEmails(tx, ['admin']);
        else if (persona.managerEmail) to = [persona.managerEmail];
        else {
          to = await memberEmails(tx, ['manager']);
          if (to.length === 0) to = await memberEmails(tx, ['admin']);
        }
        const [pending] = await tx
          .select()
          .from(reviewDrafts)
          .where(and(eq(reviewDrafts.reviewId, review.id), eq(reviewDrafts.status, 'pending')));
        return {
          review,
          persona,
          to,
          slackCiphertext: settings?.slackWebhookCiphertext ?? null,
          draft: pending?.text ?? null,
        };
      });
      const { review, persona, to } = context;
      const stars = review.rating ? `${review.rating}★` : 'unrated';
      const what = {
        negative: `${review.urgent ? 'URGENT ' : ''}negative review needs a reply`,
        reminder: 'a review reply is waiting for approval',
        escalation: 'a review reply is overdue for approval',
      }[input.notice];
      const subject = `${persona.propertyName}: ${what} (${stars}, ${review.reviewerName ?? 'anonymous'})`;
      const text = [
        `${review.reviewerName ?? 'An anonymous reviewer'} left a ${stars} ${review.source} review of ${persona.propertyName}:`,
        '',
        review.text ?? '(no text)',
        '',
        `Sentiment: ${review.sentiment ?? 'unknown'}${review.urgent ? ' (urgent)' : ''}; topics: ${review.topics.join(', ') || 'none'}.`,
        context.draft ? `\nDraft reply waiting for approval:\n${context.draft}` : '',
        '',
        `Approve, edit, regenerate or reject it: ${reviewLink(review.id)}`,
      ].join('\n');
      const kind = ({ negative: 'manager_notified', reminder: 'reminder_sent', escalation: 'escalated' } as const)[
        input.notice
      ];
      await sendEmailOnce(input.orgId, review.id, kind, `${input.key}/email`, { to, subject, text });

      let slack = false;
      if (context.slackCiphertext && input.notice !== 'reminder') {
        const slackKey = `${input.key}/slack`;
        // Recorded first: Slack cannot be asked whether a message arrived, so a retry never posts twice.
        const first = await withTenant(db, input.orgId, async (tx) => {
          const inserted = await tx
            .insert(reviewEvents)
            .values({
              orgId: input.orgId,
              reviewId: review.id,
              kind: 'slack_notified',
              actor: 'system',
              details: { notice: input.notice },
              dedupeKey: slackKey,
            })
            .onConflictDoNothing()
            .returning({ id: reviewEvents.id });
          return inserted.length > 0;
        });
        if (first) {
          try {
            await deps.slack.post(deps.encryptor.decrypt(context.slackCiphertext), {
              text: `*${subject}*\n>${(review.text ?? '(no text)').slice(0, 500)}\n<${reviewLink(review.id)}|Open in P11 Console>`,
            });
            slack = true;
          } catch (err) {
            // At most once: a failed Slack post is recorded, not retried; the email is the channel that must arrive.
            log.warn('Slack notification failed', { error: (err as Error).message });
            await withTenant(db, input.orgId, (tx) =>
              tx
                .update(reviewEvents)
                .set({ details: { notice: input.notice, error: (err as Error).message } })
                .where(eq(reviewEvents.dedupeKey, slackKey)),
            );
          }
        }
      }
      return { emailed: to, slack };
    },

    /** Who decided what and when: the review's history and the audit log, in one transaction. */
    async recordReviewDecision(input: {
      orgId: string;
      reviewId: string;
      workflowId: string;
      decision: ReplyDecision;
      key: string;
    }): Promise<void> {
      const { decision } = input;
      await withTenant(db, input.orgId, async (tx) => {
        const [already] = await tx
          .select({ id: reviewEvents.id })
          .from(reviewEvents)
          .where(eq(reviewEvents.dedupeKey, input.key));
        if (already) return;
        const kind =
          decision.action === 'approve' ? 'approved' : decision.action === 'reject' ? 'rejected' : 'regenerated';
        const details: Record<string, unknown> = { draftSeq: decision.draftSeq };
        if (decision.action === 'approve') {
          // Edited means the text differs from the draft staff were shown, not merely that a text was sent.
          const [shown] = await tx
            .select({ text: reviewDrafts.text })
            .from(reviewDrafts)
            .where(and(eq(reviewDrafts.reviewId, input.reviewId), eq(reviewDrafts.seq, decision.draftSeq)));
          details.edited = decision.text !== undefined && decision.text.trim() !== shown?.text.trim();
        }
        if (decision.action === 'approve' && decision.text !== undefined) details.text = decision.text;
        if (decision.action === 'reject') details.reason = decision.reason;
        if (decision.action === 'regenerate') details.instruction = decision.instruction ?? null;
        await recordEvent(
          tx,
          input.orgId,
          input.reviewId,
          kind === 'regenerated' ? 'regenerated' : kind,
          decision.by.actorLabel,
          input.key,
          details,
        );
        await recordAudit(tx, input.orgId, decision.by, {
          action: `review.reply_${kind}`,
          targetType: 'review',
          targetId: input.reviewId,
          details,
        });
        if (decision.action === 'reject') {
          await tx
            .update(reviewDrafts)
            .set({ status: 'rejected' })
            .where(and(eq(reviewDrafts.reviewId, input.reviewId), eq(reviewDrafts.seq, decision.draftSeq)));
        }
      });
    },

    /**
     * Posts the reply to Business Profile exactly once per key. Written ahead as `posting`; a retry that finds
     * that row reads the review back: our text there means the earlier call worked (reconciled), anything else
     * means it did not, and only then is it posted again. Timeouts are retried (the retry reconciles); rejected
     * credentials or text are permanent.
     */
    async postReviewReply(input: PostReplyInput): Promise<PostReplyResult> {
      const attemptAt = now();
      const prepared = await withTenant(db, input.orgId, async (tx) => {
        const review = await loadReviewRow(tx, input.reviewId);
        if (!review.connectionId) {
          throw ApplicationFailure.nonRetryable(
            'This review has no Business Profile connection to reply through',
            REPLY_POST_FAILURE,
          );
        }
        const [draft] = await tx
          .select({ id: reviewDrafts.id })
          .from(reviewDrafts)
          .where(and(eq(reviewDrafts.reviewId, review.id), eq(reviewDrafts.seq, input.draftSeq)));
        const [inserted] = await tx
          .insert(reviewReplies)
          .values({
            orgId: input.orgId,
            reviewId: review.id,
            idempotencyKey: input.key,
            draftId: draft?.id ?? null,
            text: input.text,
            status: 'posting',
            approvedBy: input.approvedBy,
            approvedAt: attemptAt,
            edited: input.edited,
            attemptedAt: attemptAt,
          })
          .onConflictDoNothing()
          .returning();
        let [row] = inserted
          ? [inserted]
          : await tx.select().from(reviewReplies).where(eq(reviewReplies.idempotencyKey, input.key));
        if (row?.status === 'failed') {
          // Google refused it last time (credentials, text) and staff approved again, perhaps with other words:
          // this attempt posts the new text. Still not fresh: an earlier timed-out attempt may have landed, so
          // the read-back below decides.
          [row] = await tx
            .update(reviewReplies)
            .set({
              text: input.text,
              status: 'posting',
              approvedBy: input.approvedBy,
              approvedAt: attemptAt,
              edited: input.edited,
              error: null,
              attemptedAt: attemptAt,
            })
            .where(eq(reviewReplies.id, row.id))
            .returning();
        }
        const target = await connectionClient(tx, review.connectionId);
        return { review, row: row!, fresh: Boolean(inserted), target };
      });
      const { review, row, target } = prepared;
      if (row.status === 'posted') return { replyId: row.id, text: row.text, reconciled: row.reconciled };
      if (!target)
        throw ApplicationFailure.nonRetryable('The Business Profile connection was deleted', REPLY_POST_FAILURE);

      let reconciled = false;
      try {
        if (!prepared.fresh) {
          // An earlier attempt's outcome is unknown: ask the source before posting again.
          const atSource = await target.client.getReview(target.location, review.externalId);
          if (!atSource)
            throw ApplicationFailure.nonRetryable('The review was deleted at the source', REPLY_POST_FAILURE);
          reconciled = atSource.reviewReply?.comment.trim() === row.text.trim();
          if (reconciled) log.info('Reply found at the source: not posting again', { key: input.key });
        }
        if (!reconciled) {
          Context.current().heartbeat({ posting: input.key });
          await target.client.updateReply(target.location, review.externalId, row.text);
        }
      } catch (err) {
        if (err instanceof BusinessProfileAuthError || err instanceof BusinessProfileRequestError) {
          await withTenant(db, input.orgId, async (tx) => {
            await tx
              .update(reviewReplies)
              .set({ status: 'failed', error: (err as Error).message })
              .where(eq(reviewReplies.id, row.id));
            await recordEvent(tx, input.orgId, review.id, 'post_failed', 'system', `${input.key}/failed`, {
              error: (err as Error).message,
            });
          });
          throw ApplicationFailure.nonRetryable((err as Error).message, REPLY_POST_FAILURE);
        }
        throw err;
      }
      const postedAt = now();
      await withTenant(db, input.orgId, async (tx) => {
        await tx
          .update(reviewReplies)
          .set({ status: 'posted', reconciled, postedAt, error: null })
          .where(eq(reviewReplies.id, row.id));
        await tx
          .update(reviews)
          .set({ replyText: row.text, repliedAt: postedAt, repliedBy: input.approvedBy, updatedAt: postedAt })
          .where(eq(reviews.id, review.id));
        await tx
          .update(reviewDrafts)
          .set({ status: 'approved' })
          .where(and(eq(reviewDrafts.reviewId, review.id), eq(reviewDrafts.seq, input.draftSeq)));
        await recordEvent(
          tx,
          input.orgId,
          review.id,
          reconciled ? 'post_reconciled' : 'posted',
          input.approvedBy,
          `${input.key}/posted`,
          { edited: input.edited, auto: input.approvedBy === 'auto' },
        );
      });
      return { replyId: row.id, text: row.text, reconciled };
    },

    /** The triage's final state: the review's status, and what happens to its pending draft. */
    async finishReviewTriage(input: {
      orgId: string;
      reviewId: string;
      workflowId: string;
      revision: number;
      outcome: ReviewStatus;
      /** Approved for a source without replies: the draft is approved, nothing is posted. */
      approvedBy?: string;
      /** Who replied, when it was not the platform ('source': staff answered at the source itself). */
      repliedBy?: string;
    }): Promise<void> {
      await withTenant(db, input.orgId, async (tx) => {
        await tx
          .update(reviews)
          .set({
            status: input.outcome,
            decisionDueAt: null,
            autoPostAt: null,
            updatedAt: now(),
            ...(input.repliedBy ? { repliedBy: input.repliedBy } : {}),
          })
          .where(eq(reviews.id, input.reviewId));
        // Nothing stays pending once the triage is over (a post or a rejection already marked its own draft).
        const draftStatus = input.outcome === 'expired' ? 'expired' : input.approvedBy ? 'approved' : 'superseded';
        await tx
          .update(reviewDrafts)
          .set({ status: draftStatus })
          .where(and(eq(reviewDrafts.reviewId, input.reviewId), eq(reviewDrafts.status, 'pending')));
        if (input.outcome === 'expired') {
          await recordEvent(
            tx,
            input.orgId,
            input.reviewId,
            'expired',
            'system',
            `${input.workflowId}/expired/${input.revision}`,
          );
          await recordAudit(tx, input.orgId, SYSTEM_ACTOR('reviewflow-triage'), {
            action: 'review.reply_expired',
            targetType: 'review',
            targetId: input.reviewId,
            details: { revision: input.revision },
          });
        }
      });
    },

    /** Lists every review of a connection's location and hands new and changed ones to triage. */
    async pollReviewConnection(input: ReviewPollInput): Promise<ReviewPollResult> {
      const target = await withTenant(db, input.orgId, (tx) => connectionClient(tx, input.connectionId));
      if (!target)
        throw ApplicationFailure.nonRetryable(`Connection ${input.connectionId} not found`, 'ConnectionNotFound');
      const { connection, client, location } = target;
      const context = Context.current();
      const result: ReviewPollResult = { connectionId: connection.id, seen: 0, created: 0, updated: 0 };
      const record = (patch: Partial<typeof reviewConnections.$inferInsert>) =>
        withTenant(db, input.orgId, (tx) =>
          tx
            .update(reviewConnections)
            .set({ ...patch, updatedAt: now() })
            .where(eq(reviewConnections.id, connection.id)),
        );
      try {
        let pageToken: string | undefined;
        do {
          const page = await client.listReviews(location, { pageSize: 50, pageToken });
          for (const review of page.reviews) {
            const ingested = await ingestReview(
              { db, temporal: context.client, taskQueue: deps.reviewflowTaskQueue, orgId: input.orgId, actor: 'poll' },
              reviewInputFromBusinessProfile(connection, review),
            );
            result.seen++;
            if (ingested.created) result.created++;
            if (ingested.changed) result.updated++;
          }
          pageToken = page.nextPageToken;
          context.heartbeat({ seen: result.seen });
        } while (pageToken);
      } catch (err) {
        await record({ lastPolledAt: now(), lastPollStatus: 'failed', lastPollError: (err as Error).message });
        if (err instanceof BusinessProfileAuthError) {
          throw ApplicationFailure.nonRetryable(
            `Business Profile rejected the credentials: ${err.message}`,
            'InvalidCredentials',
          );
        }
        if (err instanceof BusinessProfileRequestError) {
          // The location is gone or the request is malformed: retrying cannot help; the next Schedule run tries again.
          throw ApplicationFailure.nonRetryable(err.message, 'ConnectionRejected');
        }
        throw err;
      }
      await record({
        lastPolledAt: now(),
        lastPollStatus: 'succeeded',
        lastPollError: null,
        lastPollChanges: result.created + result.updated,
      });
      return result;
    },
  };
}

export type ReviewFlowActivities = ReturnType<typeof createReviewFlowActivities>;
