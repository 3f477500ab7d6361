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

/** Orders Google accepts for reviews.list (ascending `updateTime` is not one of them). */
export type ReviewOrder = 'updateTime desc' | 'rating' | 'rating desc';

export interface BusinessProfileClient {
  /** One page (at most 50 reviews, Google's cap), newest update first unless `orderBy` says otherwise. */
  listReviews(
    location: BusinessProfileLocation,
    options?: { pageSize?: number; pageToken?: string; orderBy?: ReviewOrder },
  ): Promise<ReviewPage>;
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

/** Google's documented limits, checked before a request so a bad reply fails permanently without a round trip. */
export const MAX_REVIEWS_PAGE_SIZE = 50;
export const MAX_REPLY_BYTES = 4096;

/** OAuth errors that mean the stored credentials are dead (revoked, wrong client), not that Google is down. */
const AUTH_ERROR_CODES = new Set(['invalid_grant', 'invalid_client', 'unauthorized_client', 'access_denied']);

function tokenFailure(err: unknown): Error {
  const e = err as { message?: string; status?: number; response?: { status?: number; data?: { error?: string } } };
  const code = e.response?.data?.error;
  const status = e.response?.status ?? e.status;
  const message = e.message ?? String(err);
  if ((code && AUTH_ERROR_CODES.has(code)) || status === 401 || /invalid_grant|invalid_client/i.test(message)) {
    return new BusinessProfileAuthError(`Business Profile OAuth: ${code ?? message}`);
  }
  // A token endpoint that is down or slow is transient: the activity's retry policy tries again.
  return new Error(`Business Profile OAuth: ${message}`);
}

function googleErrorMessage(json: unknown, fallback: string): string {
  const error = (json as { error?: { message?: unknown; status?: unknown } } | null)?.error;
  if (error && typeof error.message === 'string') {
    return typeof error.status === 'string' ? `${error.status}: ${error.message}` : error.message;
  }
  return fallback;
}

export function createBusinessProfileClientFactory(options: {
  apiUrl: string;
  tokenUrl: string;
  timeoutMs?: number;
}): BusinessProfileClientFactory {
  const base = options.apiUrl.replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? 15_000;
  // One client (and OAuth2Client) per credentials, so access tokens are reused until they expire.
  const clients = new Map<string, BusinessProfileClient>();

  return (credentials) => {
    const cacheKey = `${credentials.clientId}\u0000${credentials.clientSecret}\u0000${credentials.refreshToken}`;
    const cached = clients.get(cacheKey);
    if (cached) return cached;
    const auth = new OAuth2Client({
      clientId: credentials.clientId,
      clientSecret: credentials.clientSecret,
      endpoints: { oauth2TokenUrl: options.tokenUrl },
      transporterOptions: { timeout: timeoutMs },
    });
    auth.setCredentials({ refresh_token: credentials.refreshToken });

    async function authorization(forceRefresh: boolean): Promise<string> {
      if (forceRefresh) auth.setCredentials({ refresh_token: credentials.refreshToken });
      let header: string | null;
      try {
        header = (await auth.getRequestHeaders()).get('authorization');
      } catch (err) {
        throw tokenFailure(err);
      }
      if (!header) throw new BusinessProfileAuthError('Business Profile OAuth: no access token');
      return header;
    }

    async function call<T>(method: string, path: string, body?: unknown): Promise<{ status: number; json: T | null }> {
      const describe = `Business Profile ${method} ${path.replace(/\?.*$/, '')}`;
      let res: Response | undefined;
      let text = '';
      // A 401 with a cached token means Google stopped honouring it (revoked, rotated): one retry with a fresh
      // token is safe even for the reply PUT, because a 401 is answered before anything is applied.
      for (let attempt = 0; attempt < 2; attempt++) {
        const header = await authorization(attempt > 0);
        try {
          res = await fetch(`${base}${path}`, {
            method,
            headers: {
              authorization: header,
              accept: 'application/json',
              ...(body === undefined ? {} : { 'content-type': 'application/json' }),
            },
            body: body === undefined ? undefined : JSON.stringify(body),
            signal: AbortSignal.timeout(timeoutMs),
          });
          // Inside the try: the timeout also covers a body that stops arriving halfway.
          text = await res.text();
        } catch (err) {
          const e = err as Error;
          if (e.name === 'TimeoutError' || e.name === 'AbortError') {
            throw new BusinessProfileTimeoutError(`${describe}: no answer within ${timeoutMs} ms`);
          }
          // Connection refused or reset: for a PUT the outcome is as uncertain as a timeout once the request left.
          throw new Error(`${describe}: ${e.message}`, { cause: err });
        }
        if (res.status !== 401) break;
      }
      let json: T | null = null;
      if (text) {
        try {
          json = JSON.parse(text) as T;
        } catch {
          // A proxy's HTML error page: keep the status, which decides below whether it is transient.
          if (res!.ok) throw new Error(`${describe}: answer is not JSON (${res!.status})`);
        }
      }
      const status = res!.status;
      if (res!.ok || status === 404) return { status, json };
      const message = googleErrorMessage(json, `${status} ${res!.statusText}`);
      if (status === 401 || status === 403) throw new BusinessProfileAuthError(`${describe}: ${message}`);
      if (status >= 400 && status < 500 && status !== 408 && status !== 429) {
        throw new BusinessProfileRequestError(`${describe}: ${message}`, status);
      }
      // 5xx, 408, 429: transient; the activity's retry policy tries again.
      throw new Error(`${describe}: ${message}`);
    }

    const reviewPath = (location: BusinessProfileLocation, reviewId: string) =>
      `${locationPath(location)}/reviews/${encodeURIComponent(reviewId)}`;

    const client: BusinessProfileClient = {
      async listReviews(location, listOptions = {}) {
        const pageSize = listOptions.pageSize ?? MAX_REVIEWS_PAGE_SIZE;
        if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_REVIEWS_PAGE_SIZE) {
          throw new BusinessProfileRequestError(`pageSize must be 1..${MAX_REVIEWS_PAGE_SIZE}`, 400);
        }
        const params = new URLSearchParams({
          pageSize: String(pageSize),
          orderBy: listOptions.orderBy ?? 'updateTime desc',
        });
        if (listOptions.pageToken) params.set('pageToken', listOptions.pageToken);
        const { status, json } = await call<ReviewPage>('GET', `${locationPath(location)}/reviews?${params}`);
        if (status === 404 || !json) {
          throw new BusinessProfileRequestError(
            `Business Profile: location accounts/${location.accountId}/locations/${location.locationId} not found`,
            404,
          );
        }
        // Google leaves `reviews` out of the answer for a location without any.
        return { ...json, reviews: json.reviews ?? [] };
      },
      async getReview(location, reviewId) {
        const { status, json } = await call<BusinessProfileReview>('GET', reviewPath(location, reviewId));
        return status === 404 ? null : json;
      },
      async updateReply(location, reviewId, comment) {
        if (!comment.trim()) throw new BusinessProfileRequestError('A reply needs text', 400);
        if (Buffer.byteLength(comment, 'utf8') > MAX_REPLY_BYTES) {
          throw new BusinessProfileRequestError(`A reply is at most ${MAX_REPLY_BYTES} bytes`, 400);
        }
        const { status, json } = await call<{ comment: string; updateTime: string }>(
          'PUT',
          `${reviewPath(location, reviewId)}/reply`,
          { comment },
        );
        if (status === 404 || !json) throw new BusinessProfileRequestError('Business Profile: review not found', 404);
        return json;
      },
      async deleteReply(location, reviewId) {
        // Deleting a reply of a review that is gone leaves nothing to delete: done either way.
        await call('DELETE', `${reviewPath(location, reviewId)}/reply`);
      },
    };
    clients.set(cacheKey, client);
    return client;
  };
}
