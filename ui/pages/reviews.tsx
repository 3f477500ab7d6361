/**
 * ReviewFlow's review queue (/admin/reviews): every review, newest first, with its stars, an excerpt, the
 * analysis (sentiment, urgent), its status and what is due next (the auto-post time of a scheduled reply, the
 * decision deadline of one waiting for staff). Filters are GET parameters passed through to GET /v1/reviews;
 * paging is the API's keyset cursor. Also the shapes of /v1/reviews the review pages read, and the parts every
 * ReviewFlow page shares (sub-navigation, stars, badges, field error slots for reviews.js).
 */
import type { Child } from 'hono/jsx';
import { PropertyPicker } from './lumaleasing-common';
import { can, EmptyState, PageHeader, Time, type Me } from './shared';

export const REVIEW_STATUSES = [
  'triaging',
  'awaiting_approval',
  'scheduled',
  'posting',
  'replied',
  'rejected',
  'expired',
  'not_replyable',
] as const;
export type ReviewStatus = (typeof REVIEW_STATUSES)[number];

export const SENTIMENTS = ['positive', 'neutral', 'negative'] as const;
export type Sentiment = (typeof SENTIMENTS)[number];

/** GET /v1/reviews items (api-shapes: ReviewListItem). */
export interface ReviewListItem {
  id: string;
  propertyId: string;
  propertyName: string | null;
  source: string;
  externalId: string;
  reviewerName: string | null;
  rating: number | null;
  text: string | null;
  sentiment: Sentiment | null;
  topics: string[];
  urgent: boolean;
  status: ReviewStatus;
  revision: number;
  receivedAt: string;
  reviewCreatedAt: string;
  reviewUpdatedAt: string;
  decisionDueAt: string | null;
  autoPostAt: string | null;
  replyText: string | null;
  repliedAt: string | null;
  repliedBy: string | null;
  ticket: { id: string; status: 'open' | 'resolved'; priority: 'urgent' | 'normal' } | null;
  workflowId: string;
}

export interface ReviewFilters {
  propertyId: string | null;
  sentiment: Sentiment | null;
  urgent: boolean;
  status: ReviewStatus | null;
  /** Only reviews with an open ticket. */
  ticket: boolean;
  q: string | null;
  cursor: string | null;
}

/** The queue URL for these filters (links keep the other filters; any change starts from the first page). */
export function reviewsHref(filters: ReviewFilters, change: Partial<ReviewFilters> = {}): string {
  const f = { ...filters, cursor: null, ...change };
  const params = new URLSearchParams();
  if (f.propertyId) params.set('propertyId', f.propertyId);
  if (f.sentiment) params.set('sentiment', f.sentiment);
  if (f.urgent) params.set('urgent', 'true');
  if (f.status) params.set('status', f.status);
  if (f.ticket) params.set('ticket', 'open');
  if (f.q) params.set('q', f.q);
  if (f.cursor) params.set('cursor', f.cursor);
  const query = params.toString();
  return query ? `/admin/reviews?${query}` : '/admin/reviews';
}

/** The same filters as GET /v1/reviews parameters. */
export function reviewsApiQuery(filters: ReviewFilters, limit = 50): string {
  const params = new URLSearchParams({ limit: String(limit) });
  if (filters.propertyId) params.set('propertyId', filters.propertyId);
  if (filters.sentiment) params.set('sentiment', filters.sentiment);
  if (filters.urgent) params.set('urgent', 'true');
  if (filters.status) params.set('status', filters.status);
  if (filters.ticket) params.set('ticket', 'open');
  if (filters.q) params.set('q', filters.q);
  if (filters.cursor) params.set('cursor', filters.cursor);
  return params.toString();
}

export type ReviewFlowTab = 'queue' | 'tickets' | 'report' | 'settings';

export function ReviewFlowTabs({ active }: { active: ReviewFlowTab | null }) {
  const tab = (key: ReviewFlowTab, href: string, label: string) => (
    <a
      href={href}
      class={active === key ? 'tab active' : 'tab'}
      aria-current={active === key ? 'page' : undefined}
      data-tab={key}
    >
      {label}
    </a>
  );
  return (
    <nav class="tabs" aria-label="ReviewFlow">
      {tab('queue', '/admin/reviews', 'Queue')}
      {tab('tickets', '/admin/reviews/tickets', 'Tickets')}
      {tab('report', '/admin/reviews/report', 'Report')}
      {tab('settings', '/admin/reviews/settings', 'Settings')}
      <a href="/admin/workflows?product=reviewflow" class="tab tab-aside" data-tab="runs">
        Workflow runs
      </a>
    </nav>
  );
}

export function Stars({ rating }: { rating: number | null }) {
  if (rating === null) {
    return (
      <span class="muted small" data-rating="">
        no rating
      </span>
    );
  }
  const label = `${rating} of 5 stars`;
  return (
    <span class="stars" data-rating={String(rating)} title={label} role="img" aria-label={label}>
      {'★'.repeat(rating)}
      <span class="stars-off">{'★'.repeat(5 - rating)}</span>
    </span>
  );
}

const SENTIMENT_TONES: Record<string, string> = { positive: 'success', neutral: 'neutral', negative: 'danger' };

export function SentimentBadge({ sentiment }: { sentiment: string | null }) {
  return (
    <span class={`badge badge-${SENTIMENT_TONES[sentiment ?? ''] ?? 'neutral'}`} data-sentiment={sentiment ?? ''}>
      {sentiment ?? 'not analysed'}
    </span>
  );
}

export function UrgentBadge() {
  return (
    <span class="badge badge-danger" data-urgent="" title="Safety, health or habitability: handle first">
      urgent
    </span>
  );
}

const STATUS_LABELS: Record<string, string> = {
  triaging: 'triaging',
  awaiting_approval: 'awaiting approval',
  scheduled: 'auto-post scheduled',
  posting: 'posting',
  replied: 'replied',
  rejected: 'not replied',
  expired: 'expired',
  not_replyable: 'no reply channel',
};
const STATUS_TONES: Record<string, string> = {
  triaging: 'info',
  awaiting_approval: 'warning',
  scheduled: 'info',
  posting: 'info',
  replied: 'success',
  rejected: 'neutral',
  expired: 'danger',
  not_replyable: 'neutral',
};
const STATUS_HINTS: Record<string, string> = {
  triaging: 'Being analysed and drafted',
  awaiting_approval: 'A draft waits for a manager or admin',
  scheduled: 'A positive review: the reply posts automatically unless staff decide first',
  posting: 'The reply is being posted to the source',
  replied: 'A reply is at the source',
  rejected: 'Staff chose not to reply',
  expired: 'Nobody decided in time; nothing was posted',
  not_replyable: 'The source takes no replies from P11 Console: the approved text is for staff to post there',
};

export function reviewStatusLabel(status: string): string {
  return STATUS_LABELS[status] ?? status.replace(/_/g, ' ');
}

export function ReviewStatusBadge({ status }: { status: string }) {
  return (
    <span
      class={`badge badge-${STATUS_TONES[status] ?? 'neutral'}`}
      data-review-status={status}
      title={STATUS_HINTS[status]}
    >
      {reviewStatusLabel(status)}
    </span>
  );
}

export function TicketBadge({ ticket }: { ticket: { status: string; priority: string } }) {
  const open = ticket.status === 'open';
  return (
    <span
      class={`badge badge-${open ? (ticket.priority === 'urgent' ? 'danger' : 'warning') : 'neutral'}`}
      data-ticket={ticket.status}
      data-priority={ticket.priority}
    >
      {open ? `${ticket.priority === 'urgent' ? 'urgent ' : ''}ticket open` : 'ticket resolved'}
    </span>
  );
}

export function excerpt(text: string | null, max = 160): string | null {
  if (!text) return null;
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** Where reviews.js shows the API's message about field `name` (zod issue path joined with dots). */
export function FieldError({ name }: { name: string }) {
  return <p class="form-error small" data-error-for={name} role="alert" hidden></p>;
}

/** What is due next for a review in the queue: the auto-post time, the decision deadline, or the reply. */
function DueCell({ review: r }: { review: ReviewListItem }) {
  if (r.status === 'scheduled' && r.autoPostAt) {
    return (
      <span data-due="auto-post" title="Posts automatically then unless staff decide first">
        auto-posts <Time value={r.autoPostAt} />
      </span>
    );
  }
  if (r.status === 'awaiting_approval' && r.decisionDueAt) {
    return (
      <span data-due="decision" title="The draft expires unanswered then">
        decide by <Time value={r.decisionDueAt} />
      </span>
    );
  }
  if (r.repliedAt) {
    return (
      <span class="muted small" data-due="replied">
        {r.repliedBy === 'auto' ? 'auto-replied' : 'replied'} <Time value={r.repliedAt} />
      </span>
    );
  }
  return <span class="muted">—</span>;
}

function FilterBar({ me, filters }: { me: Me; filters: ReviewFilters }) {
  const chip = (label: string, change: Partial<ReviewFilters>, active: boolean, key: string) => (
    <a
      href={reviewsHref(filters, change)}
      class={active ? 'filter-chip active' : 'filter-chip'}
      aria-current={active ? 'true' : undefined}
      data-filter={key}
    >
      {label}
    </a>
  );
  const keep = {
    sentiment: filters.sentiment,
    status: filters.status,
    urgent: filters.urgent ? 'true' : null,
    ticket: filters.ticket ? 'open' : null,
  };
  return (
    <div class="filter-bar" data-review-filters="">
      {me.properties.length > 1 ? (
        <PropertyPicker
          me={me}
          action="/admin/reviews"
          selected={filters.propertyId}
          allLabel="All properties"
          keep={{ ...keep, q: filters.q }}
        />
      ) : null}
      <form method="get" action="/admin/reviews" class="inline-form" role="search" data-review-search="">
        {Object.entries({ propertyId: filters.propertyId, ...keep }).map(([name, value]) =>
          value ? <input type="hidden" name={name} value={value} /> : null,
        )}
        <label class="sr-only" for="review-q">
          Search reviews
        </label>
        <input
          id="review-q"
          type="search"
          name="q"
          value={filters.q ?? ''}
          placeholder="Reviewer or text…"
          maxlength={100}
        />
        <button type="submit" class="btn btn-sm">
          Search
        </button>
      </form>
      <div class="chip-group" role="group" aria-label="Sentiment">
        {SENTIMENTS.map((s) => chip(s, { sentiment: s }, filters.sentiment === s, `sentiment:${s}`))}
        {chip('any sentiment', { sentiment: null }, filters.sentiment === null, 'sentiment:any')}
      </div>
      <div class="chip-group" role="group" aria-label="Status">
        {(['awaiting_approval', 'scheduled', 'replied', 'rejected', 'expired', 'not_replyable'] as const).map((s) =>
          chip(reviewStatusLabel(s), { status: s }, filters.status === s, `status:${s}`),
        )}
        {chip('any status', { status: null }, filters.status === null, 'status:any')}
      </div>
      <div class="chip-group" role="group" aria-label="Flags">
        {chip('Urgent', { urgent: !filters.urgent }, filters.urgent, 'urgent')}
        {chip('Open ticket', { ticket: !filters.ticket }, filters.ticket, 'ticket')}
      </div>
    </div>
  );
}

export function ReviewQueuePage({
  me,
  reviews,
  nextCursor,
  filters,
}: {
  me: Me;
  reviews: ReviewListItem[];
  nextCursor: string | null;
  filters: ReviewFilters;
}) {
  const showProperty = !filters.propertyId && me.properties.length > 1;
  const filtered =
    filters.sentiment !== null || filters.status !== null || filters.urgent || filters.ticket || !!filters.q;
  const empty: Child = filtered ? (
    <>
      Nothing matches these filters.{' '}
      <a href={reviewsHref({ ...filters, sentiment: null, status: null, urgent: false, ticket: false, q: null })}>
        Show all
      </a>
    </>
  ) : (
    <>
      Reviews arrive from connected Google Business Profile locations (Settings) and from other sites through{' '}
      <code>POST /v1/reviews</code>. Each is analysed and answered by its own workflow.
    </>
  );
  return (
    <section data-page="reviews">
      <PageHeader
        title="ReviewFlow"
        subtitle="Reviews, their analysis and reply drafts. Positive ones can auto-post; neutral and negative replies always wait for staff."
        actions={
          <>
            <label class="toggle">
              <input type="checkbox" data-auto-refresh="10" /> Auto-refresh
            </label>
            <a class="btn btn-sm" href="">
              Refresh
            </a>
          </>
        }
      />
      <ReviewFlowTabs active="queue" />
      <FilterBar me={me} filters={filters} />
      {reviews.length === 0 ? (
        <EmptyState title={filtered ? 'No reviews match' : 'No reviews yet'}>{empty}</EmptyState>
      ) : (
        <div class="table-wrap">
          <table class="table" data-table="reviews">
            <thead>
              <tr>
                <th>Review</th>
                {showProperty ? <th>Property</th> : null}
                <th>Analysis</th>
                <th>Status</th>
                <th>Due</th>
                <th>Received</th>
              </tr>
            </thead>
            <tbody>
              {reviews.map((r) => {
                const text = excerpt(r.text);
                return (
                  <tr
                    data-review-row={r.id}
                    class={r.status === 'awaiting_approval' ? 'row-unread' : ''}
                    data-status={r.status}
                  >
                    <td class="cell-review">
                      <div>
                        <Stars rating={r.rating} />{' '}
                        <a href={`/admin/reviews/${encodeURIComponent(r.id)}`} class="review-link" data-review-link="">
                          {r.reviewerName ?? 'Anonymous'}
                        </a>
                      </div>
                      <div class="review-excerpt">{text ?? <span class="muted">Rating only, no text</span>}</div>
                      <div class="muted small">
                        <code class="mono">{r.source}</code>
                        {r.revision > 1 ? (
                          <span class="lead-tag review-updated" data-updated="" title={`Revision ${r.revision}`}>
                            updated
                          </span>
                        ) : null}
                      </div>
                    </td>
                    {showProperty ? <td>{r.propertyName ?? '—'}</td> : null}
                    <td>
                      <span class="badge-group">
                        <SentimentBadge sentiment={r.sentiment} />
                        {r.urgent ? <UrgentBadge /> : null}
                      </span>
                      {r.topics.length ? <div class="muted small">{r.topics.join(', ')}</div> : null}
                    </td>
                    <td>
                      <span class="badge-group">
                        <ReviewStatusBadge status={r.status} />
                        {r.ticket ? <TicketBadge ticket={r.ticket} /> : null}
                      </span>
                    </td>
                    <td>
                      <DueCell review={r} />
                    </td>
                    <td class="nowrap">
                      <Time value={r.receivedAt} />
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {filters.cursor || nextCursor ? (
        <div class="pager">
          {filters.cursor ? (
            <a class="btn btn-sm" href={reviewsHref(filters)} data-first-page="">
              Newest
            </a>
          ) : null}
          {nextCursor ? (
            <a class="btn btn-sm" href={reviewsHref(filters, { cursor: nextCursor })} data-next-page="">
              Older reviews
            </a>
          ) : null}
        </div>
      ) : null}
      {can(me, 'approvals:write') ? null : (
        <p class="muted small" data-read-only="">
          Your role can read reviews; managers and admins approve replies.
        </p>
      )}
    </section>
  );
}
