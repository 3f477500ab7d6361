/**
 * GA4 Data API emulator: `POST /v1beta/properties/{id}:runReport` with dateRanges, the dimensions `date`,
 * `sessionSource`, `sessionDefaultChannelGroup`, the metrics `sessions`, `keyEvents` (or the older name
 * `conversions`), orderBys, `limit`/`offset` paging and `rowCount`, in analyticsdata.googleapis.com's shapes.
 * Bearer tokens must come from the sandbox token endpoint. `POST /ga4/_control {quotaErrorsNext}` answers
 * RESOURCE_EXHAUSTED for the next requests.
 */
import { Hono } from 'hono';
import {
  accountTimezone,
  addDays,
  ga4Days,
  isIsoDate,
  isKnownAccount,
  localToday,
  logRequest,
  redactUrl,
  worldNow,
  worldOptions,
  type AdWorldState,
  type Ga4Day,
} from './ad-world';
import { verifyBearer } from './google-oauth';

const DIMENSIONS = ['date', 'sessionSource', 'sessionDefaultChannelGroup'] as const;
type Dimension = (typeof DIMENSIONS)[number];
const METRICS = { sessions: 'TYPE_INTEGER', keyEvents: 'TYPE_FLOAT', conversions: 'TYPE_FLOAT' } as const;
type Metric = keyof typeof METRICS;
const DEFAULT_LIMIT = 10_000;
const MAX_LIMIT = 250_000;

class ApiError extends Error {
  constructor(
    readonly code: 400 | 401 | 403 | 429,
    readonly status: string,
    message: string,
  ) {
    super(message);
  }
}

const invalid = (message: string) => new ApiError(400, 'INVALID_ARGUMENT', message);

function resolveDate(value: unknown, today: string, which: string): string {
  if (typeof value !== 'string') throw invalid(`Field ${which} is required.`);
  if (value === 'today') return today;
  if (value === 'yesterday') return addDays(today, -1);
  const ago = /^(\d+)daysAgo$/.exec(value);
  if (ago) return addDays(today, -Number(ago[1]));
  if (!isIsoDate(value))
    throw invalid(`Invalid ${which}: ${value}. Must be YYYY-MM-DD, NdaysAgo, yesterday, or today.`);
  return value;
}

function toInt(value: unknown, name: string, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  const n = typeof value === 'string' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) throw invalid(`${name} must be a non-negative integer.`);
  return n;
}

function dimensionValue(d: Ga4Day, dim: Dimension): string {
  if (dim === 'date') return d.date.replaceAll('-', '');
  if (dim === 'sessionSource') return d.sessionSource;
  return d.channelGroup;
}

/** Code-unit order (locale-independent, so paging is stable everywhere). */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

interface ReportRow {
  dims: string[];
  sessions: number;
  keyEvents: number;
}

export function createGa4Emulator(state: AdWorldState) {
  return new Hono()
    .post('/_control', async (c) => {
      const body = (await c.req.json().catch(() => ({}))) as Record<string, unknown>;
      if (typeof body.quotaErrorsNext === 'number')
        state.ga4.quotaErrorsNext = Math.max(0, Math.floor(body.quotaErrorsNext));
      return c.json({ ga4: state.ga4 });
    })
    .post('/:version/properties/:propertyMethod', async (c) => {
      const url = new URL(c.req.url);
      const { version, propertyMethod } = c.req.param();
      const respond = (status: 200 | 400 | 401 | 403 | 404 | 429, body: unknown) => {
        logRequest(state, { service: 'ga4', method: 'POST', path: redactUrl(url), status });
        return c.json(body, status);
      };
      const match = /^(\d+):runReport$/.exec(propertyMethod);
      if (version !== 'v1beta' || !match) {
        return respond(404, { error: { code: 404, message: 'Method not found.', status: 'NOT_FOUND' } });
      }
      const propertyId = match[1]!;
      try {
        if (!verifyBearer(c.req.header('authorization'))) {
          throw new ApiError(
            401,
            'UNAUTHENTICATED',
            'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.',
          );
        }
        if (!isKnownAccount('ga4', propertyId)) {
          throw new ApiError(
            403,
            'PERMISSION_DENIED',
            'User does not have sufficient permissions for this property. To learn more about Property ID, see https://developers.google.com/analytics/devguides/reporting/data/v1/property-id.',
          );
        }
        if (state.ga4.quotaErrorsNext > 0) {
          state.ga4.quotaErrorsNext -= 1;
          throw new ApiError(
            429,
            'RESOURCE_EXHAUSTED',
            'Exhausted property tokens per hour for a project per property.',
          );
        }
        const body = (await c.req.json().catch(() => null)) as Record<string, unknown> | null;
        if (!body) throw invalid('Invalid JSON payload received.');
        const ranges = body.dateRanges;
        if (!Array.isArray(ranges) || ranges.length === 0) throw invalid('dateRanges is required.');
        if (ranges.length > 1) throw invalid('The sandbox serves one date range per request.');
        const timezone = accountTimezone('ga4', propertyId);
        const now = worldNow(state);
        const today = localToday(now, timezone).date;
        const range = ranges[0] as Record<string, unknown>;
        const start = resolveDate(range.startDate, today, 'startDate');
        const end = resolveDate(range.endDate, today, 'endDate');
        if (start > end) throw invalid(`Invalid date range: startDate ${start} is after endDate ${end}.`);

        const dims = ((body.dimensions as { name?: unknown }[] | undefined) ?? []).map((d) => d?.name);
        for (const d of dims) {
          if (!(DIMENSIONS as readonly unknown[]).includes(d)) {
            throw invalid(
              `Field ${String(d)} is not a valid dimension. For a list of valid dimensions and metrics, see https://developers.google.com/analytics/devguides/reporting/data/v1/api-schema`,
            );
          }
        }
        const metrics = ((body.metrics as { name?: unknown }[] | undefined) ?? []).map((m) => m?.name);
        if (metrics.length === 0) throw invalid('At least one metric is required.');
        for (const m of metrics) {
          if (typeof m !== 'string' || !(m in METRICS)) {
            throw invalid(
              `Field ${String(m)} is not a valid metric. For a list of valid dimensions and metrics, see https://developers.google.com/analytics/devguides/reporting/data/v1/api-schema`,
            );
          }
        }
        const limit = toInt(body.limit, 'limit', DEFAULT_LIMIT) || DEFAULT_LIMIT;
        if (limit > MAX_LIMIT) throw invalid(`limit must be at most ${MAX_LIMIT}.`);
        const offset = toInt(body.offset, 'offset', 0);

        const groups = new Map<string, ReportRow>();
        for (const d of ga4Days(propertyId, { start, end }, now, worldOptions(state))) {
          const values = (dims as Dimension[]).map((dim) => dimensionValue(d, dim));
          const key = values.join('\u0000');
          const g = groups.get(key) ?? { dims: values, sessions: 0, keyEvents: 0 };
          g.sessions += d.sessions;
          g.keyEvents += d.keyEvents;
          groups.set(key, g);
        }
        const metricOf = (r: ReportRow, m: Metric) => (m === 'sessions' ? r.sessions : r.keyEvents);
        const orderBys = (Array.isArray(body.orderBys) ? body.orderBys : []) as {
          desc?: boolean;
          dimension?: { dimensionName?: string };
          metric?: { metricName?: string };
        }[];
        const rows = [...groups.values()].sort((a, b) => {
          for (const o of orderBys) {
            let cmp = 0;
            if (o.dimension?.dimensionName) {
              const i = dims.indexOf(o.dimension.dimensionName);
              if (i < 0) throw invalid(`OrderBy dimension ${o.dimension.dimensionName} is not in the request.`);
              cmp = compareText(a.dims[i]!, b.dims[i]!);
            } else if (o.metric?.metricName) {
              const name = o.metric.metricName as Metric;
              if (!metrics.includes(name)) throw invalid(`OrderBy metric ${name} is not in the request.`);
              cmp = metricOf(a, name) - metricOf(b, name);
            }
            if (cmp !== 0) return o.desc ? -cmp : cmp;
          }
          for (let i = 0; i < a.dims.length; i++) {
            const cmp = compareText(a.dims[i]!, b.dims[i]!);
            if (cmp !== 0) return cmp;
          }
          return 0;
        });
        const page = rows.slice(offset, offset + limit);
        const response: Record<string, unknown> = {
          dimensionHeaders: dims.map((name) => ({ name })),
          metricHeaders: (metrics as Metric[]).map((name) => ({ name, type: METRICS[name] })),
        };
        // Like the real API, empty reports have neither rows nor rowCount.
        if (page.length > 0) {
          response.rows = page.map((r) => ({
            dimensionValues: r.dims.map((value) => ({ value })),
            metricValues: (metrics as Metric[]).map((m) => ({ value: String(metricOf(r, m)) })),
          }));
        }
        if (rows.length > 0) response.rowCount = rows.length;
        response.metadata = { currencyCode: 'USD', timeZone: timezone };
        response.kind = 'analyticsData#runReport';
        return respond(200, response);
      } catch (err) {
        if (err instanceof ApiError) {
          return respond(err.code, { error: { code: err.code, message: err.message, status: err.status } });
        }
        throw err;
      }
    });
}
