import {
  ACCOUNT_ID_LABELS,
  CampaignRulesEditor,
  ChannelBadge,
  CHANNELS,
  channelLabel,
  CredentialFields,
  DEFAULT_LOOKBACK,
  formatCount,
  PropertySelect,
  type ConnectionView,
  type ImportView,
} from './data-lake-common';
import { can, EmptyState, FormFooter, PageHeader, StatusBadge, Time, type Me } from './shared';

function SyncCell({ connection }: { connection: ConnectionView }) {
  return (
    <div data-cell="last-sync">
      {connection.lastSyncStatus ? <StatusBadge status={connection.lastSyncStatus} /> : null}{' '}
      <Time value={connection.lastSyncAt} empty="never synced" />
      {connection.lastSyncError ? (
        <div class="small danger-text" data-sync-error="">
          {connection.lastSyncError}
        </div>
      ) : null}
    </div>
  );
}

function AddConnectionForm({ me }: { me: Me }) {
  const properties = me.properties;
  const first = CHANNELS[0]!;
  return (
    <details class="card create-card" data-create-connection="">
      <summary class="btn btn-primary">Add connection</summary>
      <form
        class="form"
        data-api-form=""
        data-method="POST"
        data-url="/v1/data-lake/connections"
        data-then="redirect-to:/admin/data-lake/connections/{connection.id}"
      >
        <div class="form-row">
          <label class="field">
            <span>Channel</span>
            <select name="channel" data-channel-select="" required>
              {CHANNELS.map((ch) => (
                <option
                  value={ch}
                  selected={ch === first}
                  data-account-label={ACCOUNT_ID_LABELS[ch]}
                  data-lookback={String(DEFAULT_LOOKBACK[ch])}
                >
                  {channelLabel(ch)}
                </option>
              ))}
            </select>
          </label>
          <label class="field grow">
            <span>Name</span>
            <input type="text" name="name" maxlength={120} placeholder="The Reserve — Meta" required />
          </label>
          <label class="field grow">
            <span data-account-label="">{ACCOUNT_ID_LABELS[first]}</span>
            <input type="text" name="accountId" maxlength={64} required autocomplete="off" />
          </label>
        </div>
        {CHANNELS.map((ch) => (
          <CredentialFields channel={ch} active={ch === first} required />
        ))}
        <div class="form-row">
          <label class="field">
            <span>Default property</span>
            <PropertySelect
              name="defaultPropertyId"
              properties={properties}
              value={null}
              emptyLabel="None"
              attrs={{ 'data-optional': '' }}
            />
          </label>
          <label class="field grow">
            <span>
              Time zone <span class="muted">(optional; defaults to the default property’s)</span>
            </span>
            <input type="text" name="timezone" placeholder="America/Chicago" maxlength={64} data-optional="" />
          </label>
          <label class="field">
            <span>Lookback days</span>
            <input
              type="number"
              name="lookbackDays"
              min={1}
              max={90}
              value={String(DEFAULT_LOOKBACK[first])}
              data-number=""
              data-lookback-input=""
              required
            />
          </label>
        </div>
        <CampaignRulesEditor rules={[]} properties={properties} />
        <label class="checkbox">
          <input type="checkbox" name="schedulesEnabled" checked />
          <span>
            Schedules on{' '}
            <span class="muted small">(a daily sync of the lookback window and an hourly sync of today)</span>
          </span>
        </label>
        <FormFooter submitLabel="Add connection" />
      </form>
    </details>
  );
}

function ImportForm({ me }: { me: Me }) {
  return (
    <form
      class="form card import-form"
      data-api-form=""
      data-multipart=""
      data-method="POST"
      data-url="/v1/data-lake/imports"
      data-then="redirect-to:/admin/data-lake/imports/{import.id}"
      data-import-form=""
    >
      <div class="form-row">
        <label class="field grow">
          <span>Leads CSV export (Entrata, Yardi or generic columns)</span>
          <input type="file" name="file" accept=".csv,text/csv" required />
        </label>
        <label class="field">
          <span>
            Property for rows that name none <span class="muted">(optional)</span>
          </span>
          <PropertySelect name="defaultPropertyId" properties={me.properties} value={null} emptyLabel="None" />
        </label>
      </div>
      <FormFooter submitLabel="Import leads" />
    </form>
  );
}

export function ImportsTable({ imports }: { imports: ImportView[] }) {
  return (
    <div class="table-wrap">
      <table class="table" data-table="imports">
        <thead>
          <tr>
            <th>File</th>
            <th>Status</th>
            <th class="right">Rows</th>
            <th class="right">Imported</th>
            <th class="right">Duplicates</th>
            <th class="right">Errors</th>
            <th>Uploaded</th>
            <th class="right"></th>
          </tr>
        </thead>
        <tbody>
          {imports.map((i) => (
            <tr data-import-id={i.id}>
              <td>
                <code class="url">{i.filename}</code>
                {i.format ? <div class="muted small">{i.format} format</div> : null}
              </td>
              <td>
                <StatusBadge status={i.status} />
                {i.error ? <div class="small danger-text">{i.error}</div> : null}
              </td>
              <td class="right" data-cell="rows-total">
                {formatCount(i.rowsTotal)}
              </td>
              <td class="right" data-cell="rows-imported">
                {formatCount(i.rowsImported)}
              </td>
              <td class="right" data-cell="rows-duplicate">
                {formatCount(i.rowsDuplicate)}
              </td>
              <td class="right" data-cell="row-errors">
                {i.rowErrors.length > 0 ? <span class="danger-text">{formatCount(i.rowErrors.length)}</span> : '0'}
              </td>
              <td class="nowrap">
                <Time value={i.createdAt} />
              </td>
              <td class="right">
                <a href={`/admin/data-lake/imports/${encodeURIComponent(i.id)}`}>Details</a>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function DataLakePage({
  me,
  connections,
  imports,
}: {
  me: Me;
  connections: ConnectionView[];
  imports: ImportView[];
}) {
  const canWrite = can(me, 'data_lake:write');
  const propertyNames = new Map(me.properties.map((p) => [p.id, p.name]));
  return (
    <section data-page="data-lake">
      <PageHeader
        title="Data Lake"
        subtitle="Ad-platform and CRM data synced into one daily fact table, per campaign and property."
        actions={
          <a class="btn btn-sm" href="/admin/workflows?product=data-lake">
            Sync workflow runs
          </a>
        }
      />
      {canWrite ? <AddConnectionForm me={me} /> : null}

      <h2 class="section-title">Connections</h2>
      {connections.length === 0 ? (
        <EmptyState title="No connections">
          {canWrite
            ? 'Add a Meta Ads account, Google Ads customer or GA4 property to start syncing.'
            : 'An administrator can add one.'}
        </EmptyState>
      ) : (
        <div class="table-wrap">
          <table class="table" data-table="connections">
            <thead>
              <tr>
                <th>Connection</th>
                <th>Channel</th>
                <th>Account</th>
                <th>Last sync</th>
                <th class="right">Fact rows</th>
                <th class="right">Unmapped campaigns</th>
                <th>Schedules</th>
              </tr>
            </thead>
            <tbody>
              {connections.map((c) => (
                <tr data-connection-id={c.id}>
                  <td class="cell-name">
                    <a href={`/admin/data-lake/connections/${encodeURIComponent(c.id)}`} data-connection-link="">
                      {c.name}
                    </a>
                    {c.credentialsInvalid ? (
                      <div>
                        <span class="badge badge-danger" data-credentials-invalid="">
                          Credentials invalid
                        </span>
                      </div>
                    ) : null}
                    {c.defaultPropertyId ? (
                      <div class="muted small">
                        Default: {propertyNames.get(c.defaultPropertyId) ?? c.defaultPropertyId}
                      </div>
                    ) : null}
                  </td>
                  <td>
                    <ChannelBadge channel={c.channel} />
                  </td>
                  <td>
                    <code>{c.accountId}</code>
                  </td>
                  <td>
                    <SyncCell connection={c} />
                  </td>
                  <td class="right" data-cell="fact-rows">
                    {formatCount(c.factRows)}
                  </td>
                  <td class="right" data-cell="unmapped">
                    {c.unmappedCampaigns > 0 ? (
                      <a
                        class="warning-text"
                        href={`/admin/data-lake/connections/${encodeURIComponent(c.id)}?unmapped=1#campaigns`}
                      >
                        {formatCount(c.unmappedCampaigns)}
                      </a>
                    ) : (
                      '0'
                    )}
                  </td>
                  <td data-cell="schedules">
                    <span class={c.schedulesEnabled ? 'badge badge-success' : 'badge badge-neutral'}>
                      {c.schedulesEnabled ? 'On' : 'Off'}
                    </span>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      <h2 class="section-title" id="imports">
        CRM lead imports
      </h2>
      {canWrite ? <ImportForm me={me} /> : null}
      {imports.length === 0 ? (
        <EmptyState title="No imports yet">
          {canWrite ? 'Upload a leads CSV exported from the CRM.' : 'An administrator can upload a CRM leads export.'}
        </EmptyState>
      ) : (
        <ImportsTable imports={imports} />
      )}
    </section>
  );
}
