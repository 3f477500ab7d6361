/**
 * One review (/admin/reviews/:reviewId): the original, the analysis, the pending draft in an editable box with
 * Approve (posts what is in the box: an edit when it was changed), Reject (with a reason) and Regenerate (with an
 * optional instruction), the approval deadlines from the live workflow, the drafts, replies and history, the
 * ticket, and the run in the Temporal Web UI. Without `approvals:write` the page is read-only (and the API
 * refuses such decisions anyway).
 */
import type { ReviewTriageStatus } from '../../workflows/reviewflow';
import type { ReviewListItem } from './reviews';
import { ReviewFlowTabs, SentimentBadge, Stars } from './reviews';
import { can, FormError, PageHeader, StatusBadge, TemporalLink, Time, type Me } from './shared';

export interface ReviewDetail extends ReviewListItem {
  analyzer: string | null;
  sourceName: string | null;
  connectionId: string | null;
  replyable: boolean;
  pendingDraft: { seq: number; text: string; generator: string; instruction: string | null; createdAt: string } | null;
  drafts: {
    seq: number;
    text: string;
    generator: string;
    templateKey: string | null;
    instruction: string | null;
    status: string;
    reviewRevision: number;
    createdAt: string;
  }[];
  replies: {
    id: string;
    text: string;
    status: string;
    approvedBy: string;
    approvedAt: string;
    edited: boolean;
    reconciled: boolean;
    postedAt: string | null;
    error: string | null;
  }[];
  events: { kind: string; actor: string; details: Record<string, unknown>; at: string }[];
  workflow: { id: string; url: string; status: ReviewTriageStatus | null };
  canDecide: boolean;
}

const EVENT_LABELS: Record<string, string> = {
  received: 'Received',
  updated: 'Updated by the reviewer',
  analysed: 'Analysed',
  drafted: 'Draft written',
  regenerated: 'Regenerated',
  auto_post_scheduled: 'Auto-post scheduled',
  approved: 'Approved',
  rejected: 'Rejected',
  reminder_sent: 'Reminder sent',
  escalated: 'Escalated to admins',
  expired: 'Expired without a decision',
  posted: 'Reply posted',
  post_reconciled: 'Reply confirmed at the source',
  post_failed: 'Posting failed',
  ticket_opened: 'Ticket opened',
  ticket_resolved: 'Ticket resolved',
  manager_notified: 'Manager notified',
  slack_notified: 'Posted to Slack',
};

function eventDetail(details: Record<string, unknown>): string {
  const parts: string[] = [];
  if (typeof details.sentiment === 'string') parts.push(String(details.sentiment));
  if (details.urgent === true) parts.push('urgent');
  if (typeof details.reason === 'string') parts.push(`reason: ${details.reason}`);
  if (typeof details.instruction === 'string') parts.push(`instruction: ${details.instruction}`);
  if (details.edited === true) parts.push('edited');
  if (Array.isArray(details.to) && details.to.length) parts.push(`to ${details.to.join(', ')}`);
  if (details.status === 'no_recipients') parts.push('no recipients configured');
  if (typeof details.error === 'string') parts.push(details.error);
  if (typeof details.revision === 'number' && details.revision > 1) parts.push(`revision ${details.revision}`);
  return parts.join(' · ');
}

export function ReviewDetailPage({ me, review }: { me: Me; review: ReviewDetail }) {
  const canAct = can(me, 'approvals:write');
  const status = review.workflow.status;
  const draft = review.pendingDraft;
  const base = `/v1/reviews/${review.id}`;
  return (
    <>
      <PageHeader
        title={`${review.reviewerName ?? 'Anonymous'} on ${review.source}`}
        subtitle={
          <>
            {review.propertyName ?? 'Unknown property'} · <StatusBadge status={review.status} />
          </>
        }
        actions={<TemporalLink href={review.workflow.url} />}
      />
      <ReviewFlowTabs active={null} />
      <div class="grid-2">
        <div class="card" data-original="">
          <h2>
            <Stars rating={review.rating} />
          </h2>
          <blockquote data-review-text="">{review.text ?? <span class="muted">No text, rating only.</span>}</blockquote>
          <p class="muted small">
            Written <Time value={review.reviewCreatedAt} />
            {review.revision > 1 ? (
              <>
                {' '}
                · updated <Time value={review.reviewUpdatedAt} /> (revision {review.revision})
              </>
            ) : null}{' '}
            · received <Time value={review.receivedAt} />
          </p>
        </div>
        <div class="card" data-analysis="">
          <h2>Analysis</h2>
          <p>
            <SentimentBadge sentiment={review.sentiment} urgent={review.urgent} />
          </p>
          <p class="small">
            Topics: {review.topics.length ? review.topics.join(', ') : <span class="muted">none</span>}
          </p>
          <p class="muted small">
            by {review.analyzer ?? '—'}
            {review.analyzer?.startsWith('local:') ? ' (offline lexicon classifier, not an LLM)' : ''}
          </p>
          {review.ticket ? (
            <p data-ticket-state={review.ticket.status}>
              Ticket:{' '}
              <span class={`badge badge-${review.ticket.priority === 'urgent' ? 'danger' : 'warning'}`}>
                {review.ticket.priority}
              </span>{' '}
              <StatusBadge status={review.ticket.status} />{' '}
              {canAct ? (
                <button
                  type="button"
                  class="button small secondary"
                  data-api-action=""
                  data-url={`/v1/reviewflow/tickets/${review.ticket.id}/${review.ticket.status === 'open' ? 'resolve' : 'reopen'}`}
                  data-body="{}"
                >
                  {review.ticket.status === 'open' ? 'Resolve ticket' : 'Reopen ticket'}
                </button>
              ) : null}
            </p>
          ) : null}
        </div>
      </div>

      {draft ? (
        <div class="card" data-pending-draft={String(draft.seq)}>
          <h2>
            Reply draft {draft.seq}{' '}
            <span class="muted small">
              {draft.generator === 'template' ? 'offline templates' : draft.generator}
              {draft.instruction ? ` · "${draft.instruction}"` : ''}
            </span>
          </h2>
          {status?.state === 'scheduled' && status.autoPostAt ? (
            <p class="notice" data-auto-post="">
              Posts automatically <Time value={status.autoPostAt} precise /> unless you decide first.
            </p>
          ) : null}
          {status?.state === 'awaiting_approval' ? (
            <p class="muted small" data-sla="">
              Reminder <Time value={status.reminderAt} /> · escalation <Time value={status.escalateAt} /> · expires{' '}
              <Time value={status.expireAt} />
              {status.remindersSent ? ' · reminder sent' : ''}
              {status.escalated ? ' · escalated' : ''}
            </p>
          ) : null}
          {!review.replyable ? (
            <p class="muted small">
              This source takes no replies from P11 Console: approving records the text for staff to post there.
            </p>
          ) : null}
          {canAct && review.canDecide ? (
            <>
              <form
                data-api-form=""
                data-method="POST"
                data-url={`${base}/approve`}
                data-then="flash-reload:Reply approved"
                data-approve-form=""
              >
                <input type="hidden" name="draftSeq" value={String(draft.seq)} data-number="" />
                <label class="field">
                  <span>Reply (edit before approving if you like)</span>
                  <textarea name="text" rows={6} maxlength={4000} required data-draft-text="">
                    {draft.text}
                  </textarea>
                </label>
                <FormError />
                <button type="submit" class="button" data-approve="">
                  {review.replyable ? 'Approve and post' : 'Approve'}
                </button>
              </form>
              <div class="form-row">
                <form
                  data-api-form=""
                  data-method="POST"
                  data-url={`${base}/regenerate`}
                  data-then="flash-reload:New draft written"
                  data-regenerate-form=""
                  class="grow"
                >
                  <input type="hidden" name="draftSeq" value={String(draft.seq)} data-number="" />
                  <label class="field">
                    <span>Instruction (optional)</span>
                    <input
                      type="text"
                      name="instruction"
                      maxlength={500}
                      data-optional=""
                      placeholder="shorter, more formal, mention the new gym…"
                    />
                  </label>
                  <FormError />
                  <button type="submit" class="button secondary" data-regenerate="">
                    Regenerate
                  </button>
                </form>
                <form
                  data-api-form=""
                  data-method="POST"
                  data-url={`${base}/reject`}
                  data-then="flash-reload:Draft rejected; nothing will be posted"
                  data-reject-form=""
                  class="grow"
                >
                  <input type="hidden" name="draftSeq" value={String(draft.seq)} data-number="" />
                  <label class="field">
                    <span>Reason for not replying</span>
                    <input type="text" name="reason" maxlength={500} required placeholder="Handled by phone" />
                  </label>
                  <FormError />
                  <button type="submit" class="button danger" data-reject="">
                    Reject
                  </button>
                </form>
              </div>
            </>
          ) : (
            <blockquote data-draft-readonly="">{draft.text}</blockquote>
          )}
        </div>
      ) : null}

      {review.replyText ? (
        <div class="card" data-reply="">
          <h2>Reply at the source</h2>
          <blockquote>{review.replyText}</blockquote>
          <p class="muted small">
            {review.repliedBy === 'auto'
              ? 'Auto-posted'
              : review.repliedBy
                ? `Approved by ${review.repliedBy}`
                : 'Posted at the source'}{' '}
            <Time value={review.repliedAt} />
          </p>
        </div>
      ) : null}

      <div class="grid-2">
        <div class="card">
          <h2>Drafts</h2>
          <ol class="timeline" data-drafts="">
            {review.drafts.map((d) => (
              <li data-draft={String(d.seq)}>
                <StatusBadge status={d.status} />{' '}
                <span class="muted small">
                  #{d.seq} · rev {d.reviewRevision} · <Time value={d.createdAt} />
                </span>
                <div class="small">{d.text}</div>
              </li>
            ))}
          </ol>
          {review.replies.length ? (
            <>
              <h3>Posts</h3>
              <ul data-replies="">
                {review.replies.map((r) => (
                  <li>
                    <StatusBadge status={r.status} /> by {r.approvedBy} <Time value={r.postedAt ?? r.approvedAt} />
                    {r.edited ? ' · edited' : ''}
                    {r.reconciled ? ' · confirmed by reading the review back' : ''}
                    {r.error ? <div class="error small">{r.error}</div> : null}
                  </li>
                ))}
              </ul>
            </>
          ) : null}
        </div>
        <div class="card">
          <h2>History</h2>
          <ol class="timeline" data-history="">
            {review.events.map((e) => (
              <li data-event={e.kind}>
                <strong>{EVENT_LABELS[e.kind] ?? e.kind}</strong> <span class="muted small">{e.actor}</span>{' '}
                <Time value={e.at} />
                {eventDetail(e.details) ? <div class="muted small">{eventDetail(e.details)}</div> : null}
              </li>
            ))}
          </ol>
        </div>
      </div>
    </>
  );
}
