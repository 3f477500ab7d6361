/**
 * The AdPlatformClients factory: builds a CampaignClient (Meta, Google Ads) or TrafficClient (GA4) for one
 * account from its stored credentials. Endpoints decide whether the real platforms or the sandbox answer.
 */
import {
  InvalidRequestError,
  type AdPlatformClients,
  type AdPlatformEndpoints,
  type CampaignClient,
  type Ga4Credentials,
  type GoogleAdsCredentials,
  type MetaCredentials,
  type TrafficClient,
} from './ad-platforms';
import { createGa4TrafficClient, DEFAULT_GA4_PAGE_SIZE } from './ga4';
import { createGoogleAdsCampaignClient } from './google-ads';
import { createMetaCampaignClient, DEFAULT_META_PAGE_SIZE } from './meta-ads';

export interface AdPlatformClientOptions {
  /** Meta insights rows per page (Meta's `limit`); default 500. */
  metaPageSize?: number;
  /** GA4 rows per runReport page (`limit`); default 10,000. */
  ga4PageSize?: number;
  /**
   * retryAfterMs of a ThrottledError whose answer names no delay (Meta without a usable usage header, GA4
   * quota errors, Google quota errors without retryDelay). Defaults: Meta 60 s, Google Ads 30 s, GA4 60 s.
   */
  defaultRetryAfterMs?: number;
}

function has<K extends string>(value: unknown, keys: K[]): value is Record<K, string> {
  return (
    typeof value === 'object' &&
    value !== null &&
    keys.every((k) => typeof (value as Record<string, unknown>)[k] === 'string')
  );
}

export function createAdPlatformClients(
  endpoints: AdPlatformEndpoints,
  options: AdPlatformClientOptions = {},
): AdPlatformClients {
  return {
    campaignClient(
      channel: 'meta' | 'google_ads',
      accountId: string,
      credentials: MetaCredentials | GoogleAdsCredentials,
    ): CampaignClient {
      if (channel === 'meta') {
        if (!has(credentials, ['accessToken'])) throw new InvalidRequestError('Meta credentials need accessToken');
        return createMetaCampaignClient({
          graphUrl: endpoints.metaGraphUrl,
          apiVersion: endpoints.metaApiVersion,
          accountId,
          credentials,
          pageSize: options.metaPageSize ?? DEFAULT_META_PAGE_SIZE,
          defaultRetryAfterMs: options.defaultRetryAfterMs,
        });
      }
      if (!has(credentials, ['developerToken', 'clientId', 'clientSecret', 'refreshToken'])) {
        throw new InvalidRequestError(
          'Google Ads credentials need developerToken, clientId, clientSecret, refreshToken',
        );
      }
      return createGoogleAdsCampaignClient({
        apiUrl: endpoints.googleAdsUrl,
        apiVersion: endpoints.googleAdsApiVersion,
        tokenUrl: endpoints.googleOAuthTokenUrl,
        customerId: accountId,
        credentials: credentials as GoogleAdsCredentials,
        defaultRetryAfterMs: options.defaultRetryAfterMs,
      });
    },
    trafficClient(accountId: string, credentials: Ga4Credentials): TrafficClient {
      if (!has(credentials, ['clientId', 'clientSecret', 'refreshToken'])) {
        throw new InvalidRequestError('GA4 credentials need clientId, clientSecret, refreshToken');
      }
      return createGa4TrafficClient({
        apiUrl: endpoints.ga4Url,
        tokenUrl: endpoints.googleOAuthTokenUrl,
        propertyId: accountId,
        credentials,
        pageSize: options.ga4PageSize ?? DEFAULT_GA4_PAGE_SIZE,
        defaultRetryAfterMs: options.defaultRetryAfterMs,
      });
    },
  };
}
