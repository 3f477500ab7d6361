/**
 * ReviewFlow's settings (/admin/reviews/settings): auto-reply for positive reviews and its delay, the approval
 * SLA (reminder, escalation, expiry), the Slack incoming webhook (write-only: configured / set / clear), the reply
 * voice per property (signature, tone, contact line, manager email), and Google Business Profile connections
 * (last poll, polling Schedule, poll now, pause / resume, connect, disconnect). Writes need `reviewflow:write`
 * (admins); everyone else reads. reviews.js sends the forms and shows the API's messages next to the fields.
 */
import { FieldError, ReviewFlowTabs } from './reviews';
import { can, EmptyState, FormError, PageHeader, Time, type Me } from './shared';

/** GET /v1/reviewflow/settings → settings. */
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

/** GET /v1/reviewflow/personas → personas. */
export interface PersonaView {
  propertyId: string;
  propertyName: string | null;
  signature: string;
  tone: 'warm' | 'professional' | 'upbeat';
  contactLine: string | null;
  managerEmail: string | null;
  /** Saved for this property (otherwise the defaults are shown). */
  custom: boolean;
}

/** GET /v1/reviewflow/connections → connections (credentials are never returned). */
export interface ConnectionView {
  id: string;
  propertyId: string;
  propertyName: string | null;
  name: string;
  accountId: string;
  locationId: string;
  pollingEnabled: boolean;
  lastPolledAt: string | null;
  lastPollStatus: string | null;
  lastPollError: string | null;
  lastPollChanges: number | null;
  schedule: { id: string; paused: boolean; nextRunAt: string | null } | null;
  notificationUrl: string;
}

const TONES = [
  { value: 'warm', label: 'Warm', help: 'friendly and personal' },
  { value: 'professional', label: 'Professional', help: 'polite and precise' },
  { value: 'upbeat', label: 'Upbeat', help: 'cheerful and energetic' },
] as const;

function DurationField({
  name,
  label,
  value,
  help,
}: {
  name: keyof SettingsView;
  label: string;
  value: string;
  help: string;
}) {
  return (
    <div class="field duration-field">
      <label class="field">
        <span>{label}</span>
        <input
          type="text"
          name={name}
          value={value}
          required
          maxlength={20}
          pattern="\s*\d+(\.\d+)?\s*(ms|s|m|h|d)\s*"
          title="A duration like 30m, 24h or 7d"
          data-settings-field={name}
        />
      </label>
      <p class="muted small hint">{help}</p>
      <FieldError name={name} />
    </div>
  );
}

function SettingsForm({ me, settings }: { me: Me; settings: SettingsView }) {
  const canWrite = can(me, 'reviewflow:write');
  return (
    <form
      class="form card"
      data-review-form=""
      data-method="PUT"
      data-url="/v1/reviewflow/settings"
      data-then="flash-reload:Settings saved; new reviews use them"
      data-settings-form=""
    >
      <h2 class="card-title">Replies and approvals</h2>
      <fieldset class="plain-fieldset" disabled={!canWrite}>
        <label class="checkbox">
          <input type="checkbox" name="autoReplyPositive" checked={settings.autoReplyPositive} />
          <span>
            Auto-post replies to positive reviews
            <span class="muted small block" data-auto-reply-note="">
              Positive reviews only; neutral and negative replies always need approval, whatever is set here.
            </span>
          </span>
        </label>
        <FieldError name="autoReplyPositive" />
        <div class="form-row">
          <DurationField
            name="autoReplyDelay"
            label="Auto-post after"
            value={settings.autoReplyDelay}
            help="Time for staff to step in first."
          />
          <DurationField
            name="reminderAfter"
            label="Remind after"
            value={settings.reminderAfter}
            help="Emails the property manager."
          />
          <DurationField
            name="escalateAfter"
            label="Escalate after"
            value={settings.escalateAfter}
            help="Emails the organization’s admins."
          />
          <DurationField
            name="expireAfter"
            label="Expire after"
            value={settings.expireAfter}
            help="Nothing is posted; a ticket stays open."
          />
        </div>
        <p class="muted small">
          Durations like <code>30m</code>, <code>24h</code> or <code>7d</code>; a reminder comes before the escalation,
          which comes before the expiry. Reviews already waiting keep the deadlines they started with.
        </p>
      </fieldset>
      <FormError />
      <div class="form-actions">
        <span class="muted small" data-updated-by="">
          {settings.updatedBy ? (
            <>
              Last changed by {settings.updatedBy} <Time value={settings.updatedAt} />
            </>
          ) : (
            'Defaults: never changed.'
          )}
        </span>
        {canWrite ? (
          <button type="submit" class="btn btn-primary">
            Save settings
          </button>
        ) : null}
      </div>
    </form>
  );
}

function SlackCard({ me, settings }: { me: Me; settings: SettingsView }) {
  const canWrite = can(me, 'reviewflow:write');
  return (
    <div class="card" data-slack="" data-configured={String(settings.slackConfigured)}>
      <h2 class="card-title">Slack</h2>
      <p>
        {settings.slackConfigured ? (
          <span class="badge badge-success" data-slack-state="configured">
            configured
          </span>
        ) : (
          <span class="badge badge-neutral" data-slack-state="none">
            not configured
          </span>
        )}{' '}
        <span class="muted small">
          Negative reviews are posted to a Slack channel through an incoming webhook. The address is stored encrypted
          and never shown again.
        </span>
      </p>
      {canWrite ? (
        <form
          class="form"
          data-review-form=""
          data-method="PUT"
          data-url="/v1/reviewflow/settings"
          data-then={
            settings.slackConfigured ? 'flash-reload:Slack webhook replaced' : 'flash-reload:Slack webhook set'
          }
          data-slack-form=""
        >
          <div class="form-row form-row-end">
            <label class="field grow">
              <span>{settings.slackConfigured ? 'Replace the webhook URL' : 'Incoming webhook URL'}</span>
              <input
                type="url"
                name="slackWebhookUrl"
                required
                maxlength={500}
                autocomplete="off"
                placeholder="https://hooks.slack.com/services/…"
              />
            </label>
            <button type="submit" class="btn">
              {settings.slackConfigured ? 'Replace' : 'Set'}
            </button>
            {settings.slackConfigured ? (
              <button
                type="button"
                class="btn btn-danger"
                data-api-action=""
                data-method="PUT"
                data-url="/v1/reviewflow/settings"
                data-body='{"slackWebhookUrl":null}'
                data-confirm="Stop posting negative reviews to Slack?"
                data-then="flash-reload:Slack webhook cleared"
                data-slack-clear=""
              >
                Clear
              </button>
            ) : null}
          </div>
          <FieldError name="slackWebhookUrl" />
          <FormError />
        </form>
      ) : null}
    </div>
  );
}

function PersonaForm({ me, persona: p }: { me: Me; persona: PersonaView }) {
  const canWrite = can(me, 'reviewflow:write');
  return (
    <form
      class="form persona-form"
      data-review-form=""
      data-method="PUT"
      data-url={`/v1/reviewflow/personas/${encodeURIComponent(p.propertyId)}`}
      data-then="flash-reload:Reply voice saved; new drafts use it"
      data-persona={p.propertyId}
    >
      <h3 class="persona-name">
        {p.propertyName ?? 'Property'} {p.custom ? null : <span class="badge badge-neutral">defaults</span>}
      </h3>
      <fieldset class="plain-fieldset" disabled={!canWrite}>
        <div class="form-row">
          <div class="field grow">
            <label class="field">
              <span>Signature</span>
              <input type="text" name="signature" value={p.signature} required maxlength={120} />
            </label>
            <FieldError name="signature" />
          </div>
          <div class="field">
            <label class="field">
              <span>Tone</span>
              <select name="tone">
                {TONES.map((t) => (
                  <option value={t.value} selected={p.tone === t.value}>
                    {t.label} — {t.help}
                  </option>
                ))}
              </select>
            </label>
            <FieldError name="tone" />
          </div>
        </div>
        <div class="form-row">
          <div class="field grow">
            <label class="field">
              <span>Contact line for unhappy reviewers</span>
              <input
                type="text"
                name="contactLine"
                value={p.contactLine ?? ''}
                maxlength={300}
                data-null-empty=""
                placeholder="Please call the leasing office at (208) 555-0100."
              />
            </label>
            <FieldError name="contactLine" />
          </div>
          <div class="field grow">
            <label class="field">
              <span>Manager email (negative reviews, reminders)</span>
              <input
                type="email"
                name="managerEmail"
                value={p.managerEmail ?? ''}
                maxlength={254}
                data-null-empty=""
                placeholder="manager@example.com"
              />
            </label>
            <FieldError name="managerEmail" />
          </div>
        </div>
      </fieldset>
      <FormError />
      {canWrite ? (
        <div class="form-actions">
          <button type="submit" class="btn btn-sm btn-primary">
            Save voice
          </button>
        </div>
      ) : null}
    </form>
  );
}

function ConnectionRow({ me, connection: c }: { me: Me; connection: ConnectionView }) {
  const canWrite = can(me, 'reviewflow:write');
  const url = `/v1/reviewflow/connections/${encodeURIComponent(c.id)}`;
  const paused = !c.pollingEnabled || c.schedule?.paused === true;
  return (
    <tr data-connection={c.id} data-polling={c.pollingEnabled ? 'on' : 'off'}>
      <td>
        <strong>{c.name}</strong>
        <div class="muted small mono">
          accounts/{c.accountId}/locations/{c.locationId}
        </div>
      </td>
      <td>{c.propertyName ?? '—'}</td>
      <td>
        <Time value={c.lastPolledAt} empty="never" />{' '}
        {c.lastPollStatus ? (
          <span
            class={`badge badge-${c.lastPollStatus === 'succeeded' ? 'success' : c.lastPollStatus === 'failed' ? 'danger' : 'neutral'}`}
            data-poll-status={c.lastPollStatus}
          >
            {c.lastPollStatus}
          </span>
        ) : null}
        {c.lastPollChanges !== null ? (
          <div class="muted small">
            {c.lastPollChanges} new or changed review{c.lastPollChanges === 1 ? '' : 's'}
          </div>
        ) : null}
        {c.lastPollError ? <div class="danger-text small">{c.lastPollError}</div> : null}
      </td>
      <td data-schedule={c.schedule ? (paused ? 'paused' : 'running') : 'none'}>
        {!c.schedule ? (
          <span class="badge badge-warning" title="The polling Schedule is missing; saving the connection recreates it">
            no schedule
          </span>
        ) : paused ? (
          <span class="badge badge-warning">paused</span>
        ) : (
          <span class="small">
            next poll <Time value={c.schedule.nextRunAt} />
          </span>
        )}
      </td>
      <td>
        {canWrite ? (
          <div class="actions">
            <button
              type="button"
              class="btn btn-sm"
              data-api-action=""
              data-method="POST"
              data-url={`${url}/poll`}
              data-then="flash-reload:Poll started; new and changed reviews appear in the queue"
              data-poll={c.id}
            >
              Poll now
            </button>
            <button
              type="button"
              class="btn btn-sm"
              data-api-action=""
              data-method="PATCH"
              data-url={url}
              data-body={JSON.stringify({ pollingEnabled: !c.pollingEnabled })}
              data-then={c.pollingEnabled ? 'flash-reload:Polling paused' : 'flash-reload:Polling resumed'}
              data-toggle-polling={c.pollingEnabled ? 'pause' : 'resume'}
            >
              {c.pollingEnabled ? 'Pause polling' : 'Resume polling'}
            </button>
            <button
              type="button"
              class="btn btn-sm btn-ghost danger-text"
              data-api-action=""
              data-method="DELETE"
              data-url={url}
              data-confirm={`Disconnect ${c.name}? Its reviews stay; no new ones arrive from it.`}
              data-then="flash-reload:Location disconnected"
              data-disconnect={c.id}
            >
              Disconnect
            </button>
          </div>
        ) : null}
      </td>
    </tr>
  );
}

function ConnectForm({ me }: { me: Me }) {
  return (
    <details class="card create-card" data-connect="">
      <summary class="btn btn-primary">Connect a location</summary>
      <form
        class="form"
        data-review-form=""
        data-method="POST"
        data-url="/v1/reviewflow/connections"
        data-then="flash-reload:Location connected; it is polled now and every few hours"
        data-new-connection=""
      >
        <div class="form-row">
          <div class="field">
            <label class="field">
              <span>Property</span>
              <select name="propertyId">
                {me.properties.map((p) => (
                  <option value={p.id} selected={p.id === me.propertyId}>
                    {p.name}
                  </option>
                ))}
              </select>
            </label>
            <FieldError name="propertyId" />
          </div>
          <div class="field grow">
            <label class="field">
              <span>Name</span>
              <input type="text" name="name" required maxlength={120} placeholder="The Reserve on Google" />
            </label>
            <FieldError name="name" />
          </div>
        </div>
        <div class="form-row">
          <div class="field grow">
            <label class="field">
              <span>Account id</span>
              <input type="text" name="accountId" required inputmode="numeric" maxlength={30} placeholder="digits" />
            </label>
            <FieldError name="accountId" />
          </div>
          <div class="field grow">
            <label class="field">
              <span>Location id</span>
              <input type="text" name="locationId" required inputmode="numeric" maxlength={30} placeholder="digits" />
            </label>
            <FieldError name="locationId" />
          </div>
        </div>
        <fieldset class="credentials">
          <legend>OAuth credentials (scope business.manage; stored encrypted, never shown again)</legend>
          <div class="form-row">
            <div class="field grow">
              <label class="field">
                <span>Client id</span>
                <input type="text" name="credentials.clientId" required maxlength={300} autocomplete="off" />
              </label>
              <FieldError name="credentials.clientId" />
            </div>
            <div class="field grow">
              <label class="field">
                <span>Client secret</span>
                <input type="password" name="credentials.clientSecret" required maxlength={300} autocomplete="off" />
              </label>
              <FieldError name="credentials.clientSecret" />
            </div>
          </div>
          <div class="field">
            <label class="field">
              <span>Refresh token</span>
              <input type="password" name="credentials.refreshToken" required maxlength={2000} autocomplete="off" />
            </label>
            <FieldError name="credentials.refreshToken" />
          </div>
        </fieldset>
        <FieldError name="credentials" />
        <FormError />
        <div class="form-actions">
          <button type="submit" class="btn btn-primary">
            Connect
          </button>
        </div>
      </form>
    </details>
  );
}

export function ReviewFlowSettingsPage({
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
  const notificationUrl = connections[0]?.notificationUrl ?? null;
  return (
    <section data-page="reviewflow-settings">
      <PageHeader
        title="ReviewFlow"
        subtitle="Auto-reply, approval deadlines, notifications, each property’s reply voice and its Google locations."
      />
      <ReviewFlowTabs active="settings" />
      {canWrite ? null : (
        <p class="notice-inline small form-note" data-read-only="">
          Only administrators change these settings; you can read them.
        </p>
      )}
      <div class="settings-layout">
        <div class="review-main">
          <SettingsForm me={me} settings={settings} />
          <div class="card">
            <h2 class="card-title">Reply voice per property</h2>
            {personas.length === 0 ? (
              <EmptyState title="No properties">Add a property first.</EmptyState>
            ) : (
              personas.map((p) => <PersonaForm me={me} persona={p} />)
            )}
          </div>
        </div>
        <div class="settings-side">
          <SlackCard me={me} settings={settings} />
        </div>
      </div>

      <h2 class="section-title">Google Business Profile locations</h2>
      <p class="muted small">
        New and changed reviews arrive by Pub/Sub push
        {notificationUrl ? (
          <>
            {' '}
            (a push subscription with authentication, to <code data-notification-url="">{notificationUrl}</code>)
          </>
        ) : null}
        ; each location is also polled on a Temporal Schedule in case a notification is missed.
      </p>
      {canWrite ? <ConnectForm me={me} /> : null}
      {connections.length === 0 ? (
        <EmptyState title="No locations connected">
          Connect a location to read its reviews and post replies on Google.
        </EmptyState>
      ) : (
        <div class="table-wrap">
          <table class="table" data-table="connections">
            <thead>
              <tr>
                <th>Location</th>
                <th>Property</th>
                <th>Last poll</th>
                <th>Schedule</th>
                <th></th>
              </tr>
            </thead>
            <tbody>
              {connections.map((c) => (
                <ConnectionRow me={me} connection={c} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
