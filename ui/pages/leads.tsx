/**
 * TourSpark's leads list (/admin/leads): every lead with its LeadPulse score, its follow-up sequence's state
 * and whether a reply waits for staff; filters as GET parameters passed through to GET /v1/leads. Also the
 * shapes of /v1/leads the lead pages read, and the parts they share.
 */
import type { Child } from 'hono/jsx';
import { PropertyPicker } from './lumaleasing-common';
import { EmptyState, PageHeader, Time, type Me } from './shared';

export interface SequenceView {
  workflowId: string;
  status: 'active' | 'paused' | 'completed' | 'converted' | 'exited';
  currentStep: number;
  totalSteps: number;
  exitReason: string | null;
  pausedReason: string | null;
  needsStaff: boolean;
  nextActionAt: string | null;
  lastActionAt: string | null;
  startedAt: string;
  updatedAt: string;
}

export interface LeadListItem {
  id: string;
  propertyId: string | null;
  propertyName: string | null;
  source: string;
  externalId: string;
  name: string | null;
  stage: 'new' | 'tour_booked' | 'leased';
  receivedAt: string;
  score: number | null;
  bucket: 'high_intent' | 'medium_intent' | 'low_intent' | null;
  modelVersion: number | null;
  unitType: string | null;
  sequence: SequenceView | null;
  needsStaff: boolean;
}

export const SEQUENCE_FILTERS = ['active', 'paused', 'completed', 'converted', 'exited', 'none'] as const;
export const BUCKET_FILTERS = ['high_intent', 'medium_intent', 'low_intent', 'unscored'] as const;

export interface LeadFilters {
  propertyId: string | null;
  status: (typeof SEQUENCE_FILTERS)[number] | null;
  bucket: (typeof BUCKET_FILTERS)[number] | null;
  source: string | null;
  needsStaff: boolean;
  q: string | null;
  cursor: string | null;
}

/** The list URL for these filters (links keep the other filters; any change starts from the first page). */
export function leadsHref(filters: LeadFilters, change: Partial<LeadFilters> = {}): string {
  const f = { ...filters, cursor: null, ...change };
  const params = new URLSearchParams();
  if (f.propertyId) params.set('propertyId', f.propertyId);
  if (f.status) params.set('status', f.status);
  if (f.bucket) params.set('bucket', f.bucket);
  if (f.source) params.set('source', f.source);
  if (f.needsStaff) params.set('needsStaff', 'true');
  if (f.q) params.set('q', f.q);
  if (f.cursor) params.set('cursor', f.cursor);
  const query = params.toString();
  return query ? `/admin/leads?${query}` : '/admin/leads';
}

export type TourSparkTab = 'leads' | 'sequences';

export function TourSparkTabs({ active }: { active: TourSparkTab | null }) {
  const tab = (key: TourSparkTab, href: string, label: string) => (
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
    <nav class="tabs" aria-label="TourSpark">
      {tab('leads', '/admin/leads', 'Leads')}
      {tab('sequences', '/admin/tourspark', 'Sequences')}
      <a href="/admin/workflows?product=tourspark" class="tab tab-aside" data-tab="runs">
        Workflow runs
      </a>
    </nav>
  );
}

const BUCKET_LABELS: Record<string, string> = {
  high_intent: 'High intent',
  medium_intent: 'Medium intent',
  low_intent: 'Low intent',
};
const BUCKET_TONES: Record<string, string> = {
  high_intent: 'success',
  medium_intent: 'warning',
  low_intent: 'neutral',
};

export function bucketLabel(bucket: string | null): string {
  return bucket ? (BUCKET_LABELS[bucket] ?? bucket) : 'Not scored';
}

/** The LeadPulse score with its bucket: "82 High intent". */
export function ScoreBadge({
  score,
  bucket,
  version,
}: {
  score: number | null;
  bucket: string | null;
  version?: number | null;
}) {
  if (score === null) {
    return (
      <span class="muted small" data-score="" title="No promoted LeadPulse model scored this lead">
        not scored
      </span>
    );
  }
  return (
    <span
      class={`badge badge-${BUCKET_TONES[bucket ?? ''] ?? 'neutral'}`}
      data-score={String(score)}
      data-bucket={bucket ?? ''}
      title={version ? `LeadPulse model v${version}` : 'LeadPulse score'}
    >
      {score} · {bucketLabel(bucket)}
    </span>
  );
}

const SEQUENCE_TONES: Record<string, string> = {
  active: 'info',
  waiting: 'info',
  paused: 'warning',
  completed: 'neutral',
  converted: 'success',
  exited: 'neutral',
  following_up: 'neutral',
  closed: 'neutral',
};

const EXIT_LABELS: Record<string, string> = {
  tour_booked: 'tour booked',
  reply_received: 'replied',
  opt_out: 'opted out',
  completed: 'all steps sent',
  cancelled: 'cancelled',
};

export function exitLabel(reason: string | null): string {
  return reason ? (EXIT_LABELS[reason] ?? reason.replace(/_/g, ' ')) : '';
}

/** The sequence's state as the mirror has it: "active 1/3", "paused", "exited (replied)". */
export function SequenceBadge({ sequence }: { sequence: SequenceView | null }) {
  if (!sequence) {
    return (
      <span class="muted small" data-sequence-status="none">
        no sequence
      </span>
    );
  }
  const s = sequence;
  const detail =
    s.status === 'active' || s.status === 'paused'
      ? ` ${s.currentStep}/${s.totalSteps}`
      : s.exitReason
        ? ` (${exitLabel(s.exitReason)})`
        : '';
  return (
    <span class={`badge badge-${SEQUENCE_TONES[s.status] ?? 'neutral'}`} data-sequence-status={s.status}>
      {s.status}
      {detail}
    </span>
  );
}

export function NeedsStaff() {
  return (
    <span class="badge badge-danger" data-needs-staff="" title="A reply is waiting for someone to answer it">
      Needs staff
    </span>
  );
}

function FilterBar({ me, filters }: { me: Me; filters: LeadFilters }) {
  const chip = (label: string, change: Partial<LeadFilters>, active: boolean, key: string) => (
    <a href={leadsHref(filters, change)} class={active ? 'filter-chip active' : 'filter-chip'} data-filter={key}>
      {label}
    </a>
  );
  return (
    <div class="filter-bar" data-lead-filters="">
      {me.properties.length > 1 ? (
        <PropertyPicker
          me={me}
          action="/admin/leads"
          selected={filters.propertyId}
          allLabel="All properties"
          keep={{
            status: filters.status,
            bucket: filters.bucket,
            source: filters.source,
            needsStaff: filters.needsStaff ? 'true' : null,
            q: filters.q,
          }}
        />
      ) : null}
      <form method="get" action="/admin/leads" class="inline-form" role="search" data-lead-search="">
        {Object.entries({
          propertyId: filters.propertyId,
          status: filters.status,
          bucket: filters.bucket,
          source: filters.source,
          needsStaff: filters.needsStaff ? 'true' : null,
        }).map(([name, value]) => (value ? <input type="hidden" name={name} value={value} /> : null))}
        <label class="sr-only" for="lead-q">
          Search by name
        </label>
        <input id="lead-q" type="search" name="q" value={filters.q ?? ''} placeholder="Name…" maxlength={100} />
        <label class="sr-only" for="lead-source">
          Source
        </label>
        <input
          id="lead-source"
          type="text"
          name="source"
          value={filters.source ?? ''}
          placeholder="Source (e.g. zillow)"
          pattern="[a-z][a-z0-9_]*"
          maxlength={64}
        />
        <button type="submit" class="btn btn-sm">
          Search
        </button>
      </form>
      <div class="chip-group" role="group" aria-label="Sequence">
        {chip('Active', { status: 'active' }, filters.status === 'active', 'status-active')}
        {chip('Paused', { status: 'paused' }, filters.status === 'paused', 'status-paused')}
        {chip('Ended', { status: 'exited' }, filters.status === 'exited', 'status-exited')}
        {chip('Converted', { status: 'converted' }, filters.status === 'converted', 'status-converted')}
        {chip('No sequence', { status: 'none' }, filters.status === 'none', 'status-none')}
        {chip('Any', { status: null }, filters.status === null, 'status-any')}
      </div>
      <div class="chip-group" role="group" aria-label="Score">
        {chip('High', { bucket: 'high_intent' }, filters.bucket === 'high_intent', 'bucket-high')}
        {chip('Medium', { bucket: 'medium_intent' }, filters.bucket === 'medium_intent', 'bucket-medium')}
        {chip('Low', { bucket: 'low_intent' }, filters.bucket === 'low_intent', 'bucket-low')}
        {chip('Any score', { bucket: null }, filters.bucket === null, 'bucket-any')}
      </div>
      <div class="chip-group" role="group" aria-label="Needs staff">
        {chip('Needs staff', { needsStaff: !filters.needsStaff }, filters.needsStaff, 'needs-staff')}
      </div>
    </div>
  );
}

export function LeadsPage({
  me,
  leads,
  nextCursor,
  filters,
}: {
  me: Me;
  leads: LeadListItem[];
  nextCursor: string | null;
  filters: LeadFilters;
}) {
  const showProperty = !filters.propertyId && me.properties.length > 1;
  const filtered =
    filters.status !== null || filters.bucket !== null || filters.source !== null || filters.needsStaff || !!filters.q;
  const empty: Child = filtered ? (
    <>
      Nothing matches these filters.{' '}
      <a href={leadsHref({ ...filters, status: null, bucket: null, source: null, needsStaff: false, q: null })}>
        Show all
      </a>
    </>
  ) : (
    <>
      Leads arrive from website forms, listing sites and CRMs through <code>POST /v1/leads</code>, from the LumaLeasing
      chat, and from CRM imports. Each is scored and, where the property’s sequence is on, followed up.
    </>
  );
  return (
    <section data-page="leads">
      <PageHeader
        title="TourSpark"
        subtitle="Leads with their LeadPulse score and follow-up sequence. Open one to read its messages and step in."
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
      <TourSparkTabs active="leads" />
      <FilterBar me={me} filters={filters} />
      {leads.length === 0 ? (
        <EmptyState title={filtered ? 'No leads match' : 'No leads yet'}>{empty}</EmptyState>
      ) : (
        <div class="table-wrap">
          <table class="table" data-table="leads">
            <thead>
              <tr>
                <th>Lead</th>
                {showProperty ? <th>Property</th> : null}
                <th>Source</th>
                <th>Score</th>
                <th>Sequence</th>
                <th>Received</th>
              </tr>
            </thead>
            <tbody>
              {leads.map((l) => {
                const href = `/admin/leads/${encodeURIComponent(l.id)}`;
                return (
                  <tr data-lead-id={l.id} class={l.needsStaff ? 'row-unread' : ''}>
                    <td class="cell-name">
                      <a href={href} data-lead-link="">
                        {l.name ?? <span class="muted">Name unavailable</span>}
                      </a>{' '}
                      {l.needsStaff ? <NeedsStaff /> : null}
                      <div class="muted small">
                        {l.stage === 'new' ? null : (
                          <span class="lead-tag" data-stage={l.stage}>
                            {l.stage.replace(/_/g, ' ')}
                          </span>
                        )}
                        {l.unitType ?? ''}
                      </div>
                    </td>
                    {showProperty ? <td>{l.propertyName ?? '—'}</td> : null}
                    <td>
                      <code class="mono" data-source="">
                        {l.source}
                      </code>
                    </td>
                    <td>
                      <ScoreBadge score={l.score} bucket={l.bucket} version={l.modelVersion} />
                    </td>
                    <td>
                      <SequenceBadge sequence={l.sequence} />
                    </td>
                    <td class="nowrap">
                      <Time value={l.receivedAt} />
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
            <a class="btn btn-sm" href={leadsHref(filters)}>
              Newest
            </a>
          ) : null}
          {nextCursor ? (
            <a class="btn btn-sm" href={leadsHref(filters, { cursor: nextCursor })} data-next-page="">
              Older leads
            </a>
          ) : null}
        </div>
      ) : null}
    </section>
  );
}
