/** What the LumaLeasing pages read from /v1/lumaleasing (the shapes of the API contract), and parts they share. */
import type { ChatCitation } from '../../db/schema/lumaleasing';
import type { IngestionProgress, TranscriptMessage } from '../../workflows/lumaleasing';
import { Time, type Me } from './shared';

export type { IngestionProgress, TranscriptMessage };

export interface ConversationView {
  id: string;
  propertyId: string;
  propertyName: string | null;
  status: 'open' | 'closed';
  mode: 'ai' | 'staff';
  takenOverByName: string | null;
  channel: 'page' | 'widget';
  leadId: string | null;
  leadName: string | null;
  messageCount: number;
  unreadCount: number;
  lastMessageAt: string | null;
  lastMessagePreview: string | null;
  createdAt: string;
  workflowId: string;
  /** Not in the list contract; shown when the API sends it. */
  pageUrl?: string | null;
  closedAt?: string | null;
}

/** The lead's contact as the detail answer may carry it (decrypted); absent, the card shows the name only. */
export interface LeadContactView {
  id?: string;
  name?: string | null;
  email?: string | null;
  phone?: string | null;
  createdAt?: string | null;
}

export interface DocumentView {
  id: string;
  propertyId: string;
  title: string;
  filename: string;
  currentVersion: number | null;
  latestVersion: number;
  status: 'pending' | 'processing' | 'ready' | 'failed' | 'superseded';
  error: string | null;
  pages: number | null;
  chunkCount: number | null;
  contentType: string | null;
  byteSize: number | null;
  /** The latest version's ingestion run. */
  workflowId: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface SettingsView {
  enabled: boolean;
  botName: string | null;
  greeting: string | null;
  tone: 'friendly' | 'professional' | 'concise' | null;
  brandColor: string | null;
}

export interface SettingsAnswer {
  settings: SettingsView;
  publicUrl: string;
  widgetSnippet: string;
}

const DOC_TONES: Record<string, string> = {
  pending: 'info',
  processing: 'info',
  ready: 'success',
  failed: 'danger',
  superseded: 'neutral',
};

/** A document version's status; admin.js recolours it the same way while it polls. */
export function DocStatusBadge({ status }: { status: string }) {
  return (
    <span class={`badge badge-${DOC_TONES[status] ?? 'neutral'}`} data-status={status}>
      {status}
    </span>
  );
}

export type LumaTab = 'inbox' | 'documents' | 'settings';

/** The three LumaLeasing pages, as tabs under the page header. */
export function LumaTabs({ active, unread }: { active: LumaTab; unread?: number }) {
  const tab = (key: LumaTab, href: string, label: string, extra?: unknown) => (
    <a
      href={href}
      class={active === key ? 'tab active' : 'tab'}
      aria-current={active === key ? 'page' : undefined}
      data-tab={key}
    >
      {label}
      {extra}
    </a>
  );
  return (
    <nav class="tabs" aria-label="LumaLeasing">
      {tab(
        'inbox',
        '/admin/lumaleasing',
        'Inbox',
        unread ? (
          <span class="count-badge" data-unread-total="" title="Conversations with unread visitor messages">
            {unread}
          </span>
        ) : null,
      )}
      {tab('documents', '/admin/lumaleasing/documents', 'Documents')}
      {tab('settings', '/admin/lumaleasing/settings', 'Chat settings')}
      <a href="/admin/workflows?product=lumaleasing" class="tab tab-aside" data-tab="runs">
        Workflow runs
      </a>
    </nav>
  );
}

/** "Pet Policy, p. 2", or just the title for formats without pages. */
export function citationLabel(c: Pick<ChatCitation, 'title' | 'page'>): string {
  return c.page === null || c.page === undefined ? c.title : `${c.title}, p. ${c.page}`;
}

const ROLE_LABELS: Record<TranscriptMessage['role'], string> = {
  visitor: 'Visitor',
  assistant: 'Assistant',
  staff: 'Staff',
  system: 'System',
};

/** Who a transcript line is from, as staff read it. admin.js mirrors this for messages that arrive by polling. */
export function messageAuthor(m: TranscriptMessage, visitorName: string | null): string {
  if (m.role === 'visitor') return visitorName ?? 'Visitor';
  return ROLE_LABELS[m.role];
}

/** One transcript line. The markup is rebuilt by admin.js (renderMessage) for polled messages: keep both in step. */
export function Message({ message, visitorName }: { message: TranscriptMessage; visitorName: string | null }) {
  const m = message;
  return (
    <li class={`msg msg-${m.role}${m.declined ? ' msg-declined' : ''}`} data-seq={String(m.seq)} data-role={m.role}>
      <div class="msg-meta">
        <span class="msg-author">{messageAuthor(m, visitorName)}</span>
        {/* The assistant's engine, or the staff member's audit label (their email). */}
        {(m.role === 'assistant' || m.role === 'staff') && m.author ? <span class="msg-via">{m.author}</span> : null}
        <Time value={m.createdAt} precise />
        {m.declined ? (
          <span class="badge badge-warning" data-declined="" title="Nothing in the documents answered this">
            Declined
          </span>
        ) : null}
      </div>
      <div class="msg-body">{m.content}</div>
      {m.citations.length > 0 ? (
        <ol class="citations" aria-label="Sources">
          {m.citations.map((c) => (
            <li
              class="citation"
              data-citation=""
              data-document-id={c.documentId}
              title={`Similarity ${c.similarity.toFixed(2)}`}
            >
              <span class="citation-ref">[{c.ref}]</span> {citationLabel(c)}
            </li>
          ))}
        </ol>
      ) : null}
    </li>
  );
}

/** Which property a one-property page (documents, settings) shows: ?propertyId=, else the session's, else the first. */
export function chosenProperty(me: Me, requested: string | undefined): { id: string; name: string } | null {
  const byId = (id: string | null | undefined) => (id ? (me.properties.find((p) => p.id === id) ?? null) : null);
  return byId(requested) ?? byId(me.propertyId) ?? me.properties[0] ?? null;
}

/** A GET form that switches the page's property (admin.js submits it on change). */
export function PropertyPicker({
  me,
  action,
  selected,
  allLabel,
  keep,
}: {
  me: Me;
  action: string;
  selected: string | null;
  /** When given, an "all properties" choice (value ''). */
  allLabel?: string;
  /** Other query parameters the page keeps when the property changes (the inbox's filters). */
  keep?: Record<string, string | null | undefined>;
}) {
  return (
    <form method="get" action={action} class="inline-form picker" data-property-picker="">
      {Object.entries(keep ?? {}).map(([name, value]) =>
        value ? <input type="hidden" name={name} value={value} /> : null,
      )}
      <label class="picker-label" for="luma-property">
        Property
      </label>
      <select id="luma-property" name="propertyId" data-autosubmit="">
        {allLabel ? (
          <option value="" selected={!selected}>
            {allLabel}
          </option>
        ) : null}
        {me.properties.map((p) => (
          <option value={p.id} selected={selected === p.id}>
            {p.name}
          </option>
        ))}
      </select>
      <noscript>
        <button type="submit" class="btn btn-sm">
          Show
        </button>
      </noscript>
    </form>
  );
}

const BYTES = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });

export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return '—';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${BYTES.format(n / 1024)} KB`;
  return `${BYTES.format(n / (1024 * 1024))} MB`;
}

export const CONTENT_TYPE_LABELS: Record<string, string> = {
  'application/pdf': 'PDF',
  'text/markdown': 'Markdown',
  'text/plain': 'Text',
  'text/html': 'HTML',
};
