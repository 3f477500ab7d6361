/**
 * The contract between the ETL activities and the three platform clients (meta-ads.ts, google-ads.ts,
 * ga4.ts). A client fetches one page of daily rows for a date range; the activity stores the page's raw
 * JSON, normalizes its rows and upserts the facts, then asks for the next page with the returned cursor.
 * The same client code talks to the real platform or to the sandbox emulator: only base URLs differ.
 */
import type { AdChannel } from '../db/schema/data-lake';

/** Inclusive calendar dates, YYYY-MM-DD, in the account's reporting timezone. */
export interface DateRange {
  start: string;
  end: string;
}

/** One campaign on one day, normalized across ad platforms. */
export interface CampaignDayRow {
  date: string;
  campaignId: string;
  campaignName: string;
  impressions: number;
  clicks: number;
  /** In the account currency, as a decimal string with at most 2 decimals (Google: cost_micros / 1e6, rounded). */
  spend: string;
  /** Meta: the `lead` action; Google Ads: metrics.conversions (rounded to an integer). */
  conversions: number;
}

/** GA4 sessions and key events for one day and traffic source. */
export interface TrafficDayRow {
  date: string;
  sessionSource: string;
  channelGroup: string;
  sessions: number;
  /** GA4 reports key events as a double. */
  keyEvents: number;
}

export interface FetchedPage<Row> {
  /** What was asked (path, params; never tokens), stored with the raw page. */
  request: Record<string, unknown>;
  /** The platform's answer, unmodified, stored in raw_<source>. */
  raw: unknown;
  rows: Row[];
  /** Opaque; pass back to fetch the next page. Null on the last page. */
  nextCursor: string | null;
}

export interface AdPlatformClient<Row> {
  /** e.g. "meta_api_v24.0": recorded on every fact as raw_source. */
  readonly rawSource: string;
  fetchPage(range: DateRange, cursor: string | null): Promise<FetchedPage<Row>>;
}

export type CampaignClient = AdPlatformClient<CampaignDayRow>;
export type TrafficClient = AdPlatformClient<TrafficDayRow>;

/** Credentials per channel, as stored (encrypted) on the connection. */
export interface MetaCredentials {
  accessToken: string;
}
export interface GoogleAdsCredentials {
  developerToken: string;
  clientId: string;
  clientSecret: string;
  refreshToken: string;
  /** Manager account id, when access goes through one. */
  loginCustomerId?: string;
}
export interface Ga4Credentials {
  clientId: string;
  clientSecret: string;
  refreshToken: string;
}
export type ChannelCredentials = {
  meta: MetaCredentials;
  google_ads: GoogleAdsCredentials;
  ga4: Ga4Credentials;
};

/** Where each platform lives: the real hosts in production, the sandbox emulator otherwise (config.ts). */
export interface AdPlatformEndpoints {
  /** Graph API root, e.g. https://graph.facebook.com */
  metaGraphUrl: string;
  metaApiVersion: string;
  /** e.g. https://googleads.googleapis.com */
  googleAdsUrl: string;
  googleAdsApiVersion: string;
  /** e.g. https://analyticsdata.googleapis.com */
  ga4Url: string;
  /** e.g. https://oauth2.googleapis.com/token */
  googleOAuthTokenUrl: string;
}

/** The platform refused the credentials (expired token, revoked grant, bad developer token): do not retry. */
export class InvalidCredentialsError extends Error {
  override name = 'InvalidCredentialsError';
}

/** The platform asked us to slow down; retry after `retryAfterMs`. */
export class ThrottledError extends Error {
  override name = 'ThrottledError';
  constructor(
    message: string,
    readonly retryAfterMs: number,
  ) {
    super(message);
  }
}

/** The request itself is wrong (unknown account, bad field): retrying will not help. */
export class InvalidRequestError extends Error {
  override name = 'InvalidRequestError';
}

export interface AdPlatformClients {
  campaignClient(
    channel: 'meta' | 'google_ads',
    accountId: string,
    credentials: MetaCredentials | GoogleAdsCredentials,
  ): CampaignClient;
  trafficClient(accountId: string, credentials: Ga4Credentials): TrafficClient;
}

export type { AdChannel };
