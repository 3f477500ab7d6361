import { channelLabel } from './data-lake-common';
import { can, EmptyState, PageHeader, type Me } from './shared';

export type Interval = 'day' | 'week' | 'month';
export const INTERVALS: readonly Interval[] = ['day', 'week', 'month'];

export const METRICS = ['spend', 'impressions', 'clicks', 'leads', 'ctr', 'cpc', 'cpa'] as const;
export type Metric = (typeof METRICS)[number];
type MetricValues = Partial<Record<Metric, number | null>>;

/** POST /v1/analytics/query's answer (API contract). */
export interface AnalyticsResponse {
  data: (MetricValues & { date: string; channel?: string })[];
  totals: MetricValues;
  totalsByChannel?: Record<string, MetricValues>;
  channels?: string[];
  interval: Interval;
  dateRange: { start: string; end: string };
}

export interface DashboardFilters {
  propertyId: string | null;
  start: string;
  end: string;
  interval: Interval;
  metric: 'leads' | 'spend';
}

const MONEY = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' });
const COUNT = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const PERCENT = new Intl.NumberFormat('en-US', {
  style: 'percent',
  minimumFractionDigits: 2,
  maximumFractionDigits: 2,
});

/** One metric value as people read it; null (no clicks, no leads) is "—". */
export function formatMetric(metric: Metric, value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  switch (metric) {
    case 'spend':
    case 'cpc':
    case 'cpa':
      return MONEY.format(value);
    case 'ctr':
      return PERCENT.format(value);
    default:
      return COUNT.format(value);
  }
}

const HEADINGS: Record<Metric, string> = {
  spend: 'Spend',
  impressions: 'Impressions',
  clicks: 'Clicks',
  leads: 'Leads',
  ctr: 'CTR',
  cpc: 'CPC',
  cpa: 'CPA',
};

/** The trend chart's data: bucket dates and, per channel, leads and spend per bucket (0 where nothing ran). */
export function trendSeries(result: AnalyticsResponse) {
  const labels = [...new Set(result.data.map((d) => d.date))].sort();
  const channels = result.channels ?? [...new Set(result.data.map((d) => d.channel ?? 'all'))];
  const index = new Map(labels.map((d, i) => [d, i]));
  const series = channels.map((channel) => {
    const leads = labels.map(() => 0);
    const spend = labels.map(() => 0);
    for (const row of result.data) {
      if ((row.channel ?? 'all') !== channel) continue;
      const i = index.get(row.date)!;
      leads[i] = row.leads ?? 0;
      spend[i] = row.spend ?? 0;
    }
    return { channel, label: channelLabel(channel), leads, spend };
  });
  return { labels, series };
}

function FilterForm({ me, filters }: { me: Me; filters: DashboardFilters }) {
  return (
    <form method="get" action="/admin/analytics" class="card filters" data-filters="">
      <label class="field">
        <span>Property</span>
        {/* The session's property, as the top bar's switcher: the API scopes every query to it. */}
        <select data-property-switcher="" data-filter-property="">
          <option value="" selected={filters.propertyId === null}>
            All properties
          </option>
          {me.properties.map((p) => (
            <option value={p.id} selected={filters.propertyId === p.id}>
              {p.name}
            </option>
          ))}
        </select>
      </label>
      <label class="field">
        <span>From</span>
        <input type="date" name="start" value={filters.start} required />
      </label>
      <label class="field">
        <span>To</span>
        <input type="date" name="end" value={filters.end} required />
      </label>
      <label class="field">
        <span>Interval</span>
        <select name="interval">
          {INTERVALS.map((i) => (
            <option value={i} selected={filters.interval === i}>
              {i === 'day' ? 'Daily' : i === 'week' ? 'Weekly' : 'Monthly'}
            </option>
          ))}
        </select>
      </label>
      <input type="hidden" name="metric" value={filters.metric} data-metric-field="" />
      <div class="filters-submit">
        <button type="submit" class="btn btn-primary">
          Apply
        </button>
      </div>
    </form>
  );
}

function ChannelTotals({ result }: { result: AnalyticsResponse }) {
  const byChannel = result.totalsByChannel ?? {};
  const channels = result.channels ?? Object.keys(byChannel);
  return (
    <div class="table-wrap">
      <table class="table table-numbers" data-table="channel-totals">
        <thead>
          <tr>
            <th>Channel</th>
            {METRICS.map((m) => (
              <th class="right" title={m === 'cpa' ? 'Weighted: total spend / total leads' : undefined}>
                {HEADINGS[m]}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {channels.map((ch) => (
            <tr data-channel-row={ch}>
              <td>{channelLabel(ch)}</td>
              {METRICS.map((m) => (
                <td class="right" data-metric={m} data-value={String(byChannel[ch]?.[m] ?? '')}>
                  {formatMetric(m, byChannel[ch]?.[m])}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
        <tfoot>
          <tr data-channel-row="total" class="row-total">
            <td>All channels</td>
            {METRICS.map((m) => (
              <td class="right" data-metric={m} data-value={String(result.totals[m] ?? '')}>
                {formatMetric(m, result.totals[m])}
              </td>
            ))}
          </tr>
        </tfoot>
      </table>
    </div>
  );
}

function TrendChart({ result, filters }: { result: AnalyticsResponse; filters: DashboardFilters }) {
  const trend = trendSeries(result);
  return (
    <div class="card chart-card">
      <div class="chart-head">
        <h2>Trend</h2>
        <div class="segmented" role="radiogroup" aria-label="Metric">
          {(['leads', 'spend'] as const).map((m) => (
            <label class="segment">
              <input type="radio" name="trend-metric" value={m} checked={filters.metric === m} data-trend-metric="" />
              <span>{m === 'leads' ? 'Leads' : 'Spend'}</span>
            </label>
          ))}
        </div>
      </div>
      <div class="chart-box">
        <canvas
          data-trend-chart={JSON.stringify(trend)}
          data-metric={filters.metric}
          role="img"
          aria-label={`${filters.metric === 'leads' ? 'Leads' : 'Spend'} per ${filters.interval} by channel`}
        ></canvas>
      </div>
    </div>
  );
}

function AskBox() {
  return (
    <div class="card ask-card" data-ask="">
      <h2>Ask a question</h2>
      <form class="ask-form" data-ask-form="">
        <label class="sr-only" for="ask-question">
          Question
        </label>
        <input
          type="text"
          id="ask-question"
          name="question"
          maxlength={500}
          placeholder="e.g. leads by channel last 30 days, or cost per lead for The Reserve last week"
          required
        />
        <button type="submit" class="btn btn-primary">
          Ask
        </button>
      </form>
      <p class="form-error" data-error="" role="alert" hidden></p>
      <div class="ask-result" data-ask-result="" hidden>
        <div class="ask-status">
          <span class="badge" data-ask-status=""></span>
          <span class="muted small" data-ask-engine=""></span>
        </div>
        <p class="ask-message" data-ask-message=""></p>
        <p class="muted small" data-ask-interpretation="" hidden></p>
        <p class="small warning-text" data-ask-unrecognized="" hidden></p>
        <div class="chart-box" data-ask-chart-box="" hidden>
          <canvas data-ask-chart="" role="img" aria-label="Answer chart"></canvas>
        </div>
        <div class="table-wrap" data-ask-table-wrap="" hidden>
          <table class="table table-numbers" data-table="ask-rows">
            <thead></thead>
            <tbody></tbody>
          </table>
        </div>
        <details class="payload" data-ask-sql-box="" hidden>
          <summary>Query that ran</summary>
          <pre class="body-preview payload-body" data-ask-sql=""></pre>
        </details>
      </div>
    </div>
  );
}

export function AnalyticsPage(props: {
  me: Me;
  filters: DashboardFilters;
  result: AnalyticsResponse | null;
  error: string | null;
}) {
  const { me, filters, result, error } = props;
  const scope = filters.propertyId
    ? (me.properties.find((p) => p.id === filters.propertyId)?.name ?? 'one property')
    : 'all properties';
  const hasData = result !== null && result.data.length > 0;
  return (
    <section data-page="analytics">
      <PageHeader
        title="MultiChannel BI"
        subtitle={
          <>
            Paid-media performance across channels for <strong data-scope="">{scope}</strong>, {filters.start} to{' '}
            {filters.end}. CPA is weighted: total spend over total leads.
          </>
        }
      />
      <FilterForm me={me} filters={filters} />
      {error ? (
        <p class="form-error" data-error="" role="alert">
          {error}
        </p>
      ) : null}
      {result ? (
        <>
          <h2 class="section-title">By channel</h2>
          {hasData ? (
            <ChannelTotals result={result} />
          ) : (
            <EmptyState title="No data for this range">
              Nothing was synced for {scope} between {filters.start} and {filters.end}.
            </EmptyState>
          )}
          {hasData ? <TrendChart result={result} filters={filters} /> : null}
        </>
      ) : null}
      {can(me, 'analytics:read') ? <AskBox /> : null}
    </section>
  );
}
