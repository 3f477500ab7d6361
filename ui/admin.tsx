/**
 * The admin UI: server-rendered pages that read the JSON API in-process with the browser's own cookie, so a
 * page can show exactly what the caller's role may see (a 401 from the API sends them to sign in, a 403
 * renders "no access"). Mutations happen in the browser through admin.js, against the same JSON API.
 */
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Hono, type Context } from 'hono';
import type { HtmlEscapedString } from 'hono/utils/html';
import { DateTime } from 'luxon';
import type { AppDeps } from '../api/context';
import { workflowUiUrl } from '../temporal/client';
import { leadIntakeWorkflowId } from '../workflows/lumaleasing';
import { Bare, Shell, type AssetUrls, type NavKey } from './layout';
import {
  AnalyticsPage,
  INTERVALS,
  METRICS,
  type AnalyticsResponse,
  type DashboardFilters,
  type Interval,
} from './pages/analytics';
import { DataLakePage } from './pages/data-lake';
import type {
  CampaignView,
  ConnectionView,
  ImportView,
  ScheduleView,
  SyncRunView,
  WorkflowDetail,
} from './pages/data-lake-common';
import { ConnectionPage } from './pages/data-lake-connection';
import { ImportPage } from './pages/data-lake-import';
import { DeliveryPage, type DeliveryDetail, type WebhookAttempt } from './pages/delivery';
import { leadPulsePage } from './pages/leadpulse';
import { LeadDetailPage, type LeadDetail, type LeadMessageView } from './pages/lead-detail';
import { BUCKET_FILTERS, LeadsPage, SEQUENCE_FILTERS, type LeadFilters, type LeadListItem } from './pages/leads';
import { ConversationPage } from './pages/lumaleasing-conversation';
import {
  chosenProperty,
  type ConversationView,
  type DocumentView,
  type IngestionProgress,
  type LeadContactView,
  type SettingsAnswer,
  type TranscriptMessage,
} from './pages/lumaleasing-common';
import { DocumentsPage } from './pages/lumaleasing-documents';
import { InboxPage, type InboxFilters } from './pages/lumaleasing-inbox';
import { SettingsPage as LumaSettingsPage } from './pages/lumaleasing-settings';
import { ReviewDetailPage, type ReviewDetail } from './pages/review-detail';
import { TicketsPage, type TicketFilters, type TicketView } from './pages/review-tickets';
import { REPORT_WINDOWS, ReportPage, type ReportView } from './pages/reviewflow-report';
import {
  ReviewFlowSettingsPage,
  type ConnectionView as ReviewConnectionView,
  type PersonaView,
  type SettingsView as ReviewSettingsView,
} from './pages/reviewflow-settings';
import {
  REVIEW_STATUSES,
  ReviewQueuePage,
  reviewsApiQuery,
  SENTIMENTS,
  type ReviewFilters,
  type ReviewListItem,
} from './pages/reviews';
import { ErrorNotice, Forbidden, NotFound, type Me } from './pages/shared';
import { SettingsPage, type ApiKeyRow, type Member } from './pages/settings';
import { SignInPage } from './pages/sign-in';
import { SequencesPage, type SequenceAnswer } from './pages/tourspark-sequences';
import { WebhooksPage, type WebhookDelivery, type WebhookEndpoint, type WebhookEventType } from './pages/webhooks';
import { WorkflowsPage, type WorkflowRun } from './pages/workflows';

/** What the UI needs of the API: `app.request` of the Hono app that serves /v1. */
export interface InProcessApi {
  request: (path: string, init?: RequestInit) => Promise<Response> | Response;
}

type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

const JS = 'text/javascript; charset=utf-8';

/** Served files: ours from ui/assets, libraries straight from node_modules (no build step, no CDN). */
const ASSET_FILES: Record<string, { url: URL; type: string }> = {
  'admin.css': { url: new URL('./assets/admin.css', import.meta.url), type: 'text/css; charset=utf-8' },
  'admin.js': { url: new URL('./assets/admin.js', import.meta.url), type: JS },
  'favicon.svg': { url: new URL('./assets/favicon.svg', import.meta.url), type: 'image/svg+xml' },
  'analytics.js': { url: new URL('./assets/analytics.js', import.meta.url), type: JS },
  'leads.js': { url: new URL('./assets/leads.js', import.meta.url), type: JS },
  'reviews.js': { url: new URL('./assets/reviews.js', import.meta.url), type: JS },
  'chart.umd.min.js': { url: new URL('../node_modules/chart.js/dist/chart.umd.min.js', import.meta.url), type: JS },
};

interface Asset {
  body: Uint8Array<ArrayBuffer>;
  type: string;
  etag: string;
  version: string;
}

/** Read once at start-up: the files are small, and a content hash in the URL lets browsers cache them forever. */
function loadAssets(): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const [name, { url, type }] of Object.entries(ASSET_FILES)) {
    let body = readFileSync(url);
    // The library's source map is not served, so do not point browsers at it.
    if (name.endsWith('.min.js'))
      body = Buffer.from(body.toString('utf8').replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n'));
    const version = createHash('sha256').update(body).digest('hex').slice(0, 12);
    assets.set(name, { body: new Uint8Array(body), type, etag: `"${version}"`, version });
  }
  return assets;
}

// Pages carry no inline script or style, so the policy can forbid both.
const PAGE_HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'same-origin',
  // Pages hold one person's data.
  'cache-control': 'no-store',
};

/** A non-2xx answer from the JSON API, in its error format. */
class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The API's list endpoints may answer a bare array or `{ <name>: [...] }`. */
function listFrom<T>(body: unknown, ...keys: string[]): T[] {
  if (Array.isArray(body)) return body as T[];
  if (body && typeof body === 'object') {
    for (const key of [...keys, 'items', 'data']) {
      const value = (body as Record<string, unknown>)[key];
      if (Array.isArray(value)) return value as T[];
    }
  }
  return [];
}

/** A ?propertyId= of one of the caller's properties, else null (all properties). */
function knownProperty(me: Me, requested: string | undefined): string | null {
  return requested && me.properties.some((p) => p.id === requested) ? requested : null;
}

function objectFrom<T>(body: unknown, key: string): T {
  if (body && typeof body === 'object' && key in body) {
    const inner = (body as Record<string, unknown>)[key];
    if (inner && typeof inner === 'object' && !Array.isArray(inner)) return inner as T;
  }
  return body as T;
}

/** Event types may be plain names or `{ type, description }`. */
function eventTypesFrom(body: unknown): WebhookEventType[] {
  return listFrom<unknown>(body, 'eventTypes', 'types').map((t) => {
    if (typeof t === 'string') return { type: t, description: null };
    const o = t as Record<string, unknown>;
    const type = String(o.type ?? o.name ?? o.id ?? '');
    return { type, description: typeof o.description === 'string' ? o.description : null };
  });
}

/** Only paths inside the console are valid sign-in targets (no open redirect). */
function safeNext(value: string | undefined): string {
  if (!value || !value.startsWith('/admin/') || value.startsWith('//') || value.includes('\\'))
    return '/admin/workflows';
  if (value.startsWith('/admin/sign-in')) return '/admin/workflows';
  return value;
}

// The API's own rule for the Product filter; anything else is ignored rather than turned into an error page.
const PRODUCT_PARAM = /^[a-z][a-z-]{0,63}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface PageResult {
  title: string;
  active: NavKey | null;
  body: Html;
  /** Extra asset names (scripts) the page loads after admin.js. */
  scripts?: string[];
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;
/** The inbox's opaque paging cursor: passed through to the API when it looks like one. */
const CURSOR_PARAM = /^[A-Za-z0-9_\-.:=+/]{1,200}$/;
/** Workflow ids the console starts are printable and short; anything else in ?watch= is ignored. */
const WATCH_PARAM = /^[\x21-\x7e]{1,300}$/;

/** GET a path of the API, or POST it a JSON body. */
type Load = <T>(path: string, body?: unknown) => Promise<T>;

export function createAdminUi(deps: AppDeps, api: InProcessApi): Hono {
  const assets = loadAssets();
  const assetUrl = (name: string) => `/admin/assets/${name}?v=${assets.get(name)!.version}`;
  const assetUrls: AssetUrls = { css: assetUrl('admin.css'), js: assetUrl('admin.js'), icon: assetUrl('favicon.svg') };
  const uiLink = (workflowId: string) =>
    workflowUiUrl(deps.config.temporal.uiUrl, deps.config.temporal.namespace, workflowId);

  /** Calls the JSON API as the browser: its cookie, nothing else, so permissions are the API's own. */
  async function load<T>(c: Context, path: string, json?: unknown): Promise<T> {
    const headers: Record<string, string> = { cookie: c.req.header('cookie') ?? '', accept: 'application/json' };
    const init: RequestInit = { headers };
    if (json !== undefined) {
      // A JSON body is not a "simple" request, so the API's CSRF check passes it without an Origin.
      init.method = 'POST';
      headers['content-type'] = 'application/json';
      init.body = JSON.stringify(json);
    }
    const res = await api.request(path, init);
    const text = await res.text();
    let body: unknown = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = null;
    }
    if (!res.ok) {
      const error = (body as { error?: { code?: string; message?: string } } | null)?.error;
      throw new ApiFailure(res.status, error?.code ?? 'http_error', error?.message ?? `The API answered ${res.status}`);
    }
    return body as T;
  }

  async function html(c: Context, node: Html, status: 200 | 403 | 404 | 500 | 502 = 200) {
    for (const [k, v] of Object.entries(PAGE_HEADERS)) c.header(k, v);
    return c.html('<!DOCTYPE html>' + (await node), status);
  }

  function signInRedirect(c: Context) {
    const url = new URL(c.req.url);
    const next = safeNext(url.pathname + url.search);
    return c.redirect(
      next === '/admin/workflows' ? '/admin/sign-in' : `/admin/sign-in?next=${encodeURIComponent(next)}`,
    );
  }

  /** A signed-in page: loads /v1/me, renders the handler's body in the shell, maps API failures to pages. */
  function page(handler: (c: Context, me: Me, load: Load) => Promise<PageResult>) {
    return async (c: Context) => {
      let me: Me | undefined;
      try {
        me = await load<Me>(c, '/v1/me');
        const result = await handler(c, me, (path, body) => load(c, path, body));
        return await html(
          c,
          <Shell
            me={me}
            title={result.title}
            active={result.active}
            assets={result.scripts ? { ...assetUrls, scripts: result.scripts.map(assetUrl) } : assetUrls}
          >
            {result.body}
          </Shell>,
        );
      } catch (err) {
        if (err instanceof ApiFailure && err.status === 401) return signInRedirect(c);
        let status: 403 | 404 | 500 | 502;
        let title: string;
        let body: Html;
        if (err instanceof ApiFailure && err.status === 403) {
          [status, title, body] = [403, 'No access', <Forbidden message={err.message} />];
        } else if (err instanceof ApiFailure && err.status === 404) {
          [status, title, body] = [404, 'Not found', <NotFound message={err.message} />];
        } else if (err instanceof ApiFailure) {
          [status, title, body] = [502, 'Error', <ErrorNotice message={err.message} />];
        } else {
          console.error('[admin-ui] page failed', err);
          [status, title, body] = [500, 'Error', <ErrorNotice message="The page could not be rendered." />];
        }
        if (!me) {
          return html(
            c,
            <Bare title={title} assets={assetUrls}>
              <div class="card">{body}</div>
            </Bare>,
            status,
          );
        }
        return html(
          c,
          <Shell me={me} title={title} active={null} assets={assetUrls}>
            {body}
          </Shell>,
          status,
        );
      }
    };
  }

  return new Hono()
    .get('/', (c) => c.redirect('/admin/workflows'))

    .get('/assets/:name', (c) => {
      const asset = assets.get(c.req.param('name'));
      if (!asset) return c.text('Not found', 404);
      const versioned = c.req.query('v') === asset.version;
      const headers: Record<string, string> = {
        'content-type': asset.type,
        etag: asset.etag,
        'x-content-type-options': 'nosniff',
        'cache-control': versioned ? 'public, max-age=31536000, immutable' : 'no-cache',
      };
      if (c.req.header('if-none-match') === asset.etag) return c.body(null, 304, headers);
      return c.body(asset.body, 200, headers);
    })

    .get('/sign-in', async (c) => {
      const next = safeNext(c.req.query('next'));
      try {
        await load<Me>(c, '/v1/me');
        return c.redirect(next);
      } catch (err) {
        if (!(err instanceof ApiFailure && err.status === 401)) {
          console.error('[admin-ui] sign-in page could not check the session', err);
          return html(
            c,
            <Bare title="Error" assets={assetUrls}>
              <div class="card">
                <ErrorNotice message="The console could not reach its API. Try again in a moment." />
              </div>
            </Bare>,
            500,
          );
        }
      }
      return html(
        c,
        <Bare title="Sign in" assets={assetUrls}>
          <SignInPage next={next} signedOut={c.req.query('signed-out') !== undefined} />
        </Bare>,
      );
    })

    .get(
      '/workflows',
      page(async (c, me, get) => {
        const requested = c.req.query('product');
        const product = requested && PRODUCT_PARAM.test(requested) ? requested : null;
        const params = new URLSearchParams({ limit: '50' });
        if (me.propertyId) params.set('propertyId', me.propertyId);
        if (product) params.set('product', product);
        const runs = listFrom<WorkflowRun>(await get(`/v1/workflows?${params}`), 'workflows');
        return {
          title: 'Workflows',
          active: product ? `product:${product}` : 'workflows',
          body: <WorkflowsPage me={me} runs={runs} product={product} />,
        };
      }),
    )

    .get(
      '/webhooks',
      page(async (c, me, get) => {
        const requested = c.req.query('endpointId');
        const endpointFilter = requested && UUID.test(requested) ? requested : null;
        const deliveriesPath = endpointFilter
          ? `/v1/webhook-deliveries?endpointId=${encodeURIComponent(endpointFilter)}`
          : '/v1/webhook-deliveries';
        const [endpoints, eventTypes, deliveries] = await Promise.all([
          get('/v1/webhook-endpoints').then((b) => listFrom<WebhookEndpoint>(b, 'endpoints', 'webhookEndpoints')),
          get('/v1/webhook-event-types').then(eventTypesFrom),
          get(deliveriesPath).then((b) => listFrom<WebhookDelivery>(b, 'deliveries', 'webhookDeliveries')),
        ]);
        return {
          title: 'Webhooks',
          active: 'webhooks',
          body: (
            <WebhooksPage
              me={me}
              endpoints={endpoints}
              eventTypes={eventTypes}
              deliveries={deliveries}
              endpointFilter={endpointFilter}
            />
          ),
        };
      }),
    )

    .get(
      '/webhooks/deliveries/:deliveryId',
      page(async (c, me, get) => {
        const id = c.req.param('deliveryId') ?? '';
        if (!UUID.test(id)) throw new ApiFailure(404, 'not_found', 'Webhook delivery not found');
        const [raw, endpoints] = await Promise.all([
          get<Record<string, unknown>>(`/v1/webhook-deliveries/${encodeURIComponent(id)}`),
          get('/v1/webhook-endpoints').then((b) => listFrom<WebhookEndpoint>(b, 'endpoints', 'webhookEndpoints')),
        ]);
        const delivery = objectFrom<Omit<DeliveryDetail, 'attempts' | 'endpointUrl'>>(raw, 'delivery');
        const attempts = listFrom<WebhookAttempt>(
          Array.isArray(raw.attempts) ? raw.attempts : (delivery as { attempts?: unknown }).attempts,
          'attempts',
        ).sort((a, b) => a.attemptNumber - b.attemptNumber);
        const endpointUrl = endpoints.find((e) => e.id === delivery.endpointId)?.url ?? null;
        const linked = (delivery as { temporalUiUrl?: unknown }).temporalUiUrl;
        const temporalUiUrl =
          typeof linked === 'string' && linked
            ? linked
            : workflowUiUrl(deps.config.temporal.uiUrl, deps.config.temporal.namespace, delivery.workflowId);
        return {
          title: `Delivery ${delivery.eventType}`,
          active: 'webhooks',
          body: (
            <DeliveryPage me={me} delivery={{ ...delivery, attempts, endpointUrl }} temporalUiUrl={temporalUiUrl} />
          ),
        };
      }),
    )

    .get(
      '/data-lake',
      page(async (_c, me, get) => {
        const [connections, imports] = await Promise.all([
          get('/v1/data-lake/connections').then((b) => listFrom<ConnectionView>(b, 'connections')),
          get('/v1/data-lake/imports').then((b) => listFrom<ImportView>(b, 'imports')),
        ]);
        return {
          title: 'Data Lake',
          active: 'product:data-lake',
          body: <DataLakePage me={me} connections={connections} imports={imports} />,
        };
      }),
    )

    .get(
      '/data-lake/connections/:connectionId',
      page(async (c, me, get) => {
        const id = c.req.param('connectionId') ?? '';
        if (!UUID.test(id)) throw new ApiFailure(404, 'not_found', 'Connection not found');
        const base = `/v1/data-lake/connections/${encodeURIComponent(id)}`;
        const unmappedOnly = c.req.query('unmapped') !== undefined;
        const watchParam = c.req.query('watch');
        const watchId = watchParam && WATCH_PARAM.test(watchParam) ? watchParam : null;
        const describe = (workflowId: string) =>
          get(`/v1/workflows/${encodeURIComponent(workflowId)}`).then(
            (b) => objectFrom<WorkflowDetail>(b, 'workflow'),
            (err: unknown) => {
              // A run that is gone (or never was) just leaves the progress panel out.
              if (err instanceof ApiFailure && err.status === 404) return null;
              throw err;
            },
          );
        const [detail, campaigns, watched] = await Promise.all([
          get<{ connection: ConnectionView; runs?: SyncRunView[]; schedules?: ScheduleView[] }>(base),
          get(`${base}/campaigns${unmappedOnly ? '?unmapped=true' : ''}`).then((b) =>
            listFrom<CampaignView>(b, 'campaigns'),
          ),
          watchId ? describe(watchId) : null,
        ]);
        const connection = objectFrom<ConnectionView>(detail, 'connection');
        let watch = watched;
        if (!watchId) {
          // Without ?watch=, follow whatever is running for this connection: a backfill month's run id is
          // "<backfill workflow id>/<month>", so its parent (the backfill, with the month progress) is watched.
          const running = (detail.runs ?? []).find((r) => r.status === 'running');
          if (running) {
            const parent = running.trigger === 'backfill' ? running.workflowId.replace(/\/[^/]+$/, '') : null;
            const found = (parent ? await describe(parent) : null) ?? (await describe(running.workflowId));
            watch = found && found.status === 'RUNNING' ? found : null;
          }
        }
        return {
          title: connection.name,
          active: 'product:data-lake',
          body: (
            <ConnectionPage
              me={me}
              connection={connection}
              runs={detail.runs ?? []}
              schedules={detail.schedules ?? []}
              campaigns={campaigns}
              unmappedOnly={unmappedOnly}
              watch={watch}
              uiLink={uiLink}
            />
          ),
        };
      }),
    )

    .get(
      '/data-lake/imports/:importId',
      page(async (c, _me, get) => {
        const id = c.req.param('importId') ?? '';
        if (!UUID.test(id)) throw new ApiFailure(404, 'not_found', 'Import not found');
        const record = objectFrom<ImportView>(await get(`/v1/data-lake/imports/${encodeURIComponent(id)}`), 'import');
        return {
          title: `Import ${record.filename}`,
          active: 'product:data-lake',
          body: <ImportPage record={record} temporalUiUrl={uiLink(record.workflowId)} />,
        };
      }),
    )

    .get(
      '/analytics',
      page(async (c, me, call) => {
        const q = c.req.query();
        // The session's property (the switcher): a session switched to one property may read only that one.
        const propertyId = me.propertyId;
        // "Last 30 days" ends today in the chosen property's time zone (the first property's for all of them).
        const zone = me.properties.find((p) => p.id === propertyId)?.timezone ?? me.properties[0]?.timezone ?? 'UTC';
        const today = DateTime.now().setZone(zone);
        const filters: DashboardFilters = {
          propertyId,
          start: q.start && DATE.test(q.start) ? q.start : today.minus({ days: 29 }).toISODate()!,
          end: q.end && DATE.test(q.end) ? q.end : today.toISODate()!,
          interval: INTERVALS.includes(q.interval as Interval) ? (q.interval as Interval) : 'day',
          metric: q.metric === 'spend' ? 'spend' : 'leads',
        };
        let result: AnalyticsResponse | null = null;
        let error: string | null = null;
        try {
          result = await call<AnalyticsResponse>('/v1/analytics/query', {
            propertyIds: propertyId ? [propertyId] : [],
            dateRange: { start: filters.start, end: filters.end },
            interval: filters.interval,
            metrics: [...METRICS],
            groupBy: 'channel',
          });
        } catch (err) {
          // A range the API refuses (end before start, too long) is shown above the filters, not as an error page.
          if (!(err instanceof ApiFailure) || err.status !== 400) throw err;
          error = err.message;
        }
        return {
          title: 'MultiChannel BI',
          active: 'product:multichannel-bi',
          body: <AnalyticsPage me={me} filters={filters} result={result} error={error} />,
          scripts: ['chart.umd.min.js', 'analytics.js'],
        };
      }),
    )

    .get(
      '/lumaleasing',
      page(async (c, me, get) => {
        const q = c.req.query();
        const requested = q.propertyId && me.properties.some((p) => p.id === q.propertyId) ? q.propertyId : null;
        const filters: InboxFilters = {
          // No ?propertyId= follows the switcher; ?propertyId= (empty) from the picker means all properties.
          propertyId: 'propertyId' in q ? requested : me.propertyId,
          status: q.status === 'open' || q.status === 'closed' ? q.status : null,
          mode: q.mode === 'ai' || q.mode === 'staff' ? q.mode : null,
          unread: q.unread === 'true' || q.unread === '1',
          cursor: q.cursor && CURSOR_PARAM.test(q.cursor) ? q.cursor : null,
        };
        const params = new URLSearchParams({ limit: '50' });
        if (filters.propertyId) params.set('propertyId', filters.propertyId);
        if (filters.status) params.set('status', filters.status);
        if (filters.mode) params.set('mode', filters.mode);
        if (filters.unread) params.set('unread', 'true');
        if (filters.cursor) params.set('cursor', filters.cursor);
        const body = await get<{ conversations?: ConversationView[]; nextCursor?: string | null }>(
          `/v1/lumaleasing/conversations?${params}`,
        );
        return {
          title: 'LumaLeasing inbox',
          active: 'product:lumaleasing',
          body: (
            <InboxPage
              me={me}
              conversations={listFrom<ConversationView>(body, 'conversations')}
              nextCursor={body?.nextCursor ?? null}
              filters={filters}
            />
          ),
        };
      }),
    )

    .get(
      '/lumaleasing/conversations/:conversationId',
      page(async (c, me, get) => {
        const id = c.req.param('conversationId') ?? '';
        if (!UUID.test(id)) throw new ApiFailure(404, 'not_found', 'Conversation not found');
        const detail = await get<{
          conversation: ConversationView;
          messages?: TranscriptMessage[];
          lead?: LeadContactView | null;
        }>(`/v1/lumaleasing/conversations/${encodeURIComponent(id)}`);
        const conversation = objectFrom<ConversationView>(detail, 'conversation');
        const messages = listFrom<TranscriptMessage>(detail.messages ?? [], 'messages').sort((a, b) => a.seq - b.seq);
        return {
          title: conversation.leadName ?? 'Conversation',
          active: 'product:lumaleasing',
          body: (
            <ConversationPage
              me={me}
              conversation={conversation}
              messages={messages}
              lead={detail.lead ?? null}
              temporalUiUrl={uiLink(conversation.workflowId)}
              leadUiUrl={conversation.leadId ? uiLink(leadIntakeWorkflowId(conversation.leadId)) : null}
            />
          ),
        };
      }),
    )

    .get(
      '/lumaleasing/documents',
      page(async (c, me, get) => {
        const property = chosenProperty(me, c.req.query('propertyId'));
        const documents = property
          ? listFrom<DocumentView>(
              await get(`/v1/lumaleasing/documents?propertyId=${encodeURIComponent(property.id)}`),
              'documents',
            )
          : [];
        // Running ingestions show their progress from the first paint; admin.js keeps it current.
        const progress = new Map<string, IngestionProgress | null>();
        await Promise.all(
          documents
            .filter((d) => d.status === 'pending' || d.status === 'processing')
            .map(async (d) => {
              const detail = await get<{ progress?: IngestionProgress | null }>(
                `/v1/lumaleasing/documents/${encodeURIComponent(d.id)}`,
              ).catch(() => null);
              progress.set(d.id, detail?.progress ?? null);
            }),
        );
        return {
          title: 'LumaLeasing documents',
          active: 'product:lumaleasing',
          body: (
            <DocumentsPage
              me={me}
              property={property}
              documents={documents}
              progress={progress}
              maxUploadBytes={deps.config.lumaleasing.maxUploadBytes}
              uiLink={uiLink}
            />
          ),
        };
      }),
    )

    .get(
      '/lumaleasing/settings',
      page(async (c, me, get) => {
        const property = chosenProperty(me, c.req.query('propertyId'));
        const answer = property
          ? await get<SettingsAnswer>(`/v1/lumaleasing/properties/${encodeURIComponent(property.id)}/settings`)
          : null;
        return {
          title: 'LumaLeasing chat settings',
          active: 'product:lumaleasing',
          body: <LumaSettingsPage me={me} property={property} answer={answer} />,
        };
      }),
    )

    .get(
      '/leads',
      page(async (c, me, get) => {
        const q = c.req.query();
        const requested = q.propertyId && me.properties.some((p) => p.id === q.propertyId) ? q.propertyId : null;
        const filters: LeadFilters = {
          // No ?propertyId= follows the switcher; ?propertyId= (empty) from the picker means all properties.
          propertyId: 'propertyId' in q ? requested : me.propertyId,
          status: (SEQUENCE_FILTERS as readonly string[]).includes(q.status ?? '')
            ? (q.status as LeadFilters['status'])
            : null,
          bucket: (BUCKET_FILTERS as readonly string[]).includes(q.bucket ?? '')
            ? (q.bucket as LeadFilters['bucket'])
            : null,
          source: q.source && /^[a-z][a-z0-9_]{0,63}$/.test(q.source) ? q.source : null,
          needsStaff: q.needsStaff === 'true',
          q: q.q && q.q.trim() ? q.q.trim().slice(0, 100) : null,
          cursor: q.cursor && UUID.test(q.cursor) ? q.cursor : null,
        };
        const params = new URLSearchParams({ limit: '50' });
        for (const key of ['propertyId', 'status', 'bucket', 'source', 'q', 'cursor'] as const) {
          const value = filters[key];
          if (value) params.set(key, value);
        }
        if (filters.needsStaff) params.set('needsStaff', 'true');
        const body = await get<{ leads?: LeadListItem[]; nextCursor?: string | null }>(`/v1/leads?${params}`);
        return {
          title: 'Leads',
          active: 'product:tourspark',
          body: (
            <LeadsPage
              me={me}
              leads={listFrom<LeadListItem>(body, 'leads')}
              nextCursor={body?.nextCursor ?? null}
              filters={filters}
            />
          ),
        };
      }),
    )

    .get(
      '/leads/:leadId',
      page(async (c, me, get) => {
        const id = c.req.param('leadId') ?? '';
        if (!UUID.test(id)) throw new ApiFailure(404, 'not_found', 'Lead not found');
        const [detail, timeline] = await Promise.all([
          get<LeadDetail>(`/v1/leads/${encodeURIComponent(id)}`),
          get<{ messages?: LeadMessageView[] }>(`/v1/leads/${encodeURIComponent(id)}/messages`),
        ]);
        return {
          title: detail.lead.contact?.name ?? detail.lead.name ?? 'Lead',
          active: 'product:tourspark',
          body: (
            <LeadDetailPage
              me={me}
              detail={detail}
              messages={listFrom<LeadMessageView>(timeline, 'messages')}
              requestId={randomUUID()}
            />
          ),
          scripts: ['leads.js'],
        };
      }),
    )

    .get(
      '/tourspark',
      page(async (c, me, get) => {
        const property = chosenProperty(me, c.req.query('propertyId'));
        const answer = property
          ? await get<SequenceAnswer>(`/v1/tourspark/sequences/${encodeURIComponent(property.id)}`)
          : null;
        return {
          title: 'TourSpark sequences',
          active: 'product:tourspark',
          body: <SequencesPage me={me} property={property} answer={answer} />,
          scripts: ['leads.js'],
        };
      }),
    )

    .get('/leadpulse', page(leadPulsePage))

    .get(
      '/reviews',
      page(async (c, me, get) => {
        const q = c.req.query();
        const filters: ReviewFilters = {
          // No ?propertyId= follows the switcher; ?propertyId= (empty) from the picker means all properties.
          propertyId: 'propertyId' in q ? knownProperty(me, q.propertyId) : me.propertyId,
          sentiment: (SENTIMENTS as readonly string[]).includes(q.sentiment ?? '')
            ? (q.sentiment as ReviewFilters['sentiment'])
            : null,
          urgent: q.urgent === 'true',
          status: (REVIEW_STATUSES as readonly string[]).includes(q.status ?? '')
            ? (q.status as ReviewFilters['status'])
            : null,
          ticket: q.ticket === 'open',
          q: q.q && q.q.trim() ? q.q.trim().slice(0, 100) : null,
          cursor: q.cursor && UUID.test(q.cursor) ? q.cursor : null,
        };
        const body = await get<{ reviews?: ReviewListItem[]; nextCursor?: string | null }>(
          `/v1/reviews?${reviewsApiQuery(filters)}`,
        );
        return {
          title: 'Reviews',
          active: 'product:reviewflow',
          body: (
            <ReviewQueuePage
              me={me}
              reviews={listFrom<ReviewListItem>(body, 'reviews')}
              nextCursor={body?.nextCursor ?? null}
              filters={filters}
            />
          ),
          scripts: ['reviews.js'],
        };
      }),
    )

    .get(
      '/reviews/tickets',
      page(async (c, me, get) => {
        const q = c.req.query();
        const filters: TicketFilters = {
          status: q.status === 'resolved' || q.status === 'all' ? q.status : 'open',
          propertyId: 'propertyId' in q ? knownProperty(me, q.propertyId) : me.propertyId,
        };
        const params = new URLSearchParams();
        if (filters.status !== 'all') params.set('status', filters.status);
        if (filters.propertyId) params.set('propertyId', filters.propertyId);
        const body = await get(`/v1/reviewflow/tickets?${params}`);
        return {
          title: 'Review tickets',
          active: 'product:reviewflow',
          body: <TicketsPage me={me} tickets={listFrom<TicketView>(body, 'tickets')} filters={filters} />,
          scripts: ['reviews.js'],
        };
      }),
    )

    .get(
      '/reviews/report',
      page(async (c, me, get) => {
        const q = c.req.query();
        const requested = Number(q.days);
        const days = (REPORT_WINDOWS as readonly number[]).includes(requested) ? requested : 30;
        const propertyId = 'propertyId' in q ? knownProperty(me, q.propertyId) : me.propertyId;
        const params = new URLSearchParams({ days: String(days) });
        if (propertyId) params.set('propertyId', propertyId);
        const report = objectFrom<ReportView>(await get(`/v1/reviewflow/report?${params}`), 'report');
        return {
          title: 'Review report',
          active: 'product:reviewflow',
          body: <ReportPage me={me} report={report} days={days} propertyId={propertyId} />,
        };
      }),
    )

    .get(
      '/reviews/settings',
      page(async (_c, me, get) => {
        const [settings, personas, connections] = await Promise.all([
          get('/v1/reviewflow/settings').then((b) => objectFrom<ReviewSettingsView>(b, 'settings')),
          get('/v1/reviewflow/personas').then((b) => listFrom<PersonaView>(b, 'personas')),
          get('/v1/reviewflow/connections').then((b) => listFrom<ReviewConnectionView>(b, 'connections')),
        ]);
        return {
          title: 'ReviewFlow settings',
          active: 'product:reviewflow',
          body: <ReviewFlowSettingsPage me={me} settings={settings} personas={personas} connections={connections} />,
          scripts: ['reviews.js'],
        };
      }),
    )

    .get(
      '/reviews/:reviewId',
      page(async (c, me, get) => {
        const id = c.req.param('reviewId') ?? '';
        if (!UUID.test(id)) throw new ApiFailure(404, 'not_found', 'Review not found');
        const review = objectFrom<ReviewDetail>(await get(`/v1/reviews/${encodeURIComponent(id)}`), 'review');
        return {
          title: `Review by ${review.reviewerName ?? 'Anonymous'}`,
          active: 'product:reviewflow',
          body: <ReviewDetailPage me={me} review={review} />,
          scripts: ['reviews.js'],
        };
      }),
    )

    .get(
      '/settings',
      page(async (_c, me, get) => {
        const canMembers = me.permissions.includes('members:read');
        const canKeys = me.permissions.includes('api_keys:read');
        // With neither permission the members call is still made: the API's own 403 is what the page shows.
        const [members, keys] = await Promise.all([
          canMembers || !canKeys ? get('/v1/members').then((b) => listFrom<Member>(b, 'members')) : null,
          canKeys ? get('/v1/api-keys').then((b) => listFrom<ApiKeyRow>(b, 'apiKeys', 'keys')) : null,
        ]);
        return {
          title: 'Users & API keys',
          active: 'settings',
          body: <SettingsPage me={me} members={members} keys={keys} />,
        };
      }),
    )

    .get(
      '*',
      page(async () => {
        throw new ApiFailure(404, 'not_found', 'Page not found');
      }),
    );
}
