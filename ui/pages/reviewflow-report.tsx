/**
 * ReviewFlow's report (/admin/reviews/report): over a window of 7, 30 or 90 days (reviews received in it),
 * the median time from a review reaching us to its reply at the source, the share of replies that were
 * auto-posted, reviews received and replied, received by sentiment, how many wait for a decision, and the
 * negative reviews' open tickets by property (now, whatever the window). Bars are <progress> elements: the
 * pages' CSP forbids inline styles.
 */
import { PropertyPicker } from './lumaleasing-common';
import { ReviewFlowTabs, SentimentBadge } from './reviews';
import { EmptyState, PageHeader, Time, type Me } from './shared';

/** GET /v1/reviewflow/report → report. */
export interface ReportView {
  since: string;
  until: string;
  received: number;
  replied: number;
  autoReplied: number;
  /** 0..1 of replied; null when nothing was replied. */
  autoReplyShare: number | null;
  medianTimeToReplyMinutes: number | null;
  bySentiment: { positive: number; neutral: number; negative: number };
  awaitingApproval: number;
  openNegativesByProperty: { propertyId: string; propertyName: string | null; openTickets: number; urgent: number }[];
}

export const REPORT_WINDOWS = [7, 30, 90] as const;

export function formatMinutes(minutes: number | null): string {
  if (minutes === null) return '—';
  if (minutes < 1) return `${Math.max(1, Math.round(minutes * 60))} s`;
  if (minutes < 60) return `${Math.round(minutes)} min`;
  if (minutes < 48 * 60) return `${(minutes / 60).toFixed(1)} h`;
  return `${(minutes / 1440).toFixed(1)} days`;
}

export function formatShare(share: number | null): string {
  return share === null ? '—' : `${Math.round(share * 100)}%`;
}

function reportHref(days: number, propertyId: string | null): string {
  const params = new URLSearchParams({ days: String(days) });
  if (propertyId) params.set('propertyId', propertyId);
  return `/admin/reviews/report?${params}`;
}

function Metric({ label, value, hint, name }: { label: string; value: string; hint?: string; name: string }) {
  return (
    <div class="metric" data-metric={name}>
      <div class="metric-label">{label}</div>
      <div class="metric-value" data-value="">
        {value}
      </div>
      {hint ? <div class="muted small">{hint}</div> : null}
    </div>
  );
}

export function ReportPage({
  me,
  report,
  days,
  propertyId,
}: {
  me: Me;
  report: ReportView;
  days: number;
  propertyId: string | null;
}) {
  const sentiments = (['positive', 'neutral', 'negative'] as const).map((s) => ({
    sentiment: s,
    count: report.bySentiment[s],
  }));
  const analysed = sentiments.reduce((sum, s) => sum + s.count, 0);
  const maxOpen = Math.max(1, ...report.openNegativesByProperty.map((p) => p.openTickets));
  return (
    <section data-page="reviewflow-report">
      <PageHeader
        title="ReviewFlow"
        subtitle={
          <>
            Reviews received <Time value={report.since} /> – <Time value={report.until} />.
          </>
        }
      />
      <ReviewFlowTabs active="report" />
      <div class="filter-bar">
        {me.properties.length > 1 ? (
          <PropertyPicker
            me={me}
            action="/admin/reviews/report"
            selected={propertyId}
            allLabel="All properties"
            keep={{ days: String(days) }}
          />
        ) : null}
        <div class="chip-group" role="group" aria-label="Window">
          {REPORT_WINDOWS.map((d) => (
            <a
              href={reportHref(d, propertyId)}
              class={d === days ? 'filter-chip active' : 'filter-chip'}
              aria-current={d === days ? 'true' : undefined}
              data-days={String(d)}
            >
              {d} days
            </a>
          ))}
        </div>
      </div>
      <div class="metrics">
        <Metric
          name="median"
          label="Median time to reply"
          value={formatMinutes(report.medianTimeToReplyMinutes)}
          hint="from the review reaching us to the reply at the source"
        />
        <Metric
          name="auto-share"
          label="Auto-replied"
          value={formatShare(report.autoReplyShare)}
          hint={`${report.autoReplied} of ${report.replied} replies posted without staff`}
        />
        <Metric name="received" label="Received" value={String(report.received)} />
        <Metric name="replied" label="Replied" value={String(report.replied)} />
        <Metric
          name="awaiting"
          label="Waiting for a decision"
          value={String(report.awaitingApproval)}
          hint="awaiting approval or scheduled to auto-post"
        />
      </div>
      <div class="report-grid">
        <div class="card">
          <h2 class="card-title">Received by sentiment</h2>
          {analysed === 0 ? (
            <p class="muted small">No analysed reviews in this window.</p>
          ) : (
            <table class="table table-numbers report-bars" data-by-sentiment="">
              <tbody>
                {sentiments.map((s) => (
                  <tr data-sentiment-row={s.sentiment}>
                    <td>
                      <SentimentBadge sentiment={s.sentiment} />
                    </td>
                    <td class="bar-cell">
                      <progress class={`progress progress-${s.sentiment}`} max={analysed} value={s.count}>
                        {s.count}
                      </progress>
                    </td>
                    <td class="right" data-count={String(s.count)}>
                      {s.count}
                      <span class="muted small"> · {Math.round((s.count / analysed) * 100)}%</span>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
        <div class="card">
          <h2 class="card-title">Open negative tickets by property</h2>
          {report.openNegativesByProperty.length === 0 ? (
            <EmptyState title="No open tickets" />
          ) : (
            <table class="table table-numbers report-bars" data-open-negatives="">
              <tbody>
                {report.openNegativesByProperty.map((p) => (
                  <tr data-property-row={p.propertyId}>
                    <td>
                      <a
                        href={`/admin/reviews/tickets?propertyId=${encodeURIComponent(p.propertyId)}`}
                        title="This property's open tickets"
                      >
                        {p.propertyName ?? 'Unknown property'}
                      </a>
                    </td>
                    <td class="bar-cell">
                      <progress class="progress progress-negative" max={maxOpen} value={p.openTickets}>
                        {p.openTickets}
                      </progress>
                    </td>
                    <td class="right" data-open={String(p.openTickets)}>
                      {p.openTickets} open
                      {p.urgent ? <span class="badge badge-danger">{p.urgent} urgent</span> : null}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <p class="muted small">Open now, whatever the window.</p>
        </div>
      </div>
    </section>
  );
}
