/**
 * Google Ads API client over REST: `googleAds:searchStream` with a GAQL query for campaign-day metrics, an
 * access token from google-auth-library's OAuth2Client (refresh-token grant against the configured token URL;
 * the client caches and renews the token), and the `developer-token` / `login-customer-id` headers.
 *
 * A stream is answered whole, so one page is the whole range (nextCursor is always null). Spend is cost_micros
 * / 1e6 rounded half up to cents with integer math; metrics.conversions (a double such as 2.5 or 1.35) is
 * rounded half up to a whole number per campaign-day.
 */
import { OAuth2Client } from 'google-auth-library';
import {
  InvalidCredentialsError,
  InvalidRequestError,
  ThrottledError,
  type CampaignClient,
  type CampaignDayRow,
  type DateRange,
  type FetchedPage,
  type GoogleAdsCredentials,
} from './ad-platforms';
import { formatCents, microsToCents, roundConversions, toCount } from './ad-platform-values';

export const DEFAULT_GOOGLE_ADS_RETRY_MS = 30_000;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

export interface GoogleAdsClientOptions {
  apiUrl: string;
  apiVersion: string;
  tokenUrl: string;
  customerId: string;
  credentials: GoogleAdsCredentials;
  /** retryAfterMs when a quota error names no retry delay (default DEFAULT_GOOGLE_ADS_RETRY_MS). */
  defaultRetryAfterMs?: number;
}

export function campaignDayQuery(range: DateRange): string {
  if (!DATE.test(range.start) || !DATE.test(range.end)) throw new InvalidRequestError('dates must be YYYY-MM-DD');
  return [
    'SELECT campaign.id, campaign.name, segments.date, metrics.cost_micros, metrics.impressions, metrics.clicks, metrics.conversions',
    'FROM campaign',
    `WHERE segments.date BETWEEN '${range.start}' AND '${range.end}'`,
    'ORDER BY segments.date, campaign.id',
  ].join(' ');
}

interface SearchStreamRow {
  campaign?: { id?: string; name?: string };
  segments?: { date?: string };
  metrics?: { costMicros?: string; impressions?: string; clicks?: string; conversions?: number };
}

interface SearchStreamBatch {
  results?: SearchStreamRow[];
}

interface GoogleAdsErrorBody {
  error?: {
    code?: number;
    message?: string;
    status?: string;
    details?: {
      errors?: {
        errorCode?: Record<string, string>;
        message?: string;
        details?: { quotaErrorDetails?: { retryDelay?: string } };
      }[];
    }[];
  };
}

function normalize(row: SearchStreamRow): CampaignDayRow {
  const id = row.campaign?.id;
  const date = row.segments?.date;
  if (!id || !date) throw new Error('Google Ads row without campaign.id or segments.date');
  return {
    date,
    campaignId: id,
    campaignName: row.campaign?.name ?? '',
    impressions: toCount(row.metrics?.impressions, 'metrics.impressions'),
    clicks: toCount(row.metrics?.clicks, 'metrics.clicks'),
    spend: formatCents(microsToCents(row.metrics?.costMicros ?? '0')),
    conversions: roundConversions(toCount(row.metrics?.conversions, 'metrics.conversions')),
  };
}

/** "40s" / "1.5s" (a protobuf Duration) → milliseconds. */
function durationMs(value: string | undefined): number | null {
  const match = /^(\d+(?:\.\d+)?)s$/.exec(value ?? '');
  return match ? Math.ceil(Number(match[1]) * 1000) : null;
}

/** Maps a token-endpoint failure (google-auth-library / gaxios) to the contract's errors. */
export function mapOAuthError(err: unknown, platform: string, fallbackRetryMs = DEFAULT_GOOGLE_ADS_RETRY_MS): Error {
  // gaxios errors carry the HTTP answer in `response` (checked by shape: several gaxios copies may be loaded).
  const response = (err as { response?: { status?: unknown; data?: unknown } } | null)?.response;
  if (response && typeof response.status === 'number') {
    const status = response.status;
    const data = response.data as { error?: unknown; error_description?: unknown } | undefined;
    const code = typeof data?.error === 'string' ? data.error : undefined;
    const detail = typeof data?.error_description === 'string' ? `: ${data.error_description}` : '';
    if (code === 'invalid_grant' || code === 'invalid_client' || code === 'unauthorized_client' || status === 401) {
      return new InvalidCredentialsError(`${platform} OAuth: ${code ?? status}${detail}`);
    }
    if (status === 429) return new ThrottledError(`${platform} OAuth: rate limited`, fallbackRetryMs);
    if (status >= 400 && status < 500) return new InvalidRequestError(`${platform} OAuth: ${code ?? status}${detail}`);
    return new Error(`${platform} OAuth: token endpoint answered ${status}`);
  }
  return err instanceof Error ? err : new Error(String(err));
}

/** Maps a searchStream error answer to the contract's errors. */
export function mapGoogleAdsError(
  status: number,
  body: unknown,
  retryAfterHeader: string | null,
  fallbackRetryMs = DEFAULT_GOOGLE_ADS_RETRY_MS,
): Error {
  const error = (body as GoogleAdsErrorBody | null)?.error;
  const failures = (error?.details ?? []).flatMap((d) => d.errors ?? []);
  const codes = failures.flatMap((f) => Object.entries(f.errorCode ?? {}));
  const first = failures[0];
  const message = `Google Ads API: ${first?.message ?? error?.message ?? `HTTP ${status}`}${
    codes.length ? ` (${codes.map(([k, v]) => `${k}.${v}`).join(', ')})` : error?.status ? ` (${error.status})` : ''
  }`;
  const credentialProblem = codes.some(
    ([kind, value]) =>
      kind === 'authenticationError' || value.startsWith('DEVELOPER_TOKEN') || value.includes('OAUTH_TOKEN'),
  );
  if (status === 401 || error?.status === 'UNAUTHENTICATED' || credentialProblem)
    return new InvalidCredentialsError(message);
  if (status === 429 || error?.status === 'RESOURCE_EXHAUSTED' || codes.some(([kind]) => kind === 'quotaError')) {
    const fromBody = failures
      .map((f) => durationMs(f.details?.quotaErrorDetails?.retryDelay))
      .find((ms) => ms !== null);
    const fromHeader = retryAfterHeader && /^\d+$/.test(retryAfterHeader) ? Number(retryAfterHeader) * 1000 : null;
    return new ThrottledError(message, fromBody ?? fromHeader ?? fallbackRetryMs);
  }
  if (status >= 400 && status < 500) return new InvalidRequestError(message);
  return new Error(message);
}

export function createGoogleAdsCampaignClient(options: GoogleAdsClientOptions): CampaignClient {
  const { apiUrl, apiVersion, tokenUrl, credentials } = options;
  const customerId = options.customerId.replaceAll('-', '');
  if (!/^\d{10}$/.test(customerId))
    throw new InvalidRequestError(`Google Ads customer id must be 10 digits, got ${options.customerId}`);
  const auth = new OAuth2Client({
    clientId: credentials.clientId,
    clientSecret: credentials.clientSecret,
    endpoints: { oauth2TokenUrl: tokenUrl },
  });
  auth.setCredentials({ refresh_token: credentials.refreshToken });
  const base = apiUrl.replace(/\/+$/, '');
  const path = `/${apiVersion}/customers/${customerId}/googleAds:searchStream`;
  const loginCustomerId = credentials.loginCustomerId?.replaceAll('-', '');
  const fallbackRetryMs = options.defaultRetryAfterMs ?? DEFAULT_GOOGLE_ADS_RETRY_MS;

  return {
    rawSource: `google_ads_api_${apiVersion}`,
    async fetchPage(range: DateRange, _cursor: string | null): Promise<FetchedPage<CampaignDayRow>> {
      const query = campaignDayQuery(range);
      const request = { method: 'POST', path, query, ...(loginCustomerId ? { loginCustomerId } : {}) };
      let authorization: string | null;
      try {
        authorization = (await auth.getRequestHeaders()).get('authorization');
      } catch (err) {
        throw mapOAuthError(err, 'Google Ads', fallbackRetryMs);
      }
      if (!authorization) throw new InvalidCredentialsError('Google Ads OAuth: no access token');
      const headers: Record<string, string> = {
        authorization,
        'developer-token': credentials.developerToken,
        'content-type': 'application/json',
        accept: 'application/json',
      };
      if (loginCustomerId) headers['login-customer-id'] = loginCustomerId;
      const response = await fetch(`${base}${path}`, { method: 'POST', headers, body: JSON.stringify({ query }) });
      const text = await response.text();
      let body: unknown = null;
      try {
        body = text ? JSON.parse(text) : null;
      } catch {
        body = null;
      }
      if (!response.ok) {
        if (response.status === 401) {
          // A revoked or expired access token: drop it so the next attempt refreshes.
          auth.setCredentials({ refresh_token: credentials.refreshToken });
        }
        throw mapGoogleAdsError(response.status, body, response.headers.get('retry-after'), fallbackRetryMs);
      }
      if (!Array.isArray(body))
        throw new Error(`Google Ads API: unexpected searchStream answer (${text.slice(0, 100)})`);
      const rows = (body as SearchStreamBatch[]).flatMap((batch) => (batch.results ?? []).map(normalize));
      return { request, raw: body, rows, nextCursor: null };
    },
  };
}
