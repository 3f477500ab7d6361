/**
 * ReviewFlow's tickets (/admin/reviews/tickets): a ticket per negative review for the property team, open until
 * someone resolves it (whatever happens to the reply). Filters: open / resolved / all, property. Managers and
 * admins resolve (with an optional note) or reopen; viewers read.
 */
import { PropertyPicker } from './lumaleasing-common';
import { excerpt, FieldError, ReviewFlowTabs, ReviewStatusBadge, SentimentBadge, Stars } from './reviews';
import { can, EmptyState, FormError, PageHeader, Time, type Me } from './shared';

/** GET /v1/reviewflow/tickets items. */
export interface TicketView {
  id: string;
  reviewId: string;
  propertyId: string;
  propertyName: string | null;
  status: 'open' | 'resolved';
  priority: 'urgent' | 'normal';
  title: string;
  openedAt: string;
  resolvedAt: string | null;
  resolvedBy: string | null;
  resolution: string | null;
  review: {
    rating: number | null;
    reviewerName: string | null;
    text: string | null;
    sentiment: 'positive' | 'neutral' | 'negative' | null;
    status: string;
    urgent: boolean;
  };
}

export type TicketStatusFilter = 'open' | 'resolved' | 'all';

export interface TicketFilters {
  status: TicketStatusFilter;
  propertyId: string | null;
}

export function ticketsHref(filters: TicketFilters, change: Partial<TicketFilters> = {}): string {
  const f = { ...filters, ...change };
  const params = new URLSearchParams();
  if (f.status !== 'open') params.set('status', f.status);
  if (f.propertyId) params.set('propertyId', f.propertyId);
  const query = params.toString();
  return query ? `/admin/reviews/tickets?${query}` : '/admin/reviews/tickets';
}

/** Urgent open tickets first, then the oldest open ones (they have waited longest); resolved ones newest first. */
export function sortTickets(tickets: TicketView[]): TicketView[] {
  return [...tickets].sort((a, b) => {
    if (a.status !== b.status) return a.status === 'open' ? -1 : 1;
    if (a.status === 'open') {
      if (a.priority !== b.priority) return a.priority === 'urgent' ? -1 : 1;
      return a.openedAt.localeCompare(b.openedAt);
    }
    return (b.resolvedAt ?? '').localeCompare(a.resolvedAt ?? '');
  });
}

function ResolveForm({ ticket }: { ticket: TicketView }) {
  return (
    <form
      class="form ticket-resolve"
      data-review-form=""
      data-method="POST"
      data-url={`/v1/reviewflow/tickets/${encodeURIComponent(ticket.id)}/resolve`}
      data-then="flash-reload:Ticket resolved"
      data-resolve-form=""
    >
      <div class="inline-form">
        <label class="sr-only" for={`resolution-${ticket.id}`}>
          Resolution
        </label>
        <input
          id={`resolution-${ticket.id}`}
          type="text"
          name="resolution"
          maxlength={1000}
          data-optional=""
          placeholder="Resolution (optional)"
        />
        <button type="submit" class="btn btn-sm btn-primary" data-resolve-ticket={ticket.id}>
          Resolve
        </button>
      </div>
      <FieldError name="resolution" />
      <FormError />
    </form>
  );
}

export function TicketsPage({ me, tickets, filters }: { me: Me; tickets: TicketView[]; filters: TicketFilters }) {
  const canAct = can(me, 'approvals:write');
  const showProperty = !filters.propertyId && me.properties.length > 1;
  const chip = (label: string, status: TicketStatusFilter) => (
    <a
      href={ticketsHref(filters, { status })}
      class={filters.status === status ? 'filter-chip active' : 'filter-chip'}
      aria-current={filters.status === status ? 'true' : undefined}
      data-filter={status}
    >
      {label}
    </a>
  );
  const openCount = tickets.filter((t) => t.status === 'open').length;
  return (
    <section data-page="review-tickets">
      <PageHeader
        title="ReviewFlow"
        subtitle="Negative reviews open a ticket for the property team. It stays open until someone resolves it, whatever happens to the reply."
      />
      <ReviewFlowTabs active="tickets" />
      <div class="filter-bar">
        {me.properties.length > 1 ? (
          <PropertyPicker
            me={me}
            action="/admin/reviews/tickets"
            selected={filters.propertyId}
            allLabel="All properties"
            keep={{ status: filters.status === 'open' ? null : filters.status }}
          />
        ) : null}
        <div class="chip-group" role="group" aria-label="Ticket status">
          {chip('Open', 'open')}
          {chip('Resolved', 'resolved')}
          {chip('All', 'all')}
        </div>
        {filters.status !== 'resolved' && openCount > 0 ? (
          <span class="muted small" data-open-count={String(openCount)}>
            {openCount} open
          </span>
        ) : null}
      </div>
      {tickets.length === 0 ? (
        <EmptyState
          title={
            filters.status === 'open'
              ? 'No open tickets'
              : filters.status === 'resolved'
                ? 'No resolved tickets'
                : 'No tickets'
          }
        >
          A ticket opens when a review is analysed as negative.
        </EmptyState>
      ) : (
        <div class="table-wrap">
          <table class="table" data-table="tickets">
            <thead>
              <tr>
                <th>Ticket</th>
                {showProperty ? <th>Property</th> : null}
                <th>Review</th>
                <th>Opened</th>
                <th>{filters.status === 'open' ? (canAct ? 'Resolve' : '') : 'Resolution'}</th>
              </tr>
            </thead>
            <tbody>
              {sortTickets(tickets).map((t) => {
                const text = excerpt(t.review.text, 120);
                return (
                  <tr data-ticket-row={t.id} data-ticket-status={t.status} data-priority={t.priority}>
                    <td class="cell-review">
                      <span
                        class={`badge badge-${t.status === 'resolved' ? 'neutral' : t.priority === 'urgent' ? 'danger' : 'warning'}`}
                      >
                        {t.status === 'resolved' ? 'resolved' : t.priority}
                      </span>{' '}
                      <a href={`/admin/reviews/${encodeURIComponent(t.reviewId)}`} data-review-link="">
                        {t.title}
                      </a>
                    </td>
                    {showProperty ? <td>{t.propertyName ?? '—'}</td> : null}
                    <td class="cell-review">
                      <div>
                        <Stars rating={t.review.rating} />{' '}
                        <span class="small">{t.review.reviewerName ?? 'Anonymous'}</span>
                      </div>
                      {text ? <div class="review-excerpt small">{text}</div> : null}
                      <span class="badge-group">
                        <SentimentBadge sentiment={t.review.sentiment} />
                        <ReviewStatusBadge status={t.review.status} />
                      </span>
                    </td>
                    <td class="nowrap">
                      <Time value={t.openedAt} />
                    </td>
                    <td>
                      {t.status === 'open' ? (
                        canAct ? (
                          <ResolveForm ticket={t} />
                        ) : (
                          <span class="muted small">open</span>
                        )
                      ) : (
                        <div class="small" data-resolution="">
                          <Time value={t.resolvedAt} /> by {t.resolvedBy ?? '—'}
                          {t.resolution ? <div class="muted">{t.resolution}</div> : null}
                          {canAct ? (
                            <button
                              type="button"
                              class="btn btn-sm btn-ghost"
                              data-api-action=""
                              data-method="POST"
                              data-url={`/v1/reviewflow/tickets/${encodeURIComponent(t.id)}/reopen`}
                              data-body="{}"
                              data-then="flash-reload:Ticket reopened"
                              data-reopen-ticket={t.id}
                            >
                              Reopen
                            </button>
                          ) : null}
                        </div>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {canAct ? null : (
        <p class="muted small" data-read-only="">
          Your role can read tickets; managers and admins resolve them.
        </p>
      )}
    </section>
  );
}
