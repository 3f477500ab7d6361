/**
 * One lead (/admin/leads/:leadId): contact, LeadPulse score and its top factors, the message timeline (both
 * directions, delivery status, reply intent), the sequence's live state with pause / resume / tour booked,
 * opt-out state per channel, a message from staff, and the sequence's run in the Temporal Web UI. leads.js
 * polls the timeline and reloads when something changed.
 */
import type { SequenceStatus } from '../../workflows/tourspark';
import {
  exitLabel,
  NeedsStaff,
  ScoreBadge,
  SequenceBadge,
  TourSparkTabs,
  type LeadListItem,
  type SequenceView,
} from './leads';
import { can, EmptyState, FormError, PageHeader, TemporalLink, Time, type Me } from './shared';

export interface TopFactorView {
  feature: string;
  impact: number;
  direction: 'up' | 'down';
}

export interface ChannelOptOut {
  reachable: boolean;
  optedOut: boolean;
  source: string | null;
  at: string | null;
}

export interface LeadDetail {
  lead: LeadListItem & {
    contact: { name: string; email: string | null; phone: string | null; message: string | null } | null;
    scoredAt: string | null;
    topFactors: TopFactorView[] | null;
    interactions: number;
    firstResponseMinutes: number | null;
    tourAt: string | null;
  };
  sequence: SequenceView | null;
  live: SequenceStatus | null;
  optOuts: { sms: ChannelOptOut; email: ChannelOptOut };
  workflowId: string;
  workflowUrl: string;
  intakeWorkflowId: string;
  intakeWorkflowUrl: string;
}

export interface LeadMessageView {
  id: string;
  direction: 'outbound' | 'inbound';
  channel: 'sms' | 'email';
  author: 'sequence' | 'auto_reply' | 'staff' | 'system' | null;
  status: string;
  statusDetail: string | null;
  stepId: number | null;
  template: string | null;
  subject: string | null;
  body: string;
  intent: string | null;
  classifier: string | null;
  createdAt: string;
  statusUpdatedAt: string;
}

const STATUS_TONES: Record<string, string> = {
  sending: 'info',
  sent: 'info',
  delivered: 'success',
  opened: 'success',
  received: 'neutral',
  undelivered: 'danger',
  failed: 'danger',
  bounced: 'danger',
  dropped: 'danger',
  skipped: 'warning',
};

const INTENT_LABELS: Record<string, string> = {
  book_tour: 'wants a tour',
  question: 'question',
  unsubscribe: 'unsubscribe',
  resubscribe: 'opt back in',
  other: 'other',
};

/** What the timeline's polling compares: a changed status or a new message means the page is stale. */
export function timelineSignature(messages: Pick<LeadMessageView, 'id' | 'status' | 'intent'>[]): string {
  return messages.map((m) => `${m.id}:${m.status}:${m.intent ?? ''}`).join(',');
}

/** The state people act on: the sequence's own answer when it gave one, else the mirror's. */
export function sequenceStateOf(detail: Pick<LeadDetail, 'live' | 'sequence'>): string {
  if (detail.live) return detail.live.state;
  const s = detail.sequence;
  if (!s) return 'none';
  if (s.status === 'active') return 'waiting';
  if (s.status === 'paused') return 'paused';
  return 'ended';
}

function messageClass(m: LeadMessageView): string {
  if (m.direction === 'inbound') return 'msg msg-visitor';
  if (m.author === 'staff') return 'msg msg-staff';
  if (m.author === 'system') return 'msg msg-system';
  return 'msg msg-assistant';
}

function authorLabel(m: LeadMessageView, leadName: string | null): string {
  if (m.direction === 'inbound') return leadName ?? 'Lead';
  if (m.author === 'staff') return 'Staff';
  if (m.author === 'auto_reply') return 'Auto-reply';
  if (m.author === 'system') return 'System';
  return m.stepId !== null ? `Step ${m.stepId}` : 'Sequence';
}

function TimelineMessage({ message, leadName }: { message: LeadMessageView; leadName: string | null }) {
  const m = message;
  return (
    <li
      class={messageClass(m)}
      data-message-id={m.id}
      data-direction={m.direction}
      data-channel={m.channel}
      data-status={m.status}
    >
      <div class="msg-meta">
        <span class="msg-author">{authorLabel(m, leadName)}</span>
        <span class="channel" data-channel-label="">
          {m.channel === 'sms' ? 'SMS' : 'Email'}
        </span>
        {m.template ? <span class="msg-via">{m.template}</span> : null}
        <Time value={m.createdAt} precise />
        <span
          class={`badge badge-${STATUS_TONES[m.status] ?? 'neutral'}`}
          data-delivery={m.status}
          title={m.statusDetail ?? `Updated ${m.statusUpdatedAt}`}
        >
          {m.status}
          {m.statusDetail ? ` · ${m.statusDetail}` : ''}
        </span>
        {m.intent ? (
          <span
            class="badge badge-info"
            data-intent={m.intent}
            title={m.classifier ? `Classified by ${m.classifier}` : undefined}
          >
            {INTENT_LABELS[m.intent] ?? m.intent}
          </span>
        ) : null}
      </div>
      <div class="msg-body">
        {m.subject ? (
          <>
            <strong data-subject="">{m.subject}</strong>
            {'\n'}
          </>
        ) : null}
        {m.body}
      </div>
    </li>
  );
}

/** Pause / resume / tour booked, as the sequence's state and the caller's role allow. */
function Controls({ me, detail }: { me: Me; detail: LeadDetail }) {
  if (!can(me, 'leads:reply')) return null;
  const base = `/v1/leads/${encodeURIComponent(detail.lead.id)}`;
  const state = sequenceStateOf(detail);
  return (
    <div class="actions" data-lead-controls="">
      {state === 'waiting' ? (
        <button
          type="button"
          class="btn btn-sm"
          data-api-action=""
          data-method="POST"
          data-url={`${base}/pause`}
          data-then="flash-reload:Sequence paused; no step is sent until you resume it"
          data-pause=""
        >
          Pause sequence
        </button>
      ) : null}
      {state === 'paused' ? (
        <button
          type="button"
          class="btn btn-sm btn-primary"
          data-api-action=""
          data-method="POST"
          data-url={`${base}/resume`}
          data-then="flash-reload:Sequence resumed"
          data-resume=""
        >
          Resume sequence
        </button>
      ) : null}
      {detail.lead.stage === 'new' ? (
        <button
          type="button"
          class="btn btn-sm btn-primary"
          data-api-action=""
          data-method="POST"
          data-url={`${base}/tour-booked`}
          data-confirm="Record a booked tour? The follow-up sequence ends."
          data-then="flash-reload:Tour booked"
          data-tour-booked=""
        >
          Tour booked
        </button>
      ) : null}
    </div>
  );
}

function StaffMessageForm({ me, detail, requestId }: { me: Me; detail: LeadDetail; requestId: string }) {
  if (!can(me, 'leads:reply')) {
    return <p class="muted small reply-note">Your role can read leads; managers and admins write to them.</p>;
  }
  const { sms, email } = detail.optOuts;
  const channels = [
    sms.reachable && !sms.optedOut ? { value: 'sms', label: 'SMS' } : null,
    email.reachable && !email.optedOut ? { value: 'email', label: 'Email' } : null,
  ].filter((c): c is { value: string; label: string } => c !== null);
  if (channels.length === 0) {
    return (
      <p class="muted small reply-note" data-no-channel="">
        The lead cannot be written to: no reachable channel without an opt-out.
      </p>
    );
  }
  return (
    <form
      class="reply-box form"
      data-api-form=""
      data-method="POST"
      data-url={`/v1/leads/${encodeURIComponent(detail.lead.id)}/messages`}
      data-then="flash-reload:Message sent; the sequence pauses while staff handle this lead"
      data-staff-message=""
    >
      <input type="hidden" name="requestId" value={requestId} />
      <div class="form-row">
        <label class="field">
          <span>Channel</span>
          <select name="channel" data-message-channel="">
            {channels.map((c) => (
              <option value={c.value}>{c.label}</option>
            ))}
          </select>
        </label>
        <label class="field grow" data-subject-field="">
          <span>Subject</span>
          <input type="text" name="subject" maxlength={200} data-optional="" placeholder="Your tour of the community" />
        </label>
      </div>
      <label class="field">
        <span>Message</span>
        <textarea name="body" rows={3} maxlength={1600} required placeholder="Write to the lead…"></textarea>
      </label>
      <FormError />
      <div class="reply-actions">
        <span class="muted small">Sent once through the lead’s sequence; automated steps pause after it.</span>
        <button type="submit" class="btn btn-primary">
          Send message
        </button>
      </div>
    </form>
  );
}

function OptOutRow({
  me,
  leadId,
  channel,
  state,
}: {
  me: Me;
  leadId: string;
  channel: 'sms' | 'email';
  state: ChannelOptOut;
}) {
  const label = channel === 'sms' ? 'SMS' : 'Email';
  return (
    <div data-opt-out={channel} data-opted-out={String(state.optedOut)}>
      <dt>{label}</dt>
      <dd>
        {!state.reachable ? (
          <span class="muted">no {channel === 'sms' ? 'phone number' : 'address'}</span>
        ) : state.optedOut ? (
          <>
            <span class="badge badge-warning">opted out</span>{' '}
            <span class="muted small">
              {state.source ?? ''} <Time value={state.at} />
            </span>
          </>
        ) : (
          <>
            <span class="badge badge-success">subscribed</span>{' '}
            {can(me, 'leads:reply') ? (
              <button
                type="button"
                class="btn btn-sm btn-danger"
                data-api-action=""
                data-method="POST"
                data-url={`/v1/leads/${encodeURIComponent(leadId)}/opt-out`}
                data-body={JSON.stringify({ channel })}
                data-confirm={`Opt this lead out of ${label}? Nothing more is sent to them on it.`}
                data-then={`flash-reload:Opted out of ${label}`}
                data-opt-out-button={channel}
              >
                Opt out
              </button>
            ) : null}
          </>
        )}
      </dd>
    </div>
  );
}

function formatImpact(impact: number): string {
  return `${impact >= 0 ? '+' : '−'}${Math.abs(impact).toFixed(2)}`;
}

export function LeadDetailPage({
  me,
  detail,
  messages,
  requestId,
}: {
  me: Me;
  detail: LeadDetail;
  messages: LeadMessageView[];
  /** A fresh idempotency key for the staff message form (a double submit sends one message). */
  requestId: string;
}) {
  const { lead, sequence, live } = detail;
  const name = lead.contact?.name ?? lead.name;
  const state = sequenceStateOf(detail);
  const needsStaff = live?.needsStaff ?? sequence?.needsStaff ?? false;
  const nextAt = live?.nextStepAt ?? sequence?.nextActionAt ?? null;
  const step = live
    ? `${live.currentStep} of ${live.totalSteps}`
    : sequence
      ? `${sequence.currentStep} of ${sequence.totalSteps}`
      : null;
  const exitReason = live?.exitReason ?? sequence?.exitReason ?? null;
  const pausedReason = live?.pausedReason ?? sequence?.pausedReason ?? null;
  return (
    <section data-page="lead-detail" data-lead-id={lead.id} data-sequence-state={state}>
      <p class="breadcrumb">
        <a href="/admin/leads">TourSpark</a> / <a href="/admin/leads">Leads</a> /
      </p>
      <PageHeader
        title={name ?? 'Lead'}
        subtitle={
          <>
            {lead.propertyName ?? 'No property'} · <code class="mono">{lead.source}</code> · received{' '}
            <Time value={lead.receivedAt} />
          </>
        }
        actions={<Controls me={me} detail={detail} />}
      />
      <TourSparkTabs active={null} />
      <div class="conversation-layout">
        <div class="card transcript-card">
          <div class="transcript-head">
            <SequenceBadge sequence={sequence} />
            {live ? (
              <span
                class="badge badge-neutral"
                data-live-state={live.state}
                title="The sequence's own answer (status query)"
              >
                {live.state.replace(/_/g, ' ')}
              </span>
            ) : null}
            {needsStaff ? <NeedsStaff /> : null}
            <span class="muted small live-note" data-live-status="">
              Live: new messages and delivery updates appear as they arrive.
            </span>
          </div>
          <ol
            class="transcript"
            data-lead-timeline=""
            data-poll-url={`/v1/leads/${encodeURIComponent(lead.id)}/messages`}
            data-signature={timelineSignature(messages)}
            aria-live="polite"
          >
            {messages.map((m) => (
              <TimelineMessage message={m} leadName={name ?? null} />
            ))}
          </ol>
          {messages.length === 0 ? (
            <div data-timeline-empty="">
              <EmptyState title="No messages yet">
                {state === 'waiting' && nextAt ? (
                  <>
                    The first step is due <Time value={nextAt} />.
                  </>
                ) : (
                  'Messages to and from the lead appear here.'
                )}
              </EmptyState>
            </div>
          ) : null}
          <StaffMessageForm me={me} detail={detail} requestId={requestId} />
        </div>
        <aside class="conversation-side">
          <div class="card side-card" data-lead-contact="">
            <h2 class="side-title">Contact</h2>
            <p class="lead-name" data-lead-name="">
              {name ?? <span class="muted">Name unavailable</span>}
            </p>
            <dl class="side-facts">
              {lead.contact?.email ? (
                <div>
                  <dt>Email</dt>
                  <dd>
                    <a href={`mailto:${lead.contact.email}`} data-lead-email="">
                      {lead.contact.email}
                    </a>
                  </dd>
                </div>
              ) : null}
              {lead.contact?.phone ? (
                <div>
                  <dt>Phone</dt>
                  <dd>
                    <a href={`tel:${lead.contact.phone}`} data-lead-phone="">
                      {lead.contact.phone}
                    </a>
                  </dd>
                </div>
              ) : null}
              {lead.unitType ? (
                <div>
                  <dt>Looking for</dt>
                  <dd>{lead.unitType}</dd>
                </div>
              ) : null}
              {lead.contact?.message ? (
                <div>
                  <dt>Inquiry</dt>
                  <dd class="small" data-lead-message="">
                    {lead.contact.message}
                  </dd>
                </div>
              ) : null}
              <div>
                <dt>Stage</dt>
                <dd data-stage={lead.stage}>
                  {lead.stage.replace(/_/g, ' ')}
                  {lead.tourAt ? (
                    <>
                      {' '}
                      (<Time value={lead.tourAt} />)
                    </>
                  ) : null}
                </dd>
              </div>
              <div>
                <dt>Source</dt>
                <dd>
                  <code class="mono">{lead.source}</code> <span class="muted small">{lead.externalId}</span>
                </dd>
              </div>
            </dl>
          </div>

          <div class="card side-card" data-lead-score="">
            <h2 class="side-title">LeadPulse score</h2>
            <p>
              <ScoreBadge score={lead.score} bucket={lead.bucket} version={lead.modelVersion} />
            </p>
            {lead.score !== null ? (
              <p class="muted small">
                Model v{lead.modelVersion ?? '?'} · scored <Time value={lead.scoredAt} />
              </p>
            ) : (
              <p class="muted small">No promoted model has scored this lead yet.</p>
            )}
            {lead.topFactors && lead.topFactors.length > 0 ? (
              <ol class="side-facts" data-top-factors="">
                {lead.topFactors.map((f) => (
                  <li data-factor={f.feature}>
                    <span class={f.direction === 'up' ? '' : 'muted'}>
                      {f.direction === 'up' ? '▲' : '▼'} {f.feature}
                    </span>{' '}
                    <span class="muted small mono">{formatImpact(f.impact)}</span>
                  </li>
                ))}
              </ol>
            ) : null}
            <p class="muted small">
              {lead.interactions} message{lead.interactions === 1 ? '' : 's'} exchanged
              {lead.firstResponseMinutes !== null ? ` · first reply after ${lead.firstResponseMinutes} min` : ''}
            </p>
          </div>

          <div class="card side-card" data-lead-sequence="">
            <h2 class="side-title">Follow-up sequence</h2>
            {!sequence && !live ? (
              <p class="muted small">
                No sequence for this lead (TourSpark off for the organization or this property, or not started yet).
              </p>
            ) : null}
            <dl class="side-facts">
              {step ? (
                <div>
                  <dt>Steps sent</dt>
                  <dd data-fact="step">{step}</dd>
                </div>
              ) : null}
              {state === 'waiting' && nextAt ? (
                <div>
                  <dt>Next step</dt>
                  <dd>
                    <Time value={nextAt} />
                  </dd>
                </div>
              ) : null}
              {state === 'paused' ? (
                <div>
                  <dt>Paused</dt>
                  <dd data-fact="paused">{pausedReason ? pausedReason.replace(/_/g, ' ') : 'yes'}</dd>
                </div>
              ) : null}
              {exitReason ? (
                <div>
                  <dt>Ended</dt>
                  <dd data-fact="exit">{exitLabel(exitReason)}</dd>
                </div>
              ) : null}
              <div>
                <dt>Workflow</dt>
                <dd>
                  <code class="mono wf-id">{detail.workflowId}</code>
                  <TemporalLink href={detail.workflowUrl} />
                </dd>
              </div>
              <div>
                <dt>Intake</dt>
                <dd>
                  <code class="mono wf-id">{detail.intakeWorkflowId}</code>
                  <TemporalLink href={detail.intakeWorkflowUrl} />
                </dd>
              </div>
            </dl>
          </div>

          <div class="card side-card" data-lead-opt-outs="">
            <h2 class="side-title">Consent</h2>
            <dl class="side-facts">
              <OptOutRow me={me} leadId={lead.id} channel="sms" state={detail.optOuts.sms} />
              <OptOutRow me={me} leadId={lead.id} channel="email" state={detail.optOuts.email} />
            </dl>
          </div>
        </aside>
      </div>
    </section>
  );
}
