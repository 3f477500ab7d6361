import { API_KEY_SCOPES } from '../../api/permissions';
import { can, EmptyState, FormFooter, PageHeader, StatusBadge, Time, type Me } from './shared';

export interface Member {
  membershipId: string;
  userId: string;
  email: string;
  name: string;
  role: string;
  createdAt: string;
}

export interface ApiKeyRow {
  id: string;
  name: string;
  prefix: string;
  scopes: string[];
  lastUsedAt: string | null;
  revokedAt: string | null;
  createdAt: string;
}

const ROLES = [
  { value: 'admin', label: 'Admin', help: 'everything, including people, keys and settings' },
  { value: 'manager', label: 'Manager', help: 'runs workflows and approves content' },
  { value: 'viewer', label: 'Viewer', help: 'read-only' },
] as const;

function RoleOptions({ selected }: { selected: string }) {
  return (
    <>
      {ROLES.map((r) => (
        <option value={r.value} selected={r.value === selected}>
          {r.label}
        </option>
      ))}
    </>
  );
}

function MembersSection({ me, members }: { me: Me; members: Member[] }) {
  const canWrite = can(me, 'members:write');
  return (
    <section class="settings-section" data-section="members">
      <div class="section-head">
        <h2 class="section-title">Members</h2>
        {canWrite ? (
          <details class="card create-card" data-create-member="">
            <summary class="btn btn-primary">Add member</summary>
            <form class="form" data-api-form="" data-method="POST" data-url="/v1/members" data-then="reload">
              <div class="form-row">
                <label class="field grow">
                  <span>Name</span>
                  <input type="text" name="name" required maxlength={200} />
                </label>
                <label class="field grow">
                  <span>Email</span>
                  <input type="email" name="email" required />
                </label>
              </div>
              <div class="form-row">
                <label class="field grow">
                  <span>Initial password</span>
                  <input type="password" name="password" required autocomplete="new-password" />
                </label>
                <label class="field">
                  <span>Role</span>
                  <select name="role">
                    <RoleOptions selected="viewer" />
                  </select>
                </label>
              </div>
              <p class="muted small">
                {ROLES.map((r, i) => (
                  <>
                    {i > 0 ? ' · ' : null}
                    <strong>{r.label}</strong>: {r.help}
                  </>
                ))}
              </p>
              <FormFooter submitLabel="Add member" />
            </form>
          </details>
        ) : null}
      </div>
      {members.length === 0 ? (
        <EmptyState title="No members" />
      ) : (
        <div class="table-wrap">
          <table class="table" data-table="members">
            <thead>
              <tr>
                <th>Name</th>
                <th>Email</th>
                <th>Role</th>
                <th>Member since</th>
                {canWrite ? <th class="right">Actions</th> : null}
              </tr>
            </thead>
            <tbody>
              {members.map((m) => {
                const self = m.userId === me.user.id;
                return (
                  <tr data-member-id={m.membershipId} data-email={m.email}>
                    <td class="cell-name">
                      {m.name}
                      {self ? <span class="chip chip-you">you</span> : null}
                    </td>
                    <td>{m.email}</td>
                    <td>
                      {canWrite && !self ? (
                        <select
                          aria-label={`Role of ${m.name}`}
                          data-api-change=""
                          data-method="PATCH"
                          data-url={`/v1/members/${encodeURIComponent(m.membershipId)}`}
                          data-field="role"
                          data-then="reload"
                        >
                          <RoleOptions selected={m.role} />
                        </select>
                      ) : (
                        <span class="badge badge-neutral">{m.role}</span>
                      )}
                    </td>
                    <td class="nowrap">
                      <Time value={m.createdAt} />
                    </td>
                    {canWrite ? (
                      <td class="right">
                        {self ? (
                          <span class="muted small">—</span>
                        ) : (
                          <button
                            type="button"
                            class="btn btn-sm btn-danger"
                            data-api-action=""
                            data-method="DELETE"
                            data-url={`/v1/members/${encodeURIComponent(m.membershipId)}`}
                            data-confirm={`Remove ${m.email} from ${me.org.name}? They are signed out at once.`}
                            data-then="reload"
                          >
                            Remove
                          </button>
                        )}
                      </td>
                    ) : null}
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function ApiKeysSection({ me, keys }: { me: Me; keys: ApiKeyRow[] }) {
  const canWrite = can(me, 'api_keys:write');
  return (
    <section class="settings-section" data-section="api-keys">
      <div class="section-head">
        <h2 class="section-title">API keys</h2>
        {canWrite ? (
          <details class="card create-card" data-create-key="">
            <summary class="btn btn-primary">Create API key</summary>
            <form
              class="form"
              data-api-form=""
              data-method="POST"
              data-url="/v1/api-keys"
              data-then="reveal:key"
              data-reveal-title="Your new API key"
            >
              <label class="field">
                <span>Name</span>
                <input type="text" name="name" required maxlength={100} placeholder="e.g. Website lead form" />
              </label>
              <fieldset class="field">
                <legend>Scopes</legend>
                <div class="checkbox-grid">
                  {API_KEY_SCOPES.map((scope) => (
                    <label class="checkbox">
                      <input type="checkbox" name="scopes" value={scope} data-array="" />
                      <code>{scope}</code>
                    </label>
                  ))}
                </div>
              </fieldset>
              <FormFooter submitLabel="Create key" />
            </form>
          </details>
        ) : null}
      </div>
      <p class="muted small">
        Keys authenticate external systems with the Authorization: Bearer header. They never manage people or other
        keys.
      </p>
      {keys.length === 0 ? (
        <EmptyState title="No API keys" />
      ) : (
        <div class="table-wrap">
          <table class="table" data-table="api-keys">
            <thead>
              <tr>
                <th>Name</th>
                <th>Key</th>
                <th>Scopes</th>
                <th>Last used</th>
                <th>Status</th>
                <th>Created</th>
                {canWrite ? <th class="right">Actions</th> : null}
              </tr>
            </thead>
            <tbody>
              {keys.map((k) => (
                <tr data-api-key-id={k.id} class={k.revokedAt ? 'row-muted' : undefined}>
                  <td class="cell-name">{k.name}</td>
                  <td>
                    <code>{k.prefix}…</code>
                  </td>
                  <td>
                    <div class="chips">
                      {k.scopes.map((s) => (
                        <span class="chip">{s}</span>
                      ))}
                    </div>
                  </td>
                  <td class="nowrap">
                    <Time value={k.lastUsedAt} empty="never" />
                  </td>
                  <td class="nowrap">
                    {k.revokedAt ? (
                      <>
                        <StatusBadge status="revoked" /> <Time value={k.revokedAt} />
                      </>
                    ) : (
                      <StatusBadge status="active" />
                    )}
                  </td>
                  <td class="nowrap">
                    <Time value={k.createdAt} />
                  </td>
                  {canWrite ? (
                    <td class="right">
                      {k.revokedAt ? null : (
                        <button
                          type="button"
                          class="btn btn-sm btn-danger"
                          data-api-action=""
                          data-method="DELETE"
                          data-url={`/v1/api-keys/${encodeURIComponent(k.id)}`}
                          data-confirm={`Revoke the key "${k.name}" (${k.prefix}…)? Systems using it stop working at once.`}
                          data-then="reload"
                        >
                          Revoke
                        </button>
                      )}
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

/** Users & API keys. Each section is shown only when the role can read it (the API decides, too). */
export function SettingsPage({ me, members, keys }: { me: Me; members: Member[] | null; keys: ApiKeyRow[] | null }) {
  return (
    <section data-page="settings">
      <PageHeader
        title="Users & API keys"
        subtitle={`Who can use ${me.org.name}'s console, and which systems can call its API.`}
      />
      {members ? <MembersSection me={me} members={members} /> : null}
      {keys ? <ApiKeysSection me={me} keys={keys} /> : null}
    </section>
  );
}
