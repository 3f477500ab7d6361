import {
  CampaignRulesEditor,
  ChannelBadge,
  channelLabel,
  CredentialFields,
  formatCount,
  PropertySelect,
  type CampaignView,
  type ConnectionView,
  type ScheduleView,
  type SyncRunView,
  type WorkflowDetail,
} from './data-lake-common';
import { can, EmptyState, FormError, FormFooter, PageHeader, StatusBadge, TemporalLink, Time, type Me } from './shared';

const TRIGGER_LABELS: Record<string, string> = {
  manual: 'Sync now',
  schedule_daily: 'Daily schedule',
  schedule_hourly: 'Hourly schedule',
  backfill: 'Backfill',
};

const MAPPED_BY_LABELS: Record<string, string> = {
  explicit: 'explicit mapping',
  rule: 'campaign rule',
  default: 'default property',
};

/**
 * A sync or backfill being watched: the server renders its state at load, admin.js polls
 * GET /v1/workflows/:workflowId every 2 s and updates the bar until the run closes, then reloads the page.
 */
function ProgressPanel({ watch }: { watch: WorkflowDetail }) {
  const running = watch.status === 'RUNNING';
  const progress = watch.progress;
  const completed = watch.status === 'COMPLETED';
  const percent = progress?.percent ?? (completed ? 100 : null);
  const isBackfill = progress?.monthsTotal !== undefined || /backfill/i.test(watch.type);
  const months =
    progress?.monthsTotal !== undefined
      ? `${progress.monthsDone ?? 0} of ${progress.monthsTotal} months done` +
        (progress.monthsRunning ? `, ${progress.monthsRunning} running` : '') +
        (progress.monthsFailed ? `, ${progress.monthsFailed} failed` : '')
      : null;
  const counts =
    progress && progress.monthsTotal === undefined
      ? `${formatCount(progress.pages ?? 0)} pages, ${formatCount(progress.rowsFetched ?? 0)} rows fetched`
      : null;
  return (
    <div
      class="card progress-card"
      data-progress=""
      data-workflow-url={`/v1/workflows/${encodeURIComponent(watch.workflowId)}`}
      data-status={watch.status}
      data-kind={isBackfill ? 'Backfill' : 'Sync'}
      data-poll={running ? '2000' : undefined}
    >
      <div class="progress-head">
        <strong>{isBackfill ? 'Backfill' : 'Sync'}</strong>
        <StatusBadge status={watch.status} />
        <span class="muted small" data-progress-percent="">
          {percent === null ? '' : `${Math.round(percent)}%`}
        </span>
        <a
          class="small progress-link"
          href={watch.temporalUiUrl}
          target="_blank"
          rel="noopener noreferrer"
          data-temporal-link=""
        >
          <code>{watch.workflowId}</code> ↗
        </a>
      </div>
      {percent === null ? (
        <progress class="progress" max={100} data-progress-bar="" aria-label="Progress"></progress>
      ) : (
        <progress
          class="progress"
          max={100}
          value={String(percent)}
          data-progress-bar=""
          aria-label="Progress"
        ></progress>
      )}
      <div class="muted small" data-progress-detail="">
        {running ? (
          [
            months,
            counts,
            progress?.factsUpserted !== undefined ? `${formatCount(progress.factsUpserted)} facts upserted` : null,
          ]
            .filter(Boolean)
            .join(' · ') || 'Waiting for a worker to pick it up…'
        ) : (
          <>
            Ended <Time value={watch.closeTime} />. Its runs are listed below.
          </>
        )}
      </div>
    </div>
  );
}

function EditForm({ me, connection }: { me: Me; connection: ConnectionView }) {
  return (
    <form
      class="form card"
      data-api-form=""
      data-method="PATCH"
      data-url={`/v1/data-lake/connections/${encodeURIComponent(connection.id)}`}
      data-then="flash-reload:Connection saved"
      data-edit-connection=""
    >
      <div class="form-row">
        <label class="field grow">
          <span>Name</span>
          <input type="text" name="name" value={connection.name} maxlength={120} required />
        </label>
        <label class="field grow">
          <span>Time zone</span>
          <input type="text" name="timezone" value={connection.timezone} maxlength={64} required />
        </label>
        <label class="field">
          <span>Default property</span>
          <PropertySelect
            name="defaultPropertyId"
            properties={me.properties}
            value={connection.defaultPropertyId}
            emptyLabel="None"
          />
        </label>
        <label class="field">
          <span>Lookback days</span>
          <input
            type="number"
            name="lookbackDays"
            min={1}
            max={90}
            value={String(connection.lookbackDays)}
            data-number=""
            required
          />
        </label>
      </div>
      <CampaignRulesEditor rules={connection.campaignRules} properties={me.properties} />
      <label class="checkbox">
        <input type="checkbox" name="schedulesEnabled" checked={connection.schedulesEnabled} />
        <span>
          Schedules on <span class="muted small">(daily lookback sync and hourly sync of today)</span>
        </span>
      </label>
      <FormFooter submitLabel="Save changes" />
    </form>
  );
}

function CredentialsForm({ connection }: { connection: ConnectionView }) {
  return (
    <details class="card create-card" data-replace-credentials="">
      <summary class="btn">Replace credentials</summary>
      <form
        class="form"
        data-api-form=""
        data-method="PATCH"
        data-url={`/v1/data-lake/connections/${encodeURIComponent(connection.id)}`}
        data-then="flash-reload:Credentials replaced"
      >
        <p class="muted small hint">Stored credentials are never shown. New ones replace them for every later sync.</p>
        <CredentialFields channel={connection.channel} active required />
        <FormFooter submitLabel="Replace credentials" />
      </form>
    </details>
  );
}

function BackfillForm({ connection }: { connection: ConnectionView }) {
  return (
    <form
      class="form card"
      data-api-form=""
      data-method="POST"
      data-url={`/v1/data-lake/connections/${encodeURIComponent(connection.id)}/backfill`}
      data-then={`redirect-to:/admin/data-lake/connections/${encodeURIComponent(connection.id)}?watch={workflowId}`}
      data-backfill-form=""
    >
      <div class="form-row form-row-end">
        <label class="field">
          <span>Backfill from</span>
          <input type="date" name="start" required />
        </label>
        <label class="field">
          <span>
            Until <span class="muted">(optional; defaults to yesterday)</span>
          </span>
          <input type="date" name="end" data-optional="" />
        </label>
        <div class="form-actions">
          <button type="submit" class="btn btn-primary">
            Start backfill
          </button>
        </div>
      </div>
      <p class="muted small hint">Split into one sync per month, run in parallel on the backfill queue.</p>
      <FormError />
    </form>
  );
}

function RunsTable({ runs, uiLink }: { runs: SyncRunView[]; uiLink: (workflowId: string) => string }) {
  return (
    <div class="table-wrap">
      <table class="table" data-table="runs">
        <thead>
          <tr>
            <th>Trigger</th>
            <th>Range</th>
            <th>Status</th>
            <th class="right">Pages</th>
            <th class="right">Rows</th>
            <th class="right">Facts</th>
            <th>Started</th>
            <th>Error</th>
            <th class="right">
              <span class="sr-only">Temporal Web UI</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {runs.map((r) => (
            <tr data-run-id={r.id} data-workflow-id={r.workflowId}>
              <td>{TRIGGER_LABELS[r.trigger] ?? r.trigger}</td>
              <td class="nowrap" data-cell="range">
                {r.rangeStart === r.rangeEnd ? r.rangeStart : `${r.rangeStart} → ${r.rangeEnd}`}
              </td>
              <td>
                <StatusBadge status={r.status} />
              </td>
              <td class="right">{formatCount(r.pages)}</td>
              <td class="right">{formatCount(r.rowsFetched)}</td>
              <td class="right" data-cell="facts">
                {formatCount(r.factsUpserted)}
                {r.factsRemoved > 0 ? <div class="muted small">−{formatCount(r.factsRemoved)} removed</div> : null}
              </td>
              <td class="nowrap">
                <Time value={r.startedAt} />
              </td>
              <td class="cell-summary">
                {r.error ? <span class="danger-text">{r.error}</span> : <span class="muted">—</span>}
              </td>
              <td class="right nowrap">
                <TemporalLink href={uiLink(r.workflowId)} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function SchedulesTable({ schedules }: { schedules: ScheduleView[] }) {
  return (
    <div class="table-wrap">
      <table class="table" data-table="schedules">
        <thead>
          <tr>
            <th>Schedule</th>
            <th>Kind</th>
            <th>State</th>
            <th>Next run</th>
          </tr>
        </thead>
        <tbody>
          {schedules.map((s) => (
            <tr data-schedule-id={s.scheduleId}>
              <td>
                <code>{s.scheduleId}</code>
              </td>
              <td>{s.kind === 'daily' ? 'Daily (lookback window)' : 'Hourly (today)'}</td>
              <td>
                <span class={s.paused ? 'badge badge-warning' : 'badge badge-success'}>
                  {s.paused ? 'Paused' : 'Active'}
                </span>
              </td>
              <td class="nowrap">
                <Time value={s.paused ? null : (s.nextActionTimes[0] ?? null)} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function CampaignsTable({
  me,
  connection,
  campaigns,
  canMap,
}: {
  me: Me;
  connection: ConnectionView;
  campaigns: CampaignView[];
  canMap: boolean;
}) {
  const names = new Map(me.properties.map((p) => [p.id, p.name]));
  const base = `/v1/data-lake/connections/${encodeURIComponent(connection.id)}/campaigns`;
  return (
    <div class="table-wrap">
      <table class="table" data-table="campaigns">
        <thead>
          <tr>
            <th>Campaign</th>
            <th>Property</th>
            <th>Mapped by</th>
            <th>Last seen</th>
          </tr>
        </thead>
        <tbody>
          {campaigns.map((c) => (
            <tr
              data-campaign-id={c.campaignId}
              data-unmapped={c.propertyId === null ? '' : undefined}
              class={c.propertyId === null ? 'row-unmapped' : undefined}
            >
              <td>
                {c.name}
                <div class="muted small mono">{c.campaignId}</div>
              </td>
              <td>
                {canMap ? (
                  <PropertySelect
                    properties={me.properties}
                    value={c.explicitPropertyId}
                    emptyLabel={c.explicitPropertyId === null && c.propertyId !== null ? 'Automatic' : 'Unmapped'}
                    label={`Property for ${c.name}`}
                    attrs={{
                      'data-api-change': '',
                      'data-method': 'PUT',
                      'data-url': `${base}/${encodeURIComponent(c.campaignId)}`,
                      'data-field': 'propertyId',
                      'data-then': 'reload',
                      'data-map-campaign': '',
                    }}
                  />
                ) : null}
                {/* The select shows the explicit choice; without one, say where the rules or default put it. */}
                {canMap && c.explicitPropertyId !== null ? null : (
                  <div class={canMap ? 'muted small' : undefined} data-cell="property">
                    {c.propertyId === null ? (
                      <span class="badge badge-warning">Unmapped</span>
                    ) : (
                      <>
                        {canMap ? 'Now: ' : null}
                        {names.get(c.propertyId) ?? c.propertyId}
                      </>
                    )}
                  </div>
                )}
              </td>
              <td data-cell="mapped-by">{c.mappedBy ? MAPPED_BY_LABELS[c.mappedBy] : <span class="muted">—</span>}</td>
              <td class="nowrap">
                <Time value={c.lastSeenAt} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function ConnectionPage(props: {
  me: Me;
  connection: ConnectionView;
  runs: SyncRunView[];
  schedules: ScheduleView[];
  campaigns: CampaignView[];
  unmappedOnly: boolean;
  watch: WorkflowDetail | null;
  uiLink: (workflowId: string) => string;
}) {
  const { me, connection, runs, schedules, campaigns, unmappedOnly, watch } = props;
  const canEdit = can(me, 'data_lake:write');
  const canRun = can(me, 'workflows:write');
  const base = `/v1/data-lake/connections/${encodeURIComponent(connection.id)}`;
  const self = `/admin/data-lake/connections/${encodeURIComponent(connection.id)}`;
  const propertyNames = new Map(me.properties.map((p) => [p.id, p.name]));
  return (
    <section data-page="data-lake-connection" data-connection-id={connection.id}>
      <p class="breadcrumb">
        <a href="/admin/data-lake">Data Lake</a> /
      </p>
      <PageHeader
        title={connection.name}
        subtitle={
          <>
            <ChannelBadge channel={connection.channel} /> account <code>{connection.accountId}</code>
          </>
        }
        actions={
          <>
            {canRun ? (
              <button
                type="button"
                class="btn btn-primary"
                data-api-action=""
                data-method="POST"
                data-url={`${base}/sync`}
                data-body="{}"
                data-then={`redirect-to:${self}?watch={workflowId}`}
                data-sync-now=""
              >
                Sync now
              </button>
            ) : null}
            {canEdit ? (
              <button
                type="button"
                class="btn btn-danger"
                data-api-action=""
                data-method="DELETE"
                data-url={base}
                data-confirm={`Delete the connection ${connection.name}? Its schedules stop; synced facts are kept.`}
                data-then="redirect:/admin/data-lake"
              >
                Delete
              </button>
            ) : null}
          </>
        }
      />

      {watch ? <ProgressPanel watch={watch} /> : null}

      <dl class="facts card">
        <div>
          <dt>Last sync</dt>
          <dd>
            {connection.lastSyncStatus ? <StatusBadge status={connection.lastSyncStatus} /> : null}{' '}
            <Time value={connection.lastSyncAt} empty="never synced" />
            {connection.lastSyncError ? <div class="small danger-text">{connection.lastSyncError}</div> : null}
          </dd>
        </div>
        <div>
          <dt>Credentials</dt>
          <dd>
            {connection.credentialsInvalid ? (
              <span class="badge badge-danger" data-credentials-invalid="">
                Invalid — replace them
              </span>
            ) : (
              <span class="badge badge-success">Accepted</span>
            )}
          </dd>
        </div>
        <div>
          <dt>Fact rows</dt>
          <dd data-fact-rows="">{formatCount(connection.factRows)}</dd>
        </div>
        <div>
          <dt>Unmapped campaigns</dt>
          <dd data-unmapped-count="">{formatCount(connection.unmappedCampaigns)}</dd>
        </div>
        <div>
          <dt>Time zone</dt>
          <dd>{connection.timezone}</dd>
        </div>
        <div>
          <dt>Default property</dt>
          <dd>
            {connection.defaultPropertyId ? (
              (propertyNames.get(connection.defaultPropertyId) ?? connection.defaultPropertyId)
            ) : (
              <span class="muted">None</span>
            )}
          </dd>
        </div>
        <div>
          <dt>Lookback</dt>
          <dd>{connection.lookbackDays} days</dd>
        </div>
        <div>
          <dt>Schedules</dt>
          <dd>
            <span class={connection.schedulesEnabled ? 'badge badge-success' : 'badge badge-neutral'}>
              {connection.schedulesEnabled ? 'On' : 'Off'}
            </span>
          </dd>
        </div>
        {!canEdit && connection.campaignRules.length > 0 ? (
          <div>
            <dt>Campaign rules</dt>
            <dd>
              {connection.campaignRules.map((r) => (
                <div>
                  <code>{r.pattern}</code> → {propertyNames.get(r.propertyId) ?? r.propertyId}
                </div>
              ))}
            </dd>
          </div>
        ) : null}
      </dl>

      {canRun ? (
        <>
          <h2 class="section-title">Backfill</h2>
          <BackfillForm connection={connection} />
        </>
      ) : null}

      {canEdit ? (
        <>
          <h2 class="section-title">Settings</h2>
          <EditForm me={me} connection={connection} />
          <CredentialsForm connection={connection} />
        </>
      ) : null}

      <h2 class="section-title">Recent sync runs</h2>
      {runs.length === 0 ? (
        <EmptyState title="No sync runs yet">
          {canRun ? 'Use “Sync now” or start a backfill.' : 'Runs appear here when a schedule or someone starts one.'}
        </EmptyState>
      ) : (
        <RunsTable runs={runs} uiLink={props.uiLink} />
      )}

      <h2 class="section-title">Schedules</h2>
      {schedules.length === 0 ? (
        <EmptyState title="No schedules">
          {connection.schedulesEnabled
            ? 'The schedules are being created.'
            : 'Schedules are off for this connection; syncs run only when started by hand.'}
        </EmptyState>
      ) : (
        <SchedulesTable schedules={schedules} />
      )}

      <h2 class="section-title" id="campaigns">
        Campaigns{' '}
        <span class="filter-note">
          {unmappedOnly ? (
            <>
              unmapped only · <a href={`${self}#campaigns`}>show all</a>
            </>
          ) : (
            <a href={`${self}?unmapped=1#campaigns`} data-unmapped-filter="">
              unmapped only
            </a>
          )}
        </span>
      </h2>
      {campaigns.length === 0 ? (
        <EmptyState title={unmappedOnly ? 'No unmapped campaigns' : 'No campaigns yet'}>
          {unmappedOnly
            ? 'Every campaign of this connection maps to a property.'
            : `Campaigns appear after the first sync of this ${channelLabel(connection.channel)} account.`}
        </EmptyState>
      ) : (
        <CampaignsTable me={me} connection={connection} campaigns={campaigns} canMap={canEdit} />
      )}
    </section>
  );
}
