import { LumaTabs, PropertyPicker, type ConversationView } from './lumaleasing-common';
import { EmptyState, PageHeader, Time, type Me } from './shared';

export interface InboxFilters {
  propertyId: string | null;
  status: 'open' | 'closed' | null;
  mode: 'ai' | 'staff' | null;
  unread: boolean;
  cursor: string | null;
}

/** The inbox URL for these filters (page links keep the other filters). */
export function inboxHref(filters: InboxFilters, change: Partial<InboxFilters> = {}): string {
  const f = { ...filters, cursor: null, ...change };
  const params = new URLSearchParams();
  if (f.propertyId) params.set('propertyId', f.propertyId);
  if (f.status) params.set('status', f.status);
  if (f.mode) params.set('mode', f.mode);
  if (f.unread) params.set('unread', 'true');
  if (f.cursor) params.set('cursor', f.cursor);
  const query = params.toString();
  return query ? `/admin/lumaleasing?${query}` : '/admin/lumaleasing';
}

export function ModeChip({ conversation }: { conversation: Pick<ConversationView, 'mode' | 'takenOverByName'> }) {
  return conversation.mode === 'staff' ? (
    <span class="mode-chip mode-staff" data-mode="staff" title="A person has taken over; the assistant is silent">
      Staff{conversation.takenOverByName ? `: ${conversation.takenOverByName}` : ''}
    </span>
  ) : (
    <span class="mode-chip mode-ai" data-mode="ai" title="The assistant answers">
      AI
    </span>
  );
}

function FilterChips({ me, filters }: { me: Me; filters: InboxFilters }) {
  const chip = (label: string, change: Partial<InboxFilters>, active: boolean, key: string) => (
    <a href={inboxHref(filters, change)} class={active ? 'filter-chip active' : 'filter-chip'} data-filter={key}>
      {label}
    </a>
  );
  return (
    <div class="filter-bar" data-inbox-filters="">
      {me.properties.length > 1 ? (
        <PropertyPicker
          me={me}
          action="/admin/lumaleasing"
          selected={filters.propertyId}
          allLabel="All properties"
          keep={{ status: filters.status, mode: filters.mode, unread: filters.unread ? 'true' : null }}
        />
      ) : null}
      <div class="chip-group" role="group" aria-label="Status">
        {chip('Open', { status: 'open' }, filters.status === 'open', 'status-open')}
        {chip('Closed', { status: 'closed' }, filters.status === 'closed', 'status-closed')}
        {chip('Any status', { status: null }, filters.status === null, 'status-any')}
      </div>
      <div class="chip-group" role="group" aria-label="Who answers">
        {chip('AI', { mode: 'ai' }, filters.mode === 'ai', 'mode-ai')}
        {chip('Taken over', { mode: 'staff' }, filters.mode === 'staff', 'mode-staff')}
        {chip('Anyone', { mode: null }, filters.mode === null, 'mode-any')}
      </div>
      <div class="chip-group" role="group" aria-label="Unread">
        {chip('Unread only', { unread: !filters.unread }, filters.unread, 'unread')}
      </div>
    </div>
  );
}

export function InboxPage({
  me,
  conversations,
  nextCursor,
  filters,
}: {
  me: Me;
  conversations: ConversationView[];
  nextCursor: string | null;
  filters: InboxFilters;
}) {
  const showProperty = !filters.propertyId && me.properties.length > 1;
  const unread = conversations.reduce((n, c) => n + (c.unreadCount > 0 ? 1 : 0), 0);
  const filtered = filters.status !== null || filters.mode !== null || filters.unread;
  return (
    <section data-page="lumaleasing-inbox">
      <PageHeader
        title="LumaLeasing"
        subtitle="Chats with prospects on the property pages and widgets. Take one over to answer in person."
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
      <LumaTabs active="inbox" unread={unread} />
      <FilterChips me={me} filters={filters} />
      {conversations.length === 0 ? (
        <EmptyState title={filtered ? 'No conversations match' : 'No conversations yet'}>
          {filtered ? (
            <>
              Nothing matches these filters.{' '}
              <a href={inboxHref({ ...filters, status: null, mode: null, unread: false })}>Show all</a>
            </>
          ) : (
            <>
              Conversations appear here as soon as a visitor writes on the public chat page or the website widget (see{' '}
              <a href="/admin/lumaleasing/settings">Chat settings</a>).
            </>
          )}
        </EmptyState>
      ) : (
        <div class="table-wrap">
          <table class="table inbox-table" data-table="conversations">
            <thead>
              <tr>
                <th>Visitor</th>
                <th>Last message</th>
                {showProperty ? <th>Property</th> : null}
                <th>Answered by</th>
                <th class="right">Messages</th>
                <th>Last activity</th>
              </tr>
            </thead>
            <tbody>
              {conversations.map((c) => {
                const href = `/admin/lumaleasing/conversations/${encodeURIComponent(c.id)}`;
                return (
                  <tr
                    data-conversation-id={c.id}
                    class={[c.unreadCount > 0 ? 'row-unread' : '', c.status === 'closed' ? 'row-muted' : '']
                      .filter(Boolean)
                      .join(' ')}
                  >
                    <td class="cell-name">
                      <a href={href} data-conversation-link="" class="visitor-link">
                        {c.leadName ?? 'Anonymous visitor'}
                      </a>
                      {c.unreadCount > 0 ? (
                        <span class="count-badge" data-unread={String(c.unreadCount)} title="Unread visitor messages">
                          {c.unreadCount}
                        </span>
                      ) : null}
                      <div class="muted small">
                        {c.leadId ? (
                          <span class="lead-tag" data-lead="">
                            Lead
                          </span>
                        ) : null}
                        {c.channel === 'widget' ? 'Website widget' : 'Chat page'}
                        {c.status === 'closed' ? ' · closed' : ''}
                      </div>
                    </td>
                    <td class="cell-preview">
                      <a href={href} class="preview-link" data-preview="">
                        {c.lastMessagePreview ?? <span class="muted">No messages yet</span>}
                      </a>
                    </td>
                    {showProperty ? <td>{c.propertyName ?? '—'}</td> : null}
                    <td>
                      <ModeChip conversation={c} />
                    </td>
                    <td class="right">{c.messageCount}</td>
                    <td class="nowrap">
                      <Time value={c.lastMessageAt ?? c.createdAt} />
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
            <a class="btn btn-sm" href={inboxHref(filters)}>
              Newest
            </a>
          ) : null}
          {nextCursor ? (
            <a class="btn btn-sm" href={inboxHref(filters, { cursor: nextCursor })} data-next-page="">
              Older conversations
            </a>
          ) : null}
        </div>
      ) : null}
    </section>
  );
}
