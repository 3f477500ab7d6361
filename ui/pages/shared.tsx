import type { Child } from 'hono/jsx';

/** GET /v1/me, as the pages read it. */
export interface Me {
  user: { id: string; email: string; name: string };
  org: { id: string; name: string; slug: string; subscriptionTier: string; enabledProducts: string[] };
  role: string;
  permissions: string[];
  propertyId: string | null;
  properties: { id: string; name: string; timezone: string }[];
}

export const can = (me: Me, permission: string) => me.permissions.includes(permission);

export function currentProperty(me: Me) {
  return me.propertyId ? (me.properties.find((p) => p.id === me.propertyId) ?? null) : null;
}

const DATE_FORMAT = new Intl.DateTimeFormat('en-US', {
  year: 'numeric',
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
  timeZone: 'UTC',
  timeZoneName: 'short',
});

const PRECISE_FORMAT = new Intl.DateTimeFormat('en-US', {
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
  timeZone: 'UTC',
  timeZoneName: 'short',
});

/**
 * A timestamp rendered in UTC on the server; admin.js rewrites it into the reader's own time zone.
 * `precise` keeps seconds (retry attempts a few seconds apart).
 */
export function Time(props: { value: string | Date | null | undefined; empty?: string; precise?: boolean }) {
  const { value, empty = '—', precise = false } = props;
  if (!value) return <span class="muted">{empty}</span>;
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) return <span class="muted">{String(value)}</span>;
  return (
    <time datetime={date.toISOString()} data-local={precise ? 'precise' : ''}>
      {(precise ? PRECISE_FORMAT : DATE_FORMAT).format(date)}
    </time>
  );
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
  return `${Math.floor(ms / 3_600_000)} h ${Math.round((ms % 3_600_000) / 60_000)} min`;
}

const BADGE_TONES: Record<string, string> = {
  running: 'info',
  pending: 'info',
  completed: 'success',
  succeeded: 'success',
  active: 'success',
  failed: 'danger',
  timed_out: 'danger',
  terminated: 'danger',
  disabled: 'neutral',
  cancelled: 'neutral',
  canceled: 'neutral',
  revoked: 'neutral',
  continued_as_new: 'neutral',
};

/** A status pill; the tone comes from the (Temporal or delivery) status name. */
export function StatusBadge({ status }: { status: string }) {
  const key = status.toLowerCase().replace(/^workflow_execution_status_/, '');
  const tone = BADGE_TONES[key] ?? 'neutral';
  return (
    <span class={`badge badge-${tone}`} data-status={key}>
      {key.replace(/_/g, ' ')}
    </span>
  );
}

export function PageHeader({ title, subtitle, actions }: { title: string; subtitle?: Child; actions?: Child }) {
  return (
    <div class="page-header">
      <div>
        <h1>{title}</h1>
        {subtitle ? <p class="subtitle">{subtitle}</p> : null}
      </div>
      {actions ? <div class="page-actions">{actions}</div> : null}
    </div>
  );
}

export function EmptyState({ title, children }: { title: string; children?: Child }) {
  return (
    <div class="empty">
      <p class="empty-title">{title}</p>
      {children ? <p class="muted">{children}</p> : null}
    </div>
  );
}

/** Where a form's or button's error message is shown by admin.js. */
export function FormError() {
  return <p class="form-error" data-error="" role="alert" hidden></p>;
}

/** The end of every create form: its error line, then the primary submit button. */
export function FormFooter({ submitLabel }: { submitLabel: string }) {
  return (
    <>
      <FormError />
      <div class="form-actions">
        <button type="submit" class="btn btn-primary">
          {submitLabel}
        </button>
      </div>
    </>
  );
}

export function Forbidden({ message }: { message: string }) {
  return (
    <div class="notice notice-center" data-page="forbidden">
      <h1>You don’t have access to this page</h1>
      <p class="muted">{message}</p>
      <p>
        Ask an administrator of your organization if you need it. <a href="/admin/workflows">Back to workflows</a>
      </p>
    </div>
  );
}

export function NotFound({ message }: { message: string }) {
  return (
    <div class="notice notice-center" data-page="not-found">
      <h1>{message}</h1>
      <p class="muted">It may have been deleted, or it belongs to another organization.</p>
      <p>
        <a href="/admin/workflows">Back to workflows</a>
      </p>
    </div>
  );
}

export function ErrorNotice({ message }: { message: string }) {
  return (
    <div class="notice notice-center notice-danger" data-page="error">
      <h1>Something went wrong</h1>
      <p class="muted">{message}</p>
      <p>
        <a href="">Try again</a>
      </p>
    </div>
  );
}

/** Opens a run in the Temporal Web UI, in a new tab. */
export function TemporalLink({ href }: { href: string }) {
  return (
    <a
      href={href}
      target="_blank"
      rel="noopener noreferrer"
      data-temporal-link=""
      title="Open this run in the Temporal Web UI"
    >
      Temporal ↗
    </a>
  );
}
