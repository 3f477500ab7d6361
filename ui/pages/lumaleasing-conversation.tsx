import {
  LumaTabs,
  Message,
  type ConversationView,
  type LeadContactView,
  type TranscriptMessage,
} from './lumaleasing-common';
import { ModeChip } from './lumaleasing-inbox';
import { can, EmptyState, FormError, PageHeader, TemporalLink, Time, type Me } from './shared';

/** Take over / hand back / close, as the caller's role and the conversation's state allow. */
function Controls({ me, conversation }: { me: Me; conversation: ConversationView }) {
  if (!can(me, 'lumaleasing:reply')) return null;
  const base = `/v1/lumaleasing/conversations/${encodeURIComponent(conversation.id)}`;
  const staff = conversation.mode === 'staff';
  return (
    <div class="actions" data-conversation-controls="">
      {staff ? (
        <button
          type="button"
          class="btn btn-sm"
          data-api-action=""
          data-method="POST"
          data-url={`${base}/hand-back`}
          data-then="flash-reload:Handed back to the assistant"
          data-hand-back=""
        >
          Hand back to AI
        </button>
      ) : (
        <button
          type="button"
          class="btn btn-sm btn-primary"
          data-api-action=""
          data-method="POST"
          data-url={`${base}/take-over`}
          data-then="flash-reload:You have taken over; the assistant stays silent until you hand back"
          data-take-over=""
        >
          Take over
        </button>
      )}
      {conversation.status === 'open' ? (
        <button
          type="button"
          class="btn btn-sm btn-danger"
          data-api-action=""
          data-method="POST"
          data-url={`${base}/close`}
          data-confirm="Close this conversation? The visitor can still write again, which reopens it."
          data-then="flash-reload:Conversation closed"
          data-close-conversation=""
        >
          Close
        </button>
      ) : null}
    </div>
  );
}

/** The reply box: usable only while staff has the conversation (the workflow refuses replies otherwise). */
function ReplyBox({ me, conversation }: { me: Me; conversation: ConversationView }) {
  if (!can(me, 'lumaleasing:reply')) {
    return <p class="muted small reply-note">Your role can read conversations; managers and admins reply.</p>;
  }
  const enabled = conversation.mode === 'staff';
  return (
    <form
      class="reply-box"
      data-reply-form=""
      data-url={`/v1/lumaleasing/conversations/${encodeURIComponent(conversation.id)}/replies`}
    >
      <label class="sr-only" for="reply-text">
        Reply to the visitor
      </label>
      <textarea
        id="reply-text"
        name="text"
        rows={3}
        maxlength={4000}
        required
        disabled={!enabled}
        placeholder={
          enabled
            ? 'Write to the visitor… (Enter sends, Shift+Enter for a new line)'
            : 'Take over the conversation to reply in person.'
        }
      ></textarea>
      <FormError />
      <div class="reply-actions">
        <span class="muted small">
          {enabled
            ? `The visitor sees your reply as ${conversation.takenOverByName ?? me.user.name}.`
            : 'The assistant is answering this conversation.'}
        </span>
        <button type="submit" class="btn btn-primary" disabled={!enabled}>
          Send reply
        </button>
      </div>
    </form>
  );
}

function LeadCard({
  conversation,
  lead,
  leadUiUrl,
}: {
  conversation: ConversationView;
  lead: LeadContactView | null;
  leadUiUrl: string | null;
}) {
  if (!conversation.leadId) {
    return (
      <div class="card side-card" data-lead-card="none">
        <h2 class="side-title">Lead</h2>
        <p class="muted small">
          No contact details yet. A lead is created when the visitor leaves a name with an email or phone number.
        </p>
      </div>
    );
  }
  const name = lead?.name ?? conversation.leadName;
  return (
    <div class="card side-card" data-lead-card={conversation.leadId}>
      <h2 class="side-title">Lead</h2>
      <p class="lead-name" data-lead-name="">
        {name ?? <span class="muted">Name not given</span>}
      </p>
      <dl class="side-facts">
        {lead?.email ? (
          <div>
            <dt>Email</dt>
            <dd>
              <a href={`mailto:${lead.email}`} data-lead-email="">
                {lead.email}
              </a>
            </dd>
          </div>
        ) : null}
        {lead?.phone ? (
          <div>
            <dt>Phone</dt>
            <dd>
              <a href={`tel:${lead.phone}`} data-lead-phone="">
                {lead.phone}
              </a>
            </dd>
          </div>
        ) : null}
        <div>
          <dt>Source</dt>
          <dd>LumaLeasing chat</dd>
        </div>
        <div>
          <dt>Lead id</dt>
          <dd>
            <code class="mono">{conversation.leadId}</code>
          </dd>
        </div>
      </dl>
      {leadUiUrl ? (
        <p class="small">
          Lead intake run: <TemporalLink href={leadUiUrl} />
        </p>
      ) : null}
    </div>
  );
}

export function ConversationPage({
  me,
  conversation,
  messages,
  lead,
  temporalUiUrl,
  leadUiUrl,
}: {
  me: Me;
  conversation: ConversationView;
  messages: TranscriptMessage[];
  lead: LeadContactView | null;
  temporalUiUrl: string;
  leadUiUrl: string | null;
}) {
  const c = conversation;
  const visitorName = lead?.name ?? c.leadName;
  const lastSeq = messages.reduce((n, m) => Math.max(n, m.seq), -1);
  const base = `/v1/lumaleasing/conversations/${encodeURIComponent(c.id)}`;
  const canReply = can(me, 'lumaleasing:reply');
  return (
    <section data-page="lumaleasing-conversation" data-conversation-id={c.id} data-mode={c.mode} data-status={c.status}>
      <p class="breadcrumb">
        <a href="/admin/lumaleasing">LumaLeasing</a> / <a href="/admin/lumaleasing">Inbox</a> /
      </p>
      <PageHeader
        title={visitorName ?? 'Anonymous visitor'}
        subtitle={
          <>
            {c.propertyName ?? 'Property'} · {c.channel === 'widget' ? 'website widget' : 'chat page'} · started{' '}
            <Time value={c.createdAt} />
          </>
        }
        actions={<Controls me={me} conversation={c} />}
      />
      <LumaTabs active="inbox" />
      <div class="conversation-layout">
        <div class="card transcript-card">
          <div class="transcript-head">
            <ModeChip conversation={c} />
            <span class={c.status === 'open' ? 'badge badge-success' : 'badge badge-neutral'} data-status={c.status}>
              {c.status}
            </span>
            <span class="muted small live-note" data-live-status="">
              Live: new messages appear as they arrive.
            </span>
          </div>
          <ol
            class="transcript"
            data-transcript=""
            data-poll-url={`${base}/messages`}
            data-after={String(lastSeq)}
            data-visitor-name={visitorName ?? ''}
            data-read-url={canReply ? `${base}/read` : undefined}
            data-unread={String(c.unreadCount)}
            aria-live="polite"
          >
            {messages.map((m) => (
              <Message message={m} visitorName={visitorName} />
            ))}
          </ol>
          {messages.length === 0 ? (
            <div data-transcript-empty="">
              <EmptyState title="No messages yet">The visitor opened the chat but has not written.</EmptyState>
            </div>
          ) : null}
          <ReplyBox me={me} conversation={c} />
        </div>
        <aside class="conversation-side">
          <LeadCard conversation={c} lead={lead} leadUiUrl={leadUiUrl} />
          <div class="card side-card">
            <h2 class="side-title">Conversation</h2>
            <dl class="side-facts">
              <div>
                <dt>Answered by</dt>
                <dd data-fact="mode">
                  {c.mode === 'staff' ? `Staff (${c.takenOverByName ?? 'someone'})` : 'The assistant'}
                </dd>
              </div>
              <div>
                <dt>Last message</dt>
                <dd>
                  <Time value={c.lastMessageAt} empty="none yet" />
                </dd>
              </div>
              {c.pageUrl ? (
                <div>
                  <dt>Page</dt>
                  <dd class="url small">{c.pageUrl}</dd>
                </div>
              ) : null}
              {c.status === 'closed' ? (
                <div>
                  <dt>Closed</dt>
                  <dd>
                    <Time value={c.closedAt} empty="yes" />
                  </dd>
                </div>
              ) : null}
              <div>
                <dt>Workflow</dt>
                <dd>
                  <code class="mono wf-id">{c.workflowId}</code>
                  <TemporalLink href={temporalUiUrl} />
                </dd>
              </div>
            </dl>
          </div>
        </aside>
      </div>
    </section>
  );
}
