/** What the Data Lake pages read from /v1/data-lake (the shapes of the API contract), and parts they share. */

export type Channel = 'meta' | 'google_ads' | 'ga4';

export const CHANNELS: readonly Channel[] = ['meta', 'google_ads', 'ga4'];

export const CHANNEL_LABELS: Record<string, string> = {
  meta: 'Meta Ads',
  google_ads: 'Google Ads',
  ga4: 'Google Analytics 4',
};

/** The account id each platform calls it by. */
export const ACCOUNT_ID_LABELS: Record<Channel, string> = {
  meta: 'Ad account id (digits, without act_)',
  google_ads: 'Customer id (digits, no dashes)',
  ga4: 'GA4 property id',
};

/** The daily sync's default re-pull window per channel (db/schema/data-lake.ts DEFAULT_LOOKBACK_DAYS). */
export const DEFAULT_LOOKBACK: Record<Channel, number> = { meta: 28, google_ads: 14, ga4: 2 };

export function channelLabel(channel: string | null | undefined): string {
  if (!channel) return '—';
  return CHANNEL_LABELS[channel] ?? channel;
}

export interface CampaignRuleView {
  pattern: string;
  propertyId: string;
}

export interface ConnectionView {
  id: string;
  channel: Channel;
  name: string;
  accountId: string;
  timezone: string;
  defaultPropertyId: string | null;
  campaignRules: CampaignRuleView[];
  lookbackDays: number;
  schedulesEnabled: boolean;
  lastSyncAt: string | null;
  lastSyncStatus: 'running' | 'succeeded' | 'failed' | null;
  lastSyncError: string | null;
  credentialsInvalid: boolean;
  factRows: number;
  unmappedCampaigns: number;
  createdAt: string;
  updatedAt: string;
}

export interface SyncRunView {
  id: string;
  workflowId: string;
  trigger: string;
  rangeStart: string;
  rangeEnd: string;
  status: string;
  pages: number;
  rowsFetched: number;
  factsUpserted: number;
  factsRemoved: number;
  error: string | null;
  startedAt: string;
  finishedAt: string | null;
}

export interface ScheduleView {
  scheduleId: string;
  kind: 'daily' | 'hourly';
  paused: boolean;
  nextActionTimes: string[];
}

export interface CampaignView {
  campaignId: string;
  name: string;
  propertyId: string | null;
  mappedBy: 'explicit' | 'rule' | 'default' | null;
  explicitPropertyId: string | null;
  lastSeenAt: string;
}

export interface ImportView {
  id: string;
  filename: string;
  format: string | null;
  status: string;
  rowsTotal: number;
  rowsImported: number;
  rowsDuplicate: number;
  rowErrors: { line: number; reason: string }[];
  error: string | null;
  workflowId: string;
  createdAt: string;
  finishedAt: string | null;
}

/** `progress` of GET /v1/workflows/:id for a backfill (months) or a plain sync (pages, percent null). */
export interface SyncProgress {
  monthsTotal?: number;
  monthsDone?: number;
  monthsFailed?: number;
  monthsRunning?: number;
  pages?: number;
  rowsFetched?: number;
  factsUpserted?: number;
  percent: number | null;
}

export interface WorkflowDetail {
  workflowId: string;
  runId: string;
  type: string;
  status: string;
  startTime: string | null;
  closeTime: string | null;
  summary: string | null;
  temporalUiUrl: string;
  progress?: SyncProgress;
}

const INTEGER = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

export function formatCount(value: number | null | undefined): string {
  return value === null || value === undefined ? '—' : INTEGER.format(value);
}

export function ChannelBadge({ channel }: { channel: string }) {
  return (
    <span class={`channel channel-${channel}`} data-channel={channel}>
      {channelLabel(channel)}
    </span>
  );
}

/**
 * The credential inputs of one channel, named `credentials.<field>` (admin.js nests them). Each channel's
 * fieldset is disabled unless its channel is chosen, so only the chosen channel's fields are sent.
 */
export function CredentialFields({
  channel,
  active,
  required,
}: {
  channel: Channel;
  active: boolean;
  required: boolean;
}) {
  // Secrets are password inputs so they are not shown on screen; ids are plain text.
  const field = (type: 'password' | 'text', name: string, label: string, optional = false) => (
    <label class="field grow">
      <span>
        {label}
        {optional ? <span class="muted"> (optional)</span> : null}
      </span>
      <input
        type={type}
        name={`credentials.${name}`}
        autocomplete="off"
        required={required && !optional}
        data-optional={optional ? '' : undefined}
      />
    </label>
  );
  const secret = (name: string, label: string, optional = false) => field('password', name, label, optional);
  const plain = (name: string, label: string, optional = false) => field('text', name, label, optional);
  return (
    <fieldset class="field credentials" data-channel-fields={channel} disabled={!active} hidden={!active}>
      <legend>{channelLabel(channel)} credentials</legend>
      <div class="form-row">
        {channel === 'meta' ? secret('accessToken', 'Access token') : null}
        {channel === 'google_ads' ? (
          <>
            {secret('developerToken', 'Developer token')}
            {plain('loginCustomerId', 'Login customer id (manager account)', true)}
          </>
        ) : null}
      </div>
      {channel === 'google_ads' || channel === 'ga4' ? (
        <div class="form-row">
          {plain('clientId', 'OAuth client id')}
          {secret('clientSecret', 'OAuth client secret')}
          {secret('refreshToken', 'Refresh token')}
        </div>
      ) : null}
    </fieldset>
  );
}

/** A property select; `emptyLabel` is the "none" choice (sent as null). */
export function PropertySelect(props: {
  name?: string;
  properties: { id: string; name: string }[];
  value: string | null;
  emptyLabel: string;
  attrs?: Record<string, string | undefined>;
  label?: string;
}) {
  return (
    <select name={props.name} aria-label={props.label} data-null-empty="" {...(props.attrs ?? {})}>
      <option value="" selected={props.value === null}>
        {props.emptyLabel}
      </option>
      {props.properties.map((p) => (
        <option value={p.id} selected={props.value === p.id}>
          {p.name}
        </option>
      ))}
    </select>
  );
}

/** The campaign-rule rows editor: pattern → property, rows added and removed in the browser. */
export function CampaignRulesEditor({
  rules,
  properties,
}: {
  rules: CampaignRuleView[];
  properties: { id: string; name: string }[];
}) {
  const row = (rule: CampaignRuleView | null) => (
    <div class="rule-row" data-row="">
      <input
        type="text"
        data-key="pattern"
        value={rule?.pattern ?? ''}
        placeholder="e.g. Reserve* or brand"
        aria-label="Campaign name pattern"
        maxlength={200}
      />
      <span class="muted">→</span>
      <select data-key="propertyId" aria-label="Property">
        {properties.map((p) => (
          <option value={p.id} selected={rule?.propertyId === p.id}>
            {p.name}
          </option>
        ))}
      </select>
      <button type="button" class="btn btn-sm btn-ghost" data-remove-row="" aria-label="Remove rule">
        Remove
      </button>
    </div>
  );
  return (
    <fieldset class="field" data-rules-editor="">
      <legend>Campaign rules</legend>
      <p class="muted small hint">
        Campaigns without an explicit mapping go to the first rule whose pattern their name contains (case-insensitive;{' '}
        <code>*</code> matches anything), else to the default property.
      </p>
      <div class="rule-rows" data-rows="campaignRules">
        {rules.map((r) => row(r))}
      </div>
      <template data-row-template="campaignRules">{row(null)}</template>
      <div>
        <button type="button" class="btn btn-sm" data-add-row="campaignRules" disabled={properties.length === 0}>
          Add rule
        </button>
      </div>
    </fieldset>
  );
}
