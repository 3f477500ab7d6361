/**
 * One review (/admin/reviews/:reviewId): the original (stars, reviewer, dates, where it was written, revision),
 * the analysis, the pending draft in an editable box with Approve (posts what is in the box: an edit when it
 * was changed), Reject (with a reason) and Regenerate (with an optional instruction), the deadlines the review's
 * workflow reports (auto-post, reminder, escalation, expiry), the drafts, the replies posted, the history, the
 * ticket, and the run in the Temporal Web UI. Without `approvals:write` the page has no decision or ticket
 * controls (the API refuses those callers anyway). reviews.js sends the forms, keeps an edit across a stale-draft
 * refusal, and reloads the page when the workflow moves on while it is triaging or posting.
 */
import type { ReviewTriageStatus } from '../../workflows/reviewflow';
import {
  FieldError,
  ReviewFlowTabs,
  ReviewStatusBadge,
  SentimentBadge,
  Stars,
  TicketBadge,
  UrgentBadge,
  type ReviewListItem,
} from './reviews';
import { can, FormError, PageHeader, TemporalLink, Time, type Me } from './shared';

/** GET /v1/reviews/:reviewId → review (api-shapes: ReviewDetail). */
export interface ReviewDetail extends ReviewListItem {
  analyzer: string | null;
  /** The source's own name for the review: a Business Profile resource name, or the URL an API caller gave. */
  sourceName: string | null;
  connectionId: string | null;
  /** Replies can be posted back to the source (a Business Profile review of a connected location). */
  replyable: boolean;
  pendingDraft: { seq: number; text: string; generator: string; instruction: string | null; createdAt: string } | null;
  drafts: {
    seq: number;
    text: string;
    generator: string;
    templateKey: string | null;
    instruction: string | null;
    status: 'pending' | 'superseded' | 'approved' | 'rejected' | 'expired';
    reviewRevision: number;
    createdAt: string;
  }[];
  replies: {
    id: string;
    text: string;
    status: 'posting' | 'posted' | 'failed';
    approvedBy: string;
    approvedAt: string;
    edited: boolean;
    reconciled: boolean;
    postedAt: string | null;
    error: string | null;
  }[];
  /** Oldest first. */
  events: { kind: string; actor: string; details: Record<string, unknown>; at: string }[];
  /** `status` is the workflow's live answer; null once the run has closed. */
  workflow: { id: string; url: string; status: ReviewTriageStatus | null };
  /** A decision is possible now (pending draft, workflow awaiting approval or scheduled). */
  canDecide: boolean;
}

/**
 * What the page's live check compares (reviews.js computes the same from GET /v1/reviews/:id): a new status,
 * revision, draft or post means the page is out of date.
 */
export function reviewSignature(
  r: Pick<ReviewDetail, 'status' | 'revision' | 'pendingDraft' | 'replies' | 'canDecide'>,
): string {
  return [
    r.status,
    r.revision,
    r.pendingDraft ? r.pendingDraft.seq : '-',
    r.canDecide ? 'd' : '-',
    r.replies.map((p) => p.status).join(','),
  ].join('|');
}

/** While the workflow is moving on its own, the page checks for changes (ms between checks). */
function pollEvery(review: ReviewDetail): number | null {
  const state = review.workflow.status?.state;
  if (review.status === 'triaging' || review.status === 'posting' || state === 'analysing' || state === 'posting') {
    return 2_000;
  }
  if (review.status === 'scheduled' || state === 'scheduled') return 10_000;
  return null;
}

const EVENT_LABELS: Record<string, string> = {
  received: 'Received',
  updated: 'Changed by the reviewer',
  analysed: 'Analysed',
  drafted: 'Draft written',
  regenerated: 'Draft regenerated',
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
  manager_notified: 'Manager emailed',
  slack_notified: 'Posted to Slack',
};

const EVENT_TONES: Record<string, string> = {
  approved: 'success',
  posted: 'success',
  post_reconciled: 'success',
  rejected: 'neutral',
  expired: 'danger',
  post_failed: 'danger',
  escalated: 'warning',
  reminder_sent: 'warning',
  ticket_opened: 'warning',
};

/** A regenerate is two facts: staff asked (the decision, `draftSeq`), and the new draft was written (`seq`). */
function eventLabel(e: { kind: string; details: Record<string, unknown> }): string {
  if (e.kind === 'regenerated' && typeof e.details.seq === 'number') return 'New draft written';
  if (e.kind === 'regenerated') return 'Regenerate asked';
  return EVENT_LABELS[e.kind] ?? e.kind.replace(/_/g, ' ');
}

function eventDetail(kind: string, details: Record<string, unknown>): string {
  const parts: string[] = [];
  if (typeof details.revision === 'number' && details.revision > 1) parts.push(`revision ${details.revision}`);
  if (typeof details.sentiment === 'string') parts.push(details.sentiment);
  if (details.urgent === true) parts.push('urgent');
  if (Array.isArray(details.topics) && details.topics.length) parts.push(details.topics.join(', '));
  if (typeof details.seq === 'number') parts.push(`draft #${details.seq}`);
  else if (typeof details.draftSeq === 'number') parts.push(`draft #${details.draftSeq}`);
  if (typeof details.generator === 'string' && kind !== 'regenerated') parts.push(generatorLabel(details.generator));
  if (typeof details.instruction === 'string' && details.instruction) parts.push(`“${details.instruction}”`);
  if (typeof details.reason === 'string') parts.push(`reason: ${details.reason}`);
  if (kind === 'approved' && details.edited === true) parts.push('text edited before approving');
  if (kind === 'posted' || kind === 'post_reconciled') {
    if (details.auto === true) parts.push('auto-reply');
    else if (details.edited === true) parts.push('edited by staff');
  }
  if (typeof details.priority === 'string') parts.push(`${details.priority} priority`);
  if (Array.isArray(details.to) && details.to.length) parts.push(`to ${details.to.join(', ')}`);
  if (details.status === 'no_recipients') parts.push('nobody to notify (no manager email or admins)');
  if (typeof details.error === 'string') parts.push(details.error);
  return parts.join(' · ');
}

const PILL_TONES: Record<string, string> = {
  pending: 'info',
  approved: 'success',
  superseded: 'neutral',
  rejected: 'neutral',
  expired: 'danger',
  posting: 'info',
  posted: 'success',
  failed: 'danger',
};

/** A draft's or a post's status. */
function Pill({ status }: { status: string }) {
  return (
    <span class={`badge badge-${PILL_TONES[status] ?? 'neutral'}`} data-status={status}>
      {status}
    </span>
  );
}

function generatorLabel(generator: string): string {
  if (generator === 'template') return 'offline templates';
  return generator.startsWith('llm:') ? `LLM (${generator.slice(4)})` : generator;
}

function repliedByLabel(by: string | null): string {
  if (by === 'auto') return 'Auto-posted';
  if (by === 'source') return 'Answered at the source directly';
  return by ? `Approved by ${by}` : 'Posted';
}

/** The review's own link when the source gave a web address; otherwise its name there, as text. */
function SourceRef({ review }: { review: ReviewDetail }) {
  const name = review.sourceName;
  if (name && /^https?:\/\//i.test(name)) {
    return (
      <a href={name} target="_blank" rel="noopener noreferrer nofollow" data-source-link="">
        View on {review.source} ↗
      </a>
    );
  }
  return (
    <span data-source-link="">
      <code class="mono">{review.source}</code>
      {name ? <span class="muted small mono"> {name}</span> : <span class="muted small"> {review.externalId}</span>}
    </span>
  );
}

/**
 * The reply at the source; for a source that takes no replies, the approved text staff post there themselves
 * (the review row keeps no reply then: the approval's own record has the text, edited or the draft's).
 */
export function replyOf(review: ReviewDetail): { text: string; by: string | null; at: string | null } | null {
  if (review.replyText) return { text: review.replyText, by: review.repliedBy, at: review.repliedAt };
  if (review.status !== 'not_replyable') return null;
  const approval = [...review.events].reverse().find((e) => e.kind === 'approved');
  const draft = review.drafts.find((d) => d.status === 'approved');
  const text = typeof approval?.details.text === 'string' ? approval.details.text : draft?.text;
  return text ? { text, by: approval?.actor ?? null, at: approval?.at ?? null } : null;
}

function ReplyCard({ review }: { review: ReviewDetail }) {
  const reply = replyOf(review);
  if (!reply) return null;
  const elsewhere = review.status === 'not_replyable';
  return (
    <div class="card" data-reply="">
      <h2 class="card-title">{elsewhere ? 'Approved reply' : 'Reply'}</h2>
      <blockquote class="review-quote reply-quote">{reply.text}</blockquote>
      <p class="muted small">
        {repliedByLabel(reply.by)} <Time value={reply.at} />
        {elsewhere ? ` · ${review.source} takes no replies from P11 Console: post this there yourself` : ''}
      </p>
    </div>
  );
}

function DraftCard({ me, review }: { me: Me; review: ReviewDetail }) {
  const draft = review.pendingDraft;
  const live = review.workflow.status;
  if (!draft) {
    if (review.status !== 'triaging') return null;
    return (
      <div class="card" data-draft-card="" data-no-draft="">
        <h2 class="card-title">Reply draft</h2>
        <p class="muted">Analysing the review and writing a draft… this page updates by itself.</p>
      </div>
    );
  }
  const canAct = can(me, 'approvals:write');
  const decide = canAct && review.canDecide;
  const base = `/v1/reviews/${encodeURIComponent(review.id)}`;
  const seq = String(draft.seq);
  return (
    <div class="card draft-card" data-draft-card="" data-pending-draft={seq}>
      <h2 class="card-title">Reply draft #{draft.seq}</h2>
      <p class="muted small draft-meta">
        {generatorLabel(draft.generator)} · written <Time value={draft.createdAt} />
        {draft.instruction ? <> · instruction “{draft.instruction}”</> : null}
      </p>
      {live?.state === 'scheduled' && live.autoPostAt ? (
        <p class="notice-inline small" data-auto-post="">
          Posts automatically <Time value={live.autoPostAt} precise /> unless someone approves, edits, rejects or
          regenerates it first.
        </p>
      ) : null}
      {decide ? (
        <>
          <form
            class="form"
            data-review-form=""
            data-decision="approve"
            data-review-id={review.id}
            data-method="POST"
            data-url={`${base}/approve`}
            data-then={review.replyable ? 'flash-reload:Reply approved and posted' : 'flash-reload:Reply approved'}
            data-approve-form=""
          >
            <input type="hidden" name="draftSeq" value={seq} data-number="" />
            <label class="field">
              <span>Reply (edit it before approving if you like)</span>
              <textarea name="text" rows={7} maxlength={4000} required data-draft-text="" data-omit-unchanged="">
                {draft.text}
              </textarea>
            </label>
            <FieldError name="text" />
            <FormError />
            <div class="reply-actions">
              <span class="muted small" data-edit-note="">
                {review.replyable
                  ? 'Approving posts this text as the owner’s reply on Google.'
                  : 'This source takes no replies from P11 Console: approving records the text for staff to post there.'}
              </span>
              <button
                type="submit"
                class="btn btn-primary"
                data-approve=""
                data-edited-label={review.replyable ? 'Approve the edited reply and post' : 'Approve the edited reply'}
              >
                {review.replyable ? 'Approve and post' : 'Approve'}
              </button>
            </div>
          </form>
          <div class="decision-forms">
            <form
              class="form decision-form"
              data-review-form=""
              data-decision="regenerate"
              data-review-id={review.id}
              data-method="POST"
              data-url={`${base}/regenerate`}
              data-then="flash-reload:New draft written"
              data-regenerate-form=""
            >
              <input type="hidden" name="draftSeq" value={seq} data-number="" />
              <div class="form-row form-row-end">
                <label class="field grow">
                  <span>Instruction (optional)</span>
                  <input
                    type="text"
                    name="instruction"
                    maxlength={500}
                    data-optional=""
                    placeholder="Shorter; mention the new gym hours…"
                  />
                </label>
                <button type="submit" class="btn" data-regenerate="">
                  Regenerate
                </button>
              </div>
              <FieldError name="instruction" />
              <FormError />
            </form>
            <form
              class="form decision-form"
              data-review-form=""
              data-decision="reject"
              data-review-id={review.id}
              data-method="POST"
              data-url={`${base}/reject`}
              data-then="flash-reload:Draft rejected; nothing is posted"
              data-reject-form=""
            >
              <input type="hidden" name="draftSeq" value={seq} data-number="" />
              <div class="form-row form-row-end">
                <label class="field grow">
                  <span>Reason for not replying</span>
                  <input type="text" name="reason" maxlength={500} required placeholder="Handled by phone" />
                </label>
                <button type="submit" class="btn btn-danger" data-reject="">
                  Reject
                </button>
              </div>
              <FieldError name="reason" />
              <FormError />
            </form>
          </div>
        </>
      ) : (
        <>
          <blockquote class="review-quote" data-draft-readonly="">
            {draft.text}
          </blockquote>
          <p class="muted small" data-read-only="">
            {canAct
              ? `The review’s workflow is not taking decisions right now (${live ? live.state.replace(/_/g, ' ') : 'run closed'}).`
              : 'Your role can read this review; managers and admins approve, reject or regenerate replies.'}
          </p>
        </>
      )}
    </div>
  );
}

/** Deadlines from the workflow's own answer (the review row only mirrors them). */
function DeadlinesCard({ review }: { review: ReviewDetail }) {
  const s = review.workflow.status;
  return (
    <div class="card side-card" data-sla="" data-state={s?.state ?? 'closed'}>
      <h2 class="side-title">Deadlines</h2>
      {!s ? (
        <p class="muted small">The review’s workflow has finished; nothing is due.</p>
      ) : (
        <dl class="side-facts">
          <div>
            <dt>Workflow state</dt>
            <dd data-fact="state">{s.state.replace(/_/g, ' ')}</dd>
          </div>
          {s.autoPostAt ? (
            <div>
              <dt>Auto-posts</dt>
              <dd data-fact="auto-post">
                <Time value={s.autoPostAt} precise />
              </dd>
            </div>
          ) : null}
          {s.reminderAt ? (
            <div>
              <dt>Reminder</dt>
              <dd data-fact="reminder">
                <Time value={s.reminderAt} />
                {s.remindersSent ? <span class="badge badge-warning">sent</span> : null}
              </dd>
            </div>
          ) : null}
          {s.escalateAt ? (
            <div>
              <dt>Escalation to admins</dt>
              <dd data-fact="escalation">
                <Time value={s.escalateAt} />
                {s.escalated ? <span class="badge badge-warning">escalated</span> : null}
              </dd>
            </div>
          ) : null}
          {s.expireAt ? (
            <div>
              <dt>Expires unanswered</dt>
              <dd data-fact="expiry">
                <Time value={s.expireAt} />
              </dd>
            </div>
          ) : null}
          {s.state === 'done' && s.outcome ? (
            <div>
              <dt>Outcome</dt>
              <dd>
                <ReviewStatusBadge status={s.outcome} />
              </dd>
            </div>
          ) : null}
        </dl>
      )}
    </div>
  );
}

function TicketCard({ me, review }: { me: Me; review: ReviewDetail }) {
  const t = review.ticket;
  if (!t) return null;
  const canAct = can(me, 'approvals:write');
  const url = `/v1/reviewflow/tickets/${encodeURIComponent(t.id)}`;
  return (
    <div class="card side-card" data-ticket-card="" data-ticket-state={t.status}>
      <h2 class="side-title">Ticket</h2>
      <p>
        <TicketBadge ticket={t} />
      </p>
      <p class="muted small">
        Negative reviews open a ticket for the property team; it stays open until someone resolves it, whatever happens
        to the reply. <a href="/admin/reviews/tickets">All tickets</a>
      </p>
      {canAct && t.status === 'open' ? (
        <form
          class="form"
          data-review-form=""
          data-method="POST"
          data-url={`${url}/resolve`}
          data-then="flash-reload:Ticket resolved"
          data-resolve-form=""
        >
          <label class="field">
            <span>Resolution (optional)</span>
            <input type="text" name="resolution" maxlength={1000} data-optional="" placeholder="Leak fixed on 12 May" />
          </label>
          <FieldError name="resolution" />
          <FormError />
          <button type="submit" class="btn btn-sm btn-primary" data-resolve-ticket={t.id}>
            Resolve ticket
          </button>
        </form>
      ) : null}
      {canAct && t.status === 'resolved' ? (
        <button
          type="button"
          class="btn btn-sm"
          data-api-action=""
          data-method="POST"
          data-url={`${url}/reopen`}
          data-body="{}"
          data-then="flash-reload:Ticket reopened"
          data-reopen-ticket={t.id}
        >
          Reopen ticket
        </button>
      ) : null}
    </div>
  );
}

export function ReviewDetailPage({ me, review }: { me: Me; review: ReviewDetail }) {
  const every = pollEvery(review);
  const posted = review.replies;
  return (
    <section
      data-page="review-detail"
      data-review-id={review.id}
      data-review-status={review.status}
      data-poll-url={every ? `/v1/reviews/${encodeURIComponent(review.id)}` : undefined}
      data-poll-every={every ? String(every) : undefined}
      data-signature={reviewSignature(review)}
    >
      <p class="breadcrumb">
        <a href="/admin/reviews">ReviewFlow</a> / <a href="/admin/reviews">Queue</a> /
      </p>
      <PageHeader
        title={review.reviewerName ?? 'Anonymous reviewer'}
        subtitle={
          <>
            {review.propertyName ?? 'Unknown property'} · <code class="mono">{review.source}</code> · received{' '}
            <Time value={review.receivedAt} />
          </>
        }
        actions={
          <>
            <ReviewStatusBadge status={review.status} />
            <TemporalLink href={review.workflow.url} />
          </>
        }
      />
      <ReviewFlowTabs active={null} />
      <p class="muted small live-note" data-live-status="" hidden></p>
      <div class="conversation-layout">
        <div class="review-main">
          <div class="card" data-original="">
            <div class="review-head">
              <Stars rating={review.rating} />
              <strong data-reviewer="">{review.reviewerName ?? 'Anonymous'}</strong>
              <span class="muted small">
                wrote <Time value={review.reviewCreatedAt} />
              </span>
              {review.revision > 1 ? (
                <span
                  class="badge badge-info"
                  data-updated={String(review.revision)}
                  title="The reviewer changed the review; it was analysed and drafted again"
                >
                  updated <Time value={review.reviewUpdatedAt} /> · revision {review.revision}
                </span>
              ) : null}
            </div>
            <blockquote class="review-quote" data-review-text="">
              {review.text ?? <span class="muted">No text: a star rating only.</span>}
            </blockquote>
            <p class="muted small">
              <SourceRef review={review} />
            </p>
          </div>

          <DraftCard me={me} review={review} />

          <ReplyCard review={review} />

          {review.drafts.length ? (
            <div class="card">
              <h2 class="card-title">Drafts</h2>
              <ol class="review-list" data-drafts="">
                {[...review.drafts].reverse().map((d) => (
                  <li data-draft={String(d.seq)} data-draft-status={d.status}>
                    <div class="review-list-meta">
                      <strong>#{d.seq}</strong>
                      <Pill status={d.status} />
                      <span class="muted small">
                        {generatorLabel(d.generator)}
                        {d.templateKey ? ` (${d.templateKey})` : ''} · revision {d.reviewRevision} ·{' '}
                        <Time value={d.createdAt} />
                      </span>
                    </div>
                    {d.instruction ? <div class="muted small">Instruction: “{d.instruction}”</div> : null}
                    <div class="small draft-text">{d.text}</div>
                  </li>
                ))}
              </ol>
            </div>
          ) : null}

          <div class="card">
            <h2 class="card-title">History</h2>
            <ol class="review-list" data-history="">
              {review.events.map((e) => {
                const detail = eventDetail(e.kind, e.details);
                return (
                  <li data-event={e.kind}>
                    <div class="review-list-meta">
                      <span class={`badge badge-${EVENT_TONES[e.kind] ?? 'neutral'}`}>{eventLabel(e)}</span>
                      <span class="muted small">{e.actor}</span>
                      <Time value={e.at} precise />
                    </div>
                    {detail ? <div class="muted small">{detail}</div> : null}
                  </li>
                );
              })}
            </ol>
          </div>
        </div>

        <aside class="conversation-side">
          <div class="card side-card" data-analysis="">
            <h2 class="side-title">Analysis</h2>
            <p class="badge-group">
              <SentimentBadge sentiment={review.sentiment} />
              {review.urgent ? <UrgentBadge /> : null}
            </p>
            <dl class="side-facts">
              <div>
                <dt>Topics</dt>
                <dd data-topics="">
                  {review.topics.length ? review.topics.join(', ') : <span class="muted">none</span>}
                </dd>
              </div>
              <div>
                <dt>Analysed by</dt>
                <dd>
                  {review.analyzer ?? <span class="muted">not yet</span>}
                  {review.analyzer?.startsWith('local') ? (
                    <span class="muted small">offline classifier (lexicon and rules)</span>
                  ) : null}
                </dd>
              </div>
            </dl>
          </div>

          <DeadlinesCard review={review} />
          <TicketCard me={me} review={review} />

          <div class="card side-card" data-replies="">
            <h2 class="side-title">Posts</h2>
            {posted.length === 0 ? (
              <p class="muted small">
                {review.replyable ? 'Nothing posted yet.' : 'This source takes no replies from P11 Console.'}
              </p>
            ) : (
              <ul class="review-list">
                {posted.map((p) => (
                  <li data-post={p.status}>
                    <div class="review-list-meta">
                      <Pill status={p.status} />
                      {p.postedAt ? <Time value={p.postedAt} precise /> : null}
                    </div>
                    <div class="muted small">
                      {p.approvedBy === 'auto' ? 'auto-reply' : `approved by ${p.approvedBy}`}{' '}
                      <Time value={p.approvedAt} />
                      {p.edited ? ' · edited' : ''}
                      {p.reconciled ? ' · confirmed by reading the reply back after an uncertain post' : ''}
                    </div>
                    {p.error ? <div class="danger-text small">{p.error}</div> : null}
                  </li>
                ))}
              </ul>
            )}
          </div>

          <div class="card side-card">
            <h2 class="side-title">Workflow</h2>
            <p class="mono wf-id small">{review.workflow.id}</p>
            <TemporalLink href={review.workflow.url} />
          </div>
        </aside>
      </div>
    </section>
  );
}
