/**
 * Meta Marketing API client over facebook-nodejs-business-sdk: campaign-level daily insights of one ad account,
 * a page at a time (the cursor is Meta's `after` cursor). Leads are the `lead` action only; Meta's other action
 * types (link clicks, pixel leads, page engagement…) are ignored.
 *
 * The SDK keeps its Graph host and version in static getters (FacebookAdsApi.GRAPH / VERSION) and a global
 * default API. To keep two clients with different tokens or hosts apart, every page is fetched through its own
 * `ScopedGraphApi` instance (passed to `new AdAccount(id, …, api)`), which builds the absolute URL from this
 * client's base URL and version; nothing global is read or written, and the crash reporter stays off.
 */
import { AdAccount, FacebookAdsApi, type Cursor } from 'facebook-nodejs-business-sdk';
import {
  InvalidCredentialsError,
  InvalidRequestError,
  ThrottledError,
  type CampaignClient,
  type CampaignDayRow,
  type DateRange,
  type FetchedPage,
  type MetaCredentials,
} from './ad-platforms';
import { decimalToCents, formatCents, toCount } from './ad-platform-values';

export const META_INSIGHT_FIELDS = [
  'campaign_id',
  'campaign_name',
  'spend',
  'impressions',
  'clicks',
  'actions',
  'date_start',
  'date_stop',
] as const;

export const DEFAULT_META_PAGE_SIZE = 500;
/** When a throttling answer carries no usable reset time. */
export const DEFAULT_META_RETRY_MS = 60_000;

const THROTTLE_CODES = new Set([4, 17, 32, 613]);
const INVALID_TOKEN_CODES = new Set([102, 190, 463, 467]);
const DATE = /^\d{4}-\d{2}-\d{2}$/;

export interface MetaClientOptions {
  graphUrl: string;
  apiVersion: string;
  accountId: string;
  credentials: MetaCredentials;
  pageSize?: number;
  /** retryAfterMs when a throttling answer carries no usable reset time (default DEFAULT_META_RETRY_MS). */
  defaultRetryAfterMs?: number;
}

function encodeParams(params: Record<string, unknown>): string {
  return Object.entries(params)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => {
      const value = typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v);
      return `${encodeURIComponent(k)}=${encodeURIComponent(value)}`;
    })
    .join('&');
}

/** A FacebookAdsApi bound to one host and version, remembering the last raw response body. */
class ScopedGraphApi extends FacebookAdsApi {
  lastResponse: unknown = undefined;

  constructor(
    accessToken: string,
    private readonly graphUrl: string,
    private readonly version: string,
  ) {
    super(accessToken, 'en_US', false);
  }

  override call(
    method: string,
    path: string | string[],
    params: Record<string, unknown> = {},
    files: Record<string, unknown> = {},
    useMultipartFormData = false,
    urlOverride = '',
  ): Promise<unknown> {
    let target = path;
    let rest = params;
    if (typeof path !== 'string' && method === 'GET') {
      // The SDK would join the global FacebookAdsApi.GRAPH and VERSION here.
      target = `${this.graphUrl}/${this.version}/${path.join('/')}?${encodeParams({ ...params, access_token: this.accessToken })}`;
      rest = {};
    }
    return super.call(method, target, rest, files, useMultipartFormData, urlOverride).then((response) => {
      this.lastResponse = response;
      return response;
    });
  }
}

interface MetaInsightRow {
  campaign_id?: string;
  campaign_name?: string;
  spend?: string;
  impressions?: string;
  clicks?: string;
  actions?: { action_type: string; value: string }[];
  date_start?: string;
}

interface MetaInsightsPage {
  data?: MetaInsightRow[];
  paging?: { cursors?: { before?: string; after?: string }; next?: string };
}

function normalize(row: MetaInsightRow): CampaignDayRow {
  if (!row.campaign_id || !row.date_start) throw new Error('Meta insights row without campaign_id or date_start');
  const lead = row.actions?.find((a) => a.action_type === 'lead');
  return {
    date: row.date_start,
    campaignId: row.campaign_id,
    campaignName: row.campaign_name ?? '',
    impressions: toCount(row.impressions, 'impressions'),
    clicks: toCount(row.clicks, 'clicks'),
    spend: formatCents(decimalToCents(row.spend ?? '0')),
    conversions: lead ? toCount(lead.value, 'actions.lead') : 0,
  };
}

interface FacebookErrorLike {
  name?: string;
  message?: string;
  status?: number | null;
  response?: { code?: number; type?: string; message?: string; error_subcode?: number; is_transient?: boolean } | null;
  headers?: Record<string, unknown> | null;
}

function header(headers: FacebookErrorLike['headers'], name: string): string | undefined {
  if (!headers) return undefined;
  const value =
    typeof (headers as { get?: unknown }).get === 'function'
      ? (headers as unknown as { get(n: string): unknown }).get(name)
      : headers[name];
  return typeof value === 'string' ? value : undefined;
}

/** Milliseconds until Meta lets the app back in, from the usage headers it sends with throttling errors. */
export function metaRetryAfterMs(headers: FacebookErrorLike['headers'], fallbackMs = DEFAULT_META_RETRY_MS): number {
  let minutes = 0;
  let seconds = 0;
  const buc = header(headers, 'x-business-use-case-usage');
  if (buc) {
    try {
      const usage = JSON.parse(buc) as Record<string, { estimated_time_to_regain_access?: number }[]>;
      for (const entries of Object.values(usage)) {
        for (const e of entries) minutes = Math.max(minutes, Number(e.estimated_time_to_regain_access) || 0);
      }
    } catch {
      // an unreadable header leaves the default
    }
  }
  const account = header(headers, 'x-ad-account-usage');
  if (account) {
    try {
      seconds = Number((JSON.parse(account) as { reset_time_duration?: number }).reset_time_duration) || 0;
    } catch {
      // idem
    }
  }
  const ms = Math.max(minutes * 60_000, seconds * 1000);
  return ms > 0 ? ms : fallbackMs;
}

/** Maps an SDK failure to the contract's errors; anything else (network, 5xx, transient) stays retryable. */
export function mapMetaError(err: unknown, fallbackRetryMs = DEFAULT_META_RETRY_MS): Error {
  const e = err as FacebookErrorLike;
  if (!e || e.name !== 'FacebookRequestError') return err instanceof Error ? err : new Error(String(err));
  const body = e.response ?? null;
  const code = body?.code;
  const message = `Meta API: ${body?.message ?? e.message ?? 'request failed'}${code !== undefined ? ` (code ${code})` : ''}`;
  if (code !== undefined && (THROTTLE_CODES.has(code) || (code >= 80000 && code <= 80014))) {
    return new ThrottledError(message, metaRetryAfterMs(e.headers, fallbackRetryMs));
  }
  if (code !== undefined && INVALID_TOKEN_CODES.has(code)) return new InvalidCredentialsError(message);
  if (body?.is_transient || (e.status ?? 0) >= 500 || e.status === null || e.status === undefined)
    return new Error(message);
  if (code === 100 || (e.status ?? 0) >= 400) return new InvalidRequestError(message);
  return new Error(message);
}

export function createMetaCampaignClient(options: MetaClientOptions): CampaignClient {
  const { graphUrl, apiVersion, accountId, credentials } = options;
  const pageSize = options.pageSize ?? DEFAULT_META_PAGE_SIZE;
  if (!/^\d+$/.test(accountId)) throw new InvalidRequestError(`Meta ad account id must be numeric, got ${accountId}`);
  if (!credentials.accessToken) throw new InvalidCredentialsError('Meta access token is missing');
  const base = graphUrl.replace(/\/+$/, '');
  return {
    rawSource: `meta_api_${apiVersion}`,
    async fetchPage(range: DateRange, cursor: string | null): Promise<FetchedPage<CampaignDayRow>> {
      if (!DATE.test(range.start) || !DATE.test(range.end)) throw new InvalidRequestError('dates must be YYYY-MM-DD');
      const params: Record<string, unknown> = {
        level: 'campaign',
        time_range: { since: range.start, until: range.end },
        time_increment: 1,
        limit: pageSize,
        ...(cursor ? { after: cursor } : {}),
      };
      const request = {
        method: 'GET',
        path: `/${apiVersion}/act_${accountId}/insights`,
        params: { ...params, fields: META_INSIGHT_FIELDS.join(',') },
      };
      const api = new ScopedGraphApi(credentials.accessToken, base, apiVersion);
      const account = new AdAccount(`act_${accountId}`, undefined, undefined, api);
      let page: Cursor;
      try {
        page = await account.getInsights([...META_INSIGHT_FIELDS], { ...params });
      } catch (err) {
        throw mapMetaError(err, options.defaultRetryAfterMs ?? DEFAULT_META_RETRY_MS);
      }
      const raw = api.lastResponse as MetaInsightsPage;
      const rows = (raw?.data ?? []).map(normalize);
      const after = page.paging?.cursors?.after;
      return { request, raw, rows, nextCursor: page.hasNext() && after ? after : null };
    },
  };
}
