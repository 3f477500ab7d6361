/**
 * Google Business Profile reviews (the v4 reviews API: list, get, update reply, delete reply). googleapis ships
 * no client for it, so this is REST over fetch, with access tokens from google-auth-library's OAuth2Client
 * (refresh-token grant against the configured token URL, as integrations/google-ads.ts does). Without
 * credentials the base URL is the sandbox emulator (sandbox/business-profile.ts).
 */
import { OAuth2Client } from 'google-auth-library';

export interface BusinessProfileLocation {
  accountId: string;
  locationId: string;
}

export interface BusinessProfileCredentials {
  clientId: string;
  clientSecret: string;
  refreshToken: string;
}

export type StarRating = 'ONE' | 'TWO' | 'THREE' | 'FOUR' | 'FIVE' | 'STAR_RATING_UNSPECIFIED';

export interface BusinessProfileReview {
  name: string;
  reviewId: string;
  reviewer: { displayName?: string; profilePhotoUrl?: string; isAnonymous?: boolean };
  starRating: StarRating;
  comment?: string;
  createTime: string;
  updateTime: string;
  reviewReply?: { comment: string; updateTime: string };
}

export interface ReviewPage {
  reviews: BusinessProfileReview[];
  nextPageToken?: string;
  averageRating?: number;
  totalReviewCount?: number;
}

export interface BusinessProfileClient {
  listReviews(location: BusinessProfileLocation, options?: { pageSize?: number; pageToken?: string }): Promise<ReviewPage>;
  /** Null when the review does not exist (deleted by its author). */
  getReview(location: BusinessProfileLocation, reviewId: string): Promise<BusinessProfileReview | null>;
  /** Creates or replaces the owner's reply. */
  updateReply(
    location: BusinessProfileLocation,
    reviewId: string,
    comment: string,
  ): Promise<{ comment: string; updateTime: string }>;
  deleteReply(location: BusinessProfileLocation, reviewId: string): Promise<void>;
}

/** Credentials rejected (invalid_grant, 401, 403): permanent until someone reconnects the location. */
export class BusinessProfileAuthError extends Error {
  override name = 'BusinessProfileAuthError';
}

/** A 4xx other than auth and 404 (a reply too long, a malformed id): permanent. */
export class BusinessProfileRequestError extends Error {
  override name = 'BusinessProfileRequestError';
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/**
 * No answer within the timeout. For a reply this is an UNCERTAIN outcome: Google may have applied it. The
 * caller reconciles by reading the review back, never by posting again blindly.
 */
export class BusinessProfileTimeoutError extends Error {
  override name = 'BusinessProfileTimeoutError';
}

export type BusinessProfileClientFactory = (credentials: BusinessProfileCredentials) => BusinessProfileClient;

/** The sandbox emulator accepts any refresh token starting with `sandbox-` (sandbox/google-oauth.ts). */
export const SANDBOX_BUSINESS_PROFILE_CREDENTIALS: BusinessProfileCredentials = {
  clientId: 'sandbox-business-profile.apps.googleusercontent.com',
  clientSecret: 'sandbox-secret',
  refreshToken: 'sandbox-business-profile-refresh',
};

const STARS: Record<StarRating, number | null> = {
  ONE: 1,
  TWO: 2,
  THREE: 3,
  FOUR: 4,
  FIVE: 5,
  STAR_RATING_UNSPECIFIED: null,
};

export function starRatingToNumber(rating: StarRating): number | null {
  return STARS[rating] ?? null;
}

export function numberToStarRating(stars: number): StarRating {
  return (['ONE', 'TWO', 'THREE', 'FOUR', 'FIVE'] as const)[stars - 1] ?? 'STAR_RATING_UNSPECIFIED';
}

/** `accounts/1/locations/2/reviews/abc` or `accounts/1/locations/2`. */
export function parseReviewName(name: string): { accountId: string; locationId: string; reviewId?: string } | null {
  const match = /^accounts\/([^/]+)\/locations\/([^/]+)(?:\/reviews\/([^/]+))?$/.exec(name.trim());
  if (!match) return null;
  return { accountId: match[1]!, locationId: match[2]!, ...(match[3] ? { reviewId: match[3] } : {}) };
}

function locationPath(location: BusinessProfileLocation): string {
  return `/v4/accounts/${encodeURIComponent(location.accountId)}/locations/${encodeURIComponent(location.locationId)}`;
}

export function createBusinessProfileClientFactory(options: {
  apiUrl: string;
  tokenUrl: string;
  timeoutMs?: number;
}): BusinessProfileClientFactory {
  const base = options.apiUrl.replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? 15_000;
  // One OAuth2Client per credentials, so access tokens are reused until they expire.
  const clients = new Map<string, BusinessProfileClient>();

  return (credentials) => {
    const cacheKey = `${credentials.clientId}\u0000${credentials.refreshToken}`;
    const cached = clients.get(cacheKey);
    if (cached) return cached;
    const auth = new OAuth2Client({
      clientId: credentials.clientId,
      clientSecret: credentials.clientSecret,
      endpoints: { oauth2TokenUrl: options.tokenUrl },
    });
    auth.setCredentials({ refresh_token: credentials.refreshToken });

    async function call<T>(method: string, path: string, body?: unknown): Promise<{ status: number; json: T | null }> {
      let authorization: string | null;
      try {
        authorization = (await auth.getRequestHeaders()).get('authorization');
      } catch (err) {
        const message = (err as Error).message ?? String(err);
        if (/invalid_grant|invalid_client|unauthorized/i.test(message)) {
          throw new BusinessProfileAuthError(`Business Profile OAuth: ${message}`);
        }
        throw err;
      }
      if (!authorization) throw new BusinessProfileAuthError('Business Profile OAuth: no access token');
      let res: Response;
      try {
        res = await fetch(`${base}${path}`, {
          method,
          headers: { authorization, accept: 'application/json', 'content-type': 'application/json' },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (err) {
        const e = err as Error;
        if (e.name === 'TimeoutError' || e.name === 'AbortError') {
          throw new BusinessProfileTimeoutError(`Business Profile ${method} ${path}: no answer within ${timeoutMs} ms`);
        }
        throw err;
      }
      const text = await res.text();
      const json = text ? (JSON.parse(text) as T) : null;
      if (res.ok || res.status === 404) return { status: res.status, json };
      const message =
        (json as { error?: { message?: string } } | null)?.error?.message ?? `${res.status} ${res.statusText}`;
      if (res.status === 401 || res.status === 403) {
        throw new BusinessProfileAuthError(`Business Profile ${method} ${path}: ${message}`);
      }
      if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) {
        throw new BusinessProfileRequestError(`Business Profile ${method} ${path}: ${message}`, res.status);
      }
      // 5xx, 408, 429: transient; the activity's retry policy tries again.
      throw new Error(`Business Profile ${method} ${path}: ${message}`);
    }

    const client: BusinessProfileClient = {
      async listReviews(location, listOptions = {}) {
        const params = new URLSearchParams({ pageSize: String(listOptions.pageSize ?? 50) });
        if (listOptions.pageToken) params.set('pageToken', listOptions.pageToken);
        const { status, json } = await call<ReviewPage>('GET', `${locationPath(location)}/reviews?${params}`);
        if (status === 404) throw new BusinessProfileRequestError('Business Profile: location not found', 404);
        return { ...json!, reviews: json?.reviews ?? [] };
      },
      async getReview(location, reviewId) {
        const { status, json } = await call<BusinessProfileReview>(
          'GET',
          `${locationPath(location)}/reviews/${encodeURIComponent(reviewId)}`,
        );
        return status === 404 ? null : json;
      },
      async updateReply(location, reviewId, comment) {
        const { status, json } = await call<{ comment: string; updateTime: string }>(
          'PUT',
          `${locationPath(location)}/reviews/${encodeURIComponent(reviewId)}/reply`,
          { comment },
        );
        if (status === 404) throw new BusinessProfileRequestError('Business Profile: review not found', 404);
        return json!;
      },
      async deleteReply(location, reviewId) {
        await call('DELETE', `${locationPath(location)}/reviews/${encodeURIComponent(reviewId)}/reply`);
      },
    };
    clients.set(cacheKey, client);
    return client;
  };
}
