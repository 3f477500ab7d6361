/**
 * ReviewFlow's pages besides the review itself: the queue (/admin/reviews, filters passed through to
 * GET /v1/reviews), tickets (/admin/reviews/tickets), the report (/admin/reviews/report) and settings
 * (/admin/reviews/settings: auto-reply, SLA, Slack, personas, Business Profile connections). Also the shapes of
 * the /v1/reviews and /v1/reviewflow answers the pages read. Buttons and forms post to the same API through
 * admin.js (`data-api-form`, `data-api-action`), so a viewer's missing permission is the API's 403 too.
 */
import { PropertyPicker } from './lumaleasing-common';
import { can, EmptyState, FormError, PageHeader, StatusBadge, Time, type Me } from './shared';

export interface ReviewListItem {
  id: string;
  propertyId: string;
  propertyName: string | null;
  source: string;
  externalId: string;
  reviewerName: string | null;
  rating: number | null;
  text: string | null;
  sentiment: 'positive' | 'neutral' | 'negative' | null;
  topics: string[];
  urgent: boolean;
  status: string;
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
    sentiment: string | null;
    status: string;
    urgent: boolean;
  };
}

export interface ReportView {
  since: string;
  until: string;
  received: number;
  replied: number;
  autoReplied: number;
  autoReplyShare: number | null;
  medianTimeToReplyMinutes: number | null;
  bySentiment: { positive: number; neutral: number; negative: number };
  awaitingApproval: number;
  openNegativesByProperty: { propertyId: string; propertyName: string | null; openTickets: number; urgent: number }[];
}

export interface SettingsView {
  autoReplyPositive: boolean;
  autoReplyDelay: string;
  reminderAfter: string;
  escalateAfter: string;
  expireAfter: string;
  slackConfigured: boolean;
  updatedBy: string | null;
  updatedAt: string | null;
}

export interface PersonaView {
  propertyId: string;
  propertyName: string;
  signature: string;
  tone: 'warm' | 'professional' | 'upbeat';
  contactLine: string | null;
  managerEmail: string | null;
  custom: boolean;
}

export interface ConnectionView {
  id: string;
  propertyId: string;
  propertyName: string | null;
  name: string;
  accountId: string;
  locationId: string;
  pollingEnabled: boolean;
  lastPolledAt: string | null;
  lastPollStatus: 'succeeded' | 'failed' | null;
  lastPollError: string | null;
  lastPollChanges: number | null;
  schedule: { id: string; paused: boolean; nextRunAt: string | null } | null;
  notificationUrl: string;
}

export const REVIEW_STATUS_FILTERS = [
  'awaiting_approval',
  'scheduled',
  'replied',
  'rejected',
  'expired',
  'not_replyable',
  'triaging',
] as const;
export const SENTIMENT_FILTERS = ['positive', 'neutral', 'negative'] as const;

export interface ReviewFilters {
  propertyId: string | null;
  sentiment: (typeof SENTIMENT_FILTERS)[number] | null;
  urgent: boolean;
  status: (typeof REVIEW_STATUS_FILTERS)[number] | null;
  ticket: boolean;
  cursor: string | null;
}

export function reviewsHref(filters: ReviewFilters, change: Partial<ReviewFilters> = {}): string {
  const f = { ...filters, cursor: null, ...change };
  const params = new URLSearchParams();
  if (f.propertyId) params.set('propertyId', f.propertyId);
  if (f.sentiment) params.set('sentiment', f.sentiment);
  if (f.urgent) params.set('urgent', 'true');
  if (f.status) params.set('status', f.status);
  if (f.ticket) params.set('ticket', 'open');
  if (f.cursor) params.set('cursor', f.cursor);
  const query = params.toString();
  return query ? `/admin/reviews?${query}` : '/admin/reviews';
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
  if (rating === null) return <span class="muted small">no stars</span>;
  return (
    <span class="stars" data-rating={String(rating)} title={`${rating} of 5 stars`} aria-label={`${rating} of 5 stars`}>
      {'★'.repeat(rating)}
      <span class="muted">{'★'.repeat(5 - rating)}</span>
    </span>
  );
}

const SENTIMENT_TONES: Record<string, string> = { positive: 'success', neutral: 'neutral', negative: 'danger' };

export function SentimentBadge({ sentiment, urgent }: { sentiment: string | null; urgent: boolean }) {
  return (
    <span class="badge-group">
      <span class={`badge badge-${SENTIMENT_TONES[sentiment ?? ''] ?? 'neutral'}`} data-sentiment={sentiment ?? ''}>
        {sentiment ?? 'not analysed'}
      </span>
      {urgent ? (
        <span class="badge badge-danger" data-urgent="">
          urgent
        </span>
      ) : null}
    </span>
  );
}

function excerpt(text: string | null, max = 140): string {
  if (!text) return '(rating only)';
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
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
  const chip = (label: string, active: boolean, href: string, key: string) => (
    <a href={href} class={active ? 'chip active' : 'chip'} data-filter={key}>
      {label}
    </a>
  );
  return (
    <>
      <PageHeader
        title="Reviews"
        subtitle="Every review from Google Business Profile and other sites, triaged by its own workflow: positive ones can auto-post; neutral and negative ones always wait for staff."
      />
      <ReviewFlowTabs active="queue" />
      <div class="toolbar">
        <PropertyPicker
          me={me}
          action="/admin/reviews"
          selected={filters.propertyId}
          allLabel="All properties"
          keep={{ sentiment: filters.sentiment, status: filters.status, urgent: filters.urgent ? 'true' : null }}
        />
        <div class="chips" aria-label="Sentiment">
          {chip(
            'Any sentiment',
            filters.sentiment === null,
            reviewsHref(filters, { sentiment: null }),
            'sentiment:any',
          )}
          {SENTIMENT_FILTERS.map((s) =>
            chip(s, filters.sentiment === s, reviewsHref(filters, { sentiment: s }), `sentiment:${s}`),
          )}
        </div>
        <div class="chips" aria-label="Status">
          {chip('Any status', filters.status === null, reviewsHref(filters, { status: null }), 'status:any')}
          {REVIEW_STATUS_FILTERS.map((s) =>
            chip(s.replace(/_/g, ' '), filters.status === s, reviewsHref(filters, { status: s }), `status:${s}`),
          )}
        </div>
        <div class="chips">
          {chip('Urgent only', filters.urgent, reviewsHref(filters, { urgent: !filters.urgent }), 'urgent')}
          {chip('Open ticket', filters.ticket, reviewsHref(filters, { ticket: !filters.ticket }), 'ticket')}
        </div>
      </div>
      {reviews.length === 0 ? (
        <EmptyState title="No reviews match">
          Reviews arrive from connected Business Profile locations (Settings) and from POST /v1/reviews.
        </EmptyState>
      ) : (
        <table class="table" data-review-queue="">
          <thead>
            <tr>
              <th>Review</th>
              <th>Property</th>
              <th>Analysis</th>
              <th>Status</th>
              <th>Due</th>
              <th>Received</th>
            </tr>
          </thead>
          <tbody>
            {reviews.map((r) => (
              <tr data-review-row={r.id}>
                <td>
                  <a href={`/admin/reviews/${r.id}`} class="strong">
                    <Stars rating={r.rating} /> {r.reviewerName ?? 'Anonymous'}
                  </a>
                  <div class="muted small">{excerpt(r.text)}</div>
                  <div class="muted small">
                    {r.source}
                    {r.revision > 1 ? ` · updated (rev ${r.revision})` : ''}
                  </div>
                </td>
                <td>{r.propertyName ?? '—'}</td>
                <td>
                  <SentimentBadge sentiment={r.sentiment} urgent={r.urgent} />
                  {r.topics.length ? <div class="muted small">{r.topics.join(', ')}</div> : null}
                </td>
                <td>
                  <StatusBadge status={r.status} />
                  {r.ticket ? (
                    <div class="muted small" data-ticket={r.ticket.status}>
                      ticket {r.ticket.status}
                    </div>
                  ) : null}
                </td>
                <td>
                  {r.status === 'scheduled' ? (
                    <span title="Auto-posts then unless staff decide first">
                      auto-post <Time value={r.autoPostAt} />
                    </span>
                  ) : r.status === 'awaiting_approval' ? (
                    <span title="The draft expires then">
                      <Time value={r.decisionDueAt} />
                    </span>
                  ) : r.repliedAt ? (
                    <span class="muted small">
                      replied <Time value={r.repliedAt} />
                    </span>
                  ) : (
                    <span class="muted">—</span>
                  )}
                </td>
                <td>
                  <Time value={r.receivedAt} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {nextCursor ? (
        <p>
          <a class="button secondary" href={reviewsHref(filters, { cursor: nextCursor })} data-next-page="">
            More reviews
          </a>
        </p>
      ) : null}
      {can(me, 'approvals:write') ? null : (
        <p class="muted small" data-read-only="">
          You can read reviews; approving replies needs a manager or admin.
        </p>
      )}
    </>
  );
}

export function TicketsPage({ me, tickets, status }: { me: Me; tickets: TicketView[]; status: 'open' | 'resolved' }) {
  const canAct = can(me, 'approvals:write');
  return (
    <>
      <PageHeader
        title="Review tickets"
        subtitle="Negative reviews open a ticket; it stays open until staff resolve it, whatever happens to the reply."
      />
      <ReviewFlowTabs active="tickets" />
      <div class="chips">
        <a href="/admin/reviews/tickets" class={status === 'open' ? 'chip active' : 'chip'} data-filter="open">
          Open
        </a>
        <a
          href="/admin/reviews/tickets?status=resolved"
          class={status === 'resolved' ? 'chip active' : 'chip'}
          data-filter="resolved"
        >
          Resolved
        </a>
      </div>
      {tickets.length === 0 ? (
        <EmptyState title={status === 'open' ? 'No open tickets' : 'No resolved tickets'} />
      ) : (
        <table class="table" data-tickets="">
          <thead>
            <tr>
              <th>Ticket</th>
              <th>Property</th>
              <th>Review</th>
              <th>Opened</th>
              <th>{status === 'open' ? '' : 'Resolved'}</th>
            </tr>
          </thead>
          <tbody>
            {tickets.map((t) => (
              <tr data-ticket-row={t.id}>
                <td>
                  <span class={`badge badge-${t.priority === 'urgent' ? 'danger' : 'warning'}`}>{t.priority}</span>{' '}
                  <a href={`/admin/reviews/${t.reviewId}`}>{t.title}</a>
                </td>
                <td>{t.propertyName ?? '—'}</td>
                <td>
                  <div class="muted small">{excerpt(t.review.text, 100)}</div>
                  <StatusBadge status={t.review.status} />
                </td>
                <td>
                  <Time value={t.openedAt} />
                </td>
                <td>
                  {t.status === 'open' ? (
                    canAct ? (
                      <button
                        type="button"
                        class="button small"
                        data-api-action=""
                        data-url={`/v1/reviewflow/tickets/${t.id}/resolve`}
                        data-body="{}"
                        data-confirm="Mark this ticket resolved?"
                        data-resolve-ticket={t.id}
                      >
                        Resolve
                      </button>
                    ) : null
                  ) : (
                    <span class="muted small">
                      <Time value={t.resolvedAt} /> by {t.resolvedBy ?? '—'}
                      {t.resolution ? ` · ${t.resolution}` : ''}
                    </span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

function formatMinutes(minutes: number | null): string {
  if (minutes === null) return '—';
  if (minutes < 60) return `${Math.round(minutes)} min`;
  if (minutes < 48 * 60) return `${(minutes / 60).toFixed(1)} h`;
  return `${(minutes / 1440).toFixed(1)} days`;
}

export function ReportPage({ report, days }: { report: ReportView; days: number }) {
  const maxOpen = Math.max(1, ...report.openNegativesByProperty.map((p) => p.openTickets));
  const metric = (label: string, value: string, key: string, hint?: string) => (
    <div class="metric" data-metric={key}>
      <div class="metric-label">{label}</div>
      <div class="metric-value">{value}</div>
      {hint ? <div class="muted small">{hint}</div> : null}
    </div>
  );
  return (
    <>
      <PageHeader title="Review report" subtitle={`Reviews received in the last ${days} days.`} />
      <ReviewFlowTabs active="report" />
      <div class="chips">
        {[7, 30, 90].map((d) => (
          <a href={`/admin/reviews/report?days=${d}`} class={d === days ? 'chip active' : 'chip'} data-days={String(d)}>
            {d} days
          </a>
        ))}
      </div>
      <div class="metrics">
        {metric(
          'Median time to reply',
          formatMinutes(report.medianTimeToReplyMinutes),
          'median',
          'from the review to its reply at the source',
        )}
        {metric(
          'Auto-replied',
          report.autoReplyShare === null ? '—' : `${Math.round(report.autoReplyShare * 100)}%`,
          'auto-share',
          `${report.autoReplied} of ${report.replied} replies`,
        )}
        {metric('Received', String(report.received), 'received')}
        {metric('Awaiting approval', String(report.awaitingApproval), 'awaiting')}
      </div>
      <div class="card">
        <h2>By sentiment</h2>
        <p data-by-sentiment="">
          <SentimentBadge sentiment="positive" urgent={false} /> {report.bySentiment.positive} ·{' '}
          <SentimentBadge sentiment="neutral" urgent={false} /> {report.bySentiment.neutral} ·{' '}
          <SentimentBadge sentiment="negative" urgent={false} /> {report.bySentiment.negative}
        </p>
      </div>
      <div class="card">
        <h2>Open negatives by property</h2>
        {report.openNegativesByProperty.length === 0 ? (
          <EmptyState title="No open tickets" />
        ) : (
          <table class="table" data-open-negatives="">
            <tbody>
              {report.openNegativesByProperty.map((p) => (
                <tr>
                  <td>{p.propertyName ?? '—'}</td>
                  <td style="width:50%">
                    <div class="bar" style={`width:${Math.round((p.openTickets / maxOpen) * 100)}%`} />
                  </td>
                  <td class="num" data-open={String(p.openTickets)}>
                    {p.openTickets} open{p.urgent ? ` (${p.urgent} urgent)` : ''}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
    </>
  );
}

export function ReviewSettingsPage({
  me,
  settings,
  personas,
  connections,
}: {
  me: Me;
  settings: SettingsView;
  personas: PersonaView[];
  connections: ConnectionView[];
}) {
  const canWrite = can(me, 'reviewflow:write');
  const disabled = !canWrite;
  return (
    <>
      <PageHeader
        title="ReviewFlow settings"
        subtitle="Auto-reply, approval deadlines, notifications, reply voices and Google connections."
      />
      <ReviewFlowTabs active="settings" />
      <form
        class="card"
        data-api-form=""
        data-method="PUT"
        data-url="/v1/reviewflow/settings"
        data-then="flash-reload:Settings saved"
        data-settings-form=""
      >
        <h2>Replies and approvals</h2>
        <label class="checkbox">
          <input type="checkbox" name="autoReplyPositive" checked={settings.autoReplyPositive} disabled={disabled} />{' '}
          Auto-post replies to positive reviews
        </label>
        <p class="muted small">
          Positive reviews only. Neutral and negative replies always wait for staff approval, whatever is set here.
        </p>
        <div class="form-row">
          <label class="field">
            <span>Auto-post after</span>
            <input type="text" name="autoReplyDelay" value={settings.autoReplyDelay} disabled={disabled} />
          </label>
          <label class="field">
            <span>Remind after</span>
            <input type="text" name="reminderAfter" value={settings.reminderAfter} disabled={disabled} />
          </label>
          <label class="field">
            <span>Escalate to admins after</span>
            <input type="text" name="escalateAfter" value={settings.escalateAfter} disabled={disabled} />
          </label>
          <label class="field">
            <span>Expire after</span>
            <input type="text" name="expireAfter" value={settings.expireAfter} disabled={disabled} />
          </label>
        </div>
        <label class="field">
          <span>
            Slack incoming webhook {settings.slackConfigured ? '(configured; leave empty to keep it)' : '(optional)'}
          </span>
          <input
            type="url"
            name="slackWebhookUrl"
            data-optional=""
            placeholder="https://hooks.slack.com/services/…"
            disabled={disabled}
          />
        </label>
        <FormError />
        {canWrite ? (
          <button type="submit" class="button">
            Save settings
          </button>
        ) : null}
        {canWrite && settings.slackConfigured ? (
          <button
            type="button"
            class="button secondary"
            data-api-action=""
            data-method="PUT"
            data-url="/v1/reviewflow/settings"
            data-body='{"slackWebhookUrl":null}'
            data-confirm="Stop posting to Slack?"
          >
            Remove Slack webhook
          </button>
        ) : null}
      </form>

      <div class="card">
        <h2>Reply voice per property</h2>
        {personas.map((p) => (
          <form
            data-api-form=""
            data-method="PUT"
            data-url={`/v1/reviewflow/personas/${p.propertyId}`}
            data-then="flash-reload:Persona saved"
            data-persona={p.propertyId}
          >
            <h3>{p.propertyName}</h3>
            <div class="form-row">
              <label class="field grow">
                <span>Signature</span>
                <input type="text" name="signature" value={p.signature} maxlength={120} required disabled={disabled} />
              </label>
              <label class="field">
                <span>Tone</span>
                <select name="tone" disabled={disabled}>
                  {(['warm', 'professional', 'upbeat'] as const).map((t) => (
                    <option value={t} selected={p.tone === t}>
                      {t}
                    </option>
                  ))}
                </select>
              </label>
            </div>
            <div class="form-row">
              <label class="field grow">
                <span>Contact line for unhappy reviewers</span>
                <input
                  type="text"
                  name="contactLine"
                  value={p.contactLine ?? ''}
                  maxlength={300}
                  data-null-empty=""
                  disabled={disabled}
                />
              </label>
              <label class="field grow">
                <span>Manager email (negative reviews, reminders)</span>
                <input
                  type="email"
                  name="managerEmail"
                  value={p.managerEmail ?? ''}
                  data-null-empty=""
                  disabled={disabled}
                />
              </label>
            </div>
            <FormError />
            {canWrite ? (
              <button type="submit" class="button small">
                Save
              </button>
            ) : null}
          </form>
        ))}
      </div>

      <div class="card">
        <h2>Google Business Profile locations</h2>
        <p class="muted small">
          Point a Pub/Sub push subscription (with authentication) at{' '}
          <code>{connections[0]?.notificationUrl ?? '/webhooks/google/business-profile'}</code>; each location is also
          polled on a Temporal Schedule in case a notification is missed.
        </p>
        {connections.length === 0 ? (
          <EmptyState title="No locations connected" />
        ) : (
          <table class="table" data-connections="">
            <thead>
              <tr>
                <th>Location</th>
                <th>Property</th>
                <th>Last poll</th>
                <th>Schedule</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {connections.map((c) => (
                <tr data-connection={c.id}>
                  <td>
                    {c.name}
                    <div class="muted small">
                      accounts/{c.accountId}/locations/{c.locationId}
                    </div>
                  </td>
                  <td>{c.propertyName ?? '—'}</td>
                  <td>
                    <Time value={c.lastPolledAt} empty="never" />
                    {c.lastPollStatus ? <StatusBadge status={c.lastPollStatus} /> : null}
                    {c.lastPollError ? <div class="error small">{c.lastPollError}</div> : null}
                    {c.lastPollChanges !== null ? (
                      <div class="muted small">{c.lastPollChanges} new or changed</div>
                    ) : null}
                  </td>
                  <td>
                    {c.schedule ? (
                      c.schedule.paused ? (
                        <span class="badge badge-warning">paused</span>
                      ) : (
                        <span class="muted small">
                          next <Time value={c.schedule.nextRunAt} />
                        </span>
                      )
                    ) : (
                      <span class="muted">none</span>
                    )}
                  </td>
                  <td>
                    {canWrite ? (
                      <span class="actions">
                        <button
                          type="button"
                          class="button small"
                          data-api-action=""
                          data-url={`/v1/reviewflow/connections/${c.id}/poll`}
                          data-then="flash-reload:Poll started"
                          data-poll={c.id}
                        >
                          Poll now
                        </button>
                        <button
                          type="button"
                          class="button small secondary"
                          data-api-action=""
                          data-method="PATCH"
                          data-url={`/v1/reviewflow/connections/${c.id}`}
                          data-body={JSON.stringify({ pollingEnabled: !c.pollingEnabled })}
                        >
                          {c.pollingEnabled ? 'Pause polling' : 'Resume polling'}
                        </button>
                      </span>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {canWrite ? (
          <form
            data-api-form=""
            data-method="POST"
            data-url="/v1/reviewflow/connections"
            data-then="flash-reload:Location connected"
            data-new-connection=""
          >
            <h3>Connect a location</h3>
            <div class="form-row">
              <label class="field">
                <span>Property</span>
                <select name="propertyId">
                  {me.properties.map((p) => (
                    <option value={p.id}>{p.name}</option>
                  ))}
                </select>
              </label>
              <label class="field grow">
                <span>Name</span>
                <input type="text" name="name" required maxlength={120} placeholder="The Reserve on Google" />
              </label>
              <label class="field">
                <span>Account id</span>
                <input type="text" name="accountId" required inputmode="numeric" />
              </label>
              <label class="field">
                <span>Location id</span>
                <input type="text" name="locationId" required inputmode="numeric" />
              </label>
            </div>
            <div class="form-row">
              <label class="field grow">
                <span>OAuth client id</span>
                <input type="text" name="credentials.clientId" required />
              </label>
              <label class="field grow">
                <span>OAuth client secret</span>
                <input type="password" name="credentials.clientSecret" required />
              </label>
              <label class="field grow">
                <span>Refresh token (scope business.manage)</span>
                <input type="password" name="credentials.refreshToken" required />
              </label>
            </div>
            <FormError />
            <button type="submit" class="button">
              Connect
            </button>
          </form>
        ) : null}
      </div>
    </>
  );
}
