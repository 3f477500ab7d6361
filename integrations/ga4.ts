/**
 * GA4 Data API client over googleapis (`analyticsdata` v1beta `properties.runReport`): daily sessions and key
 * events per session source and default channel group, paged with limit/offset (the cursor is the next offset;
 * paging stops when the offset reaches rowCount). Dates come back as YYYYMMDD and are returned as YYYY-MM-DD.
 * googleapis' own retries are off: throttling surfaces as ThrottledError so the caller decides when to retry.
 */
import { google } from 'googleapis';
import {
  InvalidCredentialsError,
  InvalidRequestError,
  ThrottledError,
  type DateRange,
  type FetchedPage,
  type Ga4Credentials,
  type TrafficClient,
  type TrafficDayRow,
} from './ad-platforms';
import { toCount } from './ad-platform-values';
import { mapOAuthError } from './google-ads';

export const DEFAULT_GA4_PAGE_SIZE = 10_000;
export const DEFAULT_GA4_RETRY_MS = 60_000;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const DIMENSIONS = ['date', 'sessionSource', 'sessionDefaultChannelGroup'] as const;
const METRICS = ['sessions', 'keyEvents'] as const;

export interface Ga4ClientOptions {
  apiUrl: string;
  tokenUrl: string;
  propertyId: string;
  credentials: Ga4Credentials;
  pageSize?: number;
  /** retryAfterMs for quota errors (GA4 names no delay; default DEFAULT_GA4_RETRY_MS). */
  defaultRetryAfterMs?: number;
}

interface Ga4Response {
  dimensionHeaders?: { name?: string | null }[] | null;
  metricHeaders?: { name?: string | null }[] | null;
  rows?:
    | { dimensionValues?: { value?: string | null }[] | null; metricValues?: { value?: string | null }[] | null }[]
    | null;
  rowCount?: number | null;
}

function isoDate(ga4Date: string): string {
  const match = /^(\d{4})(\d{2})(\d{2})$/.exec(ga4Date);
  if (!match) throw new Error(`GA4 date is not YYYYMMDD: ${ga4Date}`);
  return `${match[1]}-${match[2]}-${match[3]}`;
}

function normalizeRows(data: Ga4Response): TrafficDayRow[] {
  const dims = (data.dimensionHeaders ?? []).map((h) => h.name ?? '');
  const metrics = (data.metricHeaders ?? []).map((h) => h.name ?? '');
  const at = (names: string[], name: string) => {
    const i = names.indexOf(name);
    if (i < 0) throw new Error(`GA4 report lacks ${name}`);
    return i;
  };
  const [iDate, iSource, iGroup] = [
    at(dims, 'date'),
    at(dims, 'sessionSource'),
    at(dims, 'sessionDefaultChannelGroup'),
  ];
  const [iSessions, iEvents] = [at(metrics, 'sessions'), at(metrics, 'keyEvents')];
  return (data.rows ?? []).map((row) => {
    const d = row.dimensionValues ?? [];
    const m = row.metricValues ?? [];
    return {
      date: isoDate(d[iDate]?.value ?? ''),
      sessionSource: d[iSource]?.value ?? '',
      channelGroup: d[iGroup]?.value ?? '',
      sessions: toCount(m[iSessions]?.value, 'sessions'),
      keyEvents: toCount(m[iEvents]?.value, 'keyEvents'),
    };
  });
}

/** Maps a googleapis failure (token endpoint or Data API) to the contract's errors. */
export function mapGa4Error(err: unknown, fallbackRetryMs = DEFAULT_GA4_RETRY_MS): Error {
  const response = (err as { response?: { status?: unknown; data?: unknown; headers?: unknown } } | null)?.response;
  if (!response || typeof response.status !== 'number') return err instanceof Error ? err : new Error(String(err));
  const data = response.data as { error?: unknown } | undefined;
  // OAuth token endpoint errors are {error: 'invalid_grant', error_description}.
  if (typeof data?.error === 'string') return mapOAuthError(err, 'GA4', fallbackRetryMs);
  const error = (data?.error ?? {}) as { code?: number; message?: string; status?: string };
  const status = response.status;
  const message = `GA4 Data API: ${error.message ?? `HTTP ${status}`}${error.status ? ` (${error.status})` : ''}`;
  if (status === 401 || error.status === 'UNAUTHENTICATED') return new InvalidCredentialsError(message);
  if (status === 429 || error.status === 'RESOURCE_EXHAUSTED') return new ThrottledError(message, fallbackRetryMs);
  if (status >= 400 && status < 500) return new InvalidRequestError(message);
  return new Error(message);
}

export function createGa4TrafficClient(options: Ga4ClientOptions): TrafficClient {
  const { apiUrl, tokenUrl, propertyId, credentials } = options;
  const pageSize = options.pageSize ?? DEFAULT_GA4_PAGE_SIZE;
  if (!/^\d+$/.test(propertyId)) throw new InvalidRequestError(`GA4 property id must be numeric, got ${propertyId}`);
  const auth = new google.auth.OAuth2({
    clientId: credentials.clientId,
    clientSecret: credentials.clientSecret,
    endpoints: { oauth2TokenUrl: tokenUrl },
  });
  auth.setCredentials({ refresh_token: credentials.refreshToken });
  // The method builds its URL from the per-call rootUrl (else the default host) and then re-bases only the URL's
  // path onto the service-level rootUrl, which drops a path prefix such as the sandbox's /ga4: pass both.
  const rootUrl = `${apiUrl.replace(/\/+$/, '')}/`;
  const api = google.analyticsdata({ version: 'v1beta', auth, rootUrl });

  return {
    rawSource: 'ga4_data_api_v1beta',
    async fetchPage(range: DateRange, cursor: string | null): Promise<FetchedPage<TrafficDayRow>> {
      if (!DATE.test(range.start) || !DATE.test(range.end)) throw new InvalidRequestError('dates must be YYYY-MM-DD');
      const offset = cursor === null ? 0 : Number(cursor);
      if (!Number.isInteger(offset) || offset < 0) throw new InvalidRequestError(`bad GA4 cursor ${cursor}`);
      const requestBody = {
        dateRanges: [{ startDate: range.start, endDate: range.end }],
        dimensions: DIMENSIONS.map((name) => ({ name })),
        metrics: METRICS.map((name) => ({ name })),
        orderBys: DIMENSIONS.map((dimensionName) => ({ dimension: { dimensionName } })),
        limit: String(pageSize),
        offset: String(offset),
      };
      let data: Ga4Response;
      try {
        const res = await api.properties.runReport(
          { property: `properties/${propertyId}`, requestBody },
          { retry: false, rootUrl },
        );
        data = res.data as Ga4Response;
      } catch (err) {
        throw mapGa4Error(err, options.defaultRetryAfterMs ?? DEFAULT_GA4_RETRY_MS);
      }
      const rows = normalizeRows(data);
      const next = offset + rows.length;
      const rowCount = data.rowCount ?? 0;
      return {
        request: { method: 'POST', path: `/v1beta/properties/${propertyId}:runReport`, body: requestBody },
        raw: data,
        rows,
        nextCursor: rows.length > 0 && next < rowCount ? String(next) : null,
      };
    },
  };
}
