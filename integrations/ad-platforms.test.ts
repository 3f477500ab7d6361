import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  expectedCampaignDays,
  expectedTrafficDays,
  googleAdsDays,
  SANDBOX_CREDENTIALS,
  type Revision,
} from '../sandbox/ad-world';
import { startSandbox, type RunningSandbox } from '../sandbox/server';
import { createAdPlatformClients, type AdPlatformClientOptions } from './ad-platform-clients';
import {
  InvalidCredentialsError,
  InvalidRequestError,
  ThrottledError,
  type AdPlatformClient,
  type AdPlatformEndpoints,
  type CampaignDayRow,
  type DateRange,
  type FetchedPage,
} from './ad-platforms';

const NOW = '2026-03-10T20:00:00.000Z';
const RANGE: DateRange = { start: '2026-02-01', end: '2026-03-10' };

let sandbox: RunningSandbox;
let other: RunningSandbox;

function endpointsOf(s: RunningSandbox): AdPlatformEndpoints {
  return {
    metaGraphUrl: `${s.url}/meta`,
    metaApiVersion: 'v24.0',
    googleAdsUrl: `${s.url}/google-ads`,
    googleAdsApiVersion: 'v21',
    ga4Url: `${s.url}/ga4`,
    googleOAuthTokenUrl: `${s.url}/google-oauth/token`,
  };
}

const clientsFor = (s: RunningSandbox, options: AdPlatformClientOptions = {}) =>
  createAdPlatformClients(endpointsOf(s), options);

async function post(s: RunningSandbox, path: string, body: unknown) {
  const res = await fetch(`${s.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(200);
  return res.json();
}

async function fetchAll<Row>(client: AdPlatformClient<Row>, range: DateRange) {
  const pages: FetchedPage<Row>[] = [];
  let cursor: string | null = null;
  do {
    const page: FetchedPage<Row> = await client.fetchPage(range, cursor);
    pages.push(page);
    cursor = page.nextCursor;
  } while (cursor !== null && pages.length < 100);
  return { pages, rows: pages.flatMap((p) => p.rows) };
}

function totals(rows: CampaignDayRow[]) {
  return {
    impressions: rows.reduce((s, r) => s + r.impressions, 0),
    clicks: rows.reduce((s, r) => s + r.clicks, 0),
    spendCents: rows.reduce((s, r) => s + Math.round(Number(r.spend) * 100), 0),
    conversions: rows.reduce((s, r) => s + r.conversions, 0),
  };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to fail');
}

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0 });
  other = await startSandbox({ port: 0 });
  await post(sandbox, '/_world/clock', { now: NOW });
  await post(other, '/_world/clock', { now: '2025-11-20T18:00:00Z' });
});

afterAll(async () => {
  await sandbox?.close();
  await other?.close();
});

describe('Meta Marketing API client (facebook-nodejs-business-sdk)', () => {
  test('pages through insights with the after cursor and returns exactly the world figures, leads = lead action only', async () => {
    const client = clientsFor(sandbox, { metaPageSize: 40 }).campaignClient(
      'meta',
      '1001001',
      SANDBOX_CREDENTIALS.meta,
    );
    expect(client.rawSource).toBe('meta_api_v24.0');
    const { pages, rows } = await fetchAll(client, RANGE);
    const expected = expectedCampaignDays('meta', '1001001', RANGE, new Date(NOW));
    expect(pages.length).toBeGreaterThanOrEqual(3);
    expect(pages.length).toBe(Math.ceil(expected.length / 40));
    expect(rows).toEqual(expected);
    expect(totals(rows)).toEqual(totals(expected));
    // The raw page is Meta's answer as sent (strings, all action types), and requests hold no token.
    const raw = pages[0]!.raw as {
      data: { actions?: { action_type: string }[]; spend: unknown }[];
      paging: { cursors: { after: string } };
    };
    expect(typeof raw.data[0]!.spend).toBe('string');
    expect(raw.data.some((r) => r.actions?.some((a) => a.action_type === 'link_click'))).toBe(true);
    expect(pages[1]!.request).toMatchObject({
      params: { after: raw.paging.cursors.after, level: 'campaign', time_increment: 1 },
    });
    for (const page of pages) expect(JSON.stringify(page.request)).not.toContain(SANDBOX_CREDENTIALS.meta.accessToken);
    expect(pages.at(-1)!.nextCursor).toBeNull();
  });

  test('bad token → InvalidCredentialsError; unknown account → InvalidRequestError', async () => {
    const clients = clientsFor(sandbox);
    const bad = clients.campaignClient('meta', '1001001', { accessToken: 'EAAB-not-valid' });
    expect(await rejection(bad.fetchPage(RANGE, null))).toBeInstanceOf(InvalidCredentialsError);
    const unknown = clients.campaignClient('meta', '5550001', SANDBOX_CREDENTIALS.meta);
    expect(await rejection(unknown.fetchPage(RANGE, null))).toBeInstanceOf(InvalidRequestError);
  });

  test('throttling (codes 80004 and 17) → ThrottledError with the reset time from the usage header, then success', async () => {
    const client = clientsFor(sandbox).campaignClient('meta', '1001002', SANDBOX_CREDENTIALS.meta);
    await post(sandbox, '/meta/_control', { throttleNext: 1, code: 80004, retryMinutes: 3 });
    const first = await rejection(client.fetchPage(RANGE, null));
    expect(first).toBeInstanceOf(ThrottledError);
    expect((first as ThrottledError).retryAfterMs).toBe(180_000);
    await post(sandbox, '/meta/_control', { throttleNext: 1, code: 17, retryMinutes: 0 });
    const second = await rejection(client.fetchPage(RANGE, null));
    expect(second).toBeInstanceOf(ThrottledError);
    expect((second as ThrottledError).retryAfterMs).toBe(60_000); // no reset time given: the default
    await post(sandbox, '/meta/_control', { throttleNext: 1, code: 17, retryMinutes: 0 });
    const quick = clientsFor(sandbox, { defaultRetryAfterMs: 250 }).campaignClient(
      'meta',
      '1001002',
      SANDBOX_CREDENTIALS.meta,
    );
    expect(((await rejection(quick.fetchPage(RANGE, null))) as ThrottledError).retryAfterMs).toBe(250);
    const page = await client.fetchPage(RANGE, null);
    expect(page.rows.length).toBeGreaterThan(0);
  });

  test('throttling after N answers, with the ad-account reset time in seconds (x-ad-account-usage)', async () => {
    const client = clientsFor(sandbox, { metaPageSize: 40 }).campaignClient(
      'meta',
      '1001001',
      SANDBOX_CREDENTIALS.meta,
    );
    await post(sandbox, '/meta/_control', { throttleAfter: 1, throttleNext: 1, code: 80004, retrySeconds: 2 });
    const first = await client.fetchPage(RANGE, null);
    expect(first.nextCursor).toEqual(expect.any(String));
    const err = await rejection(client.fetchPage(RANGE, first.nextCursor));
    expect(err).toBeInstanceOf(ThrottledError);
    expect((err as ThrottledError).message).toContain('code 80004');
    expect((err as ThrottledError).retryAfterMs).toBe(2_000);
    // The same page again, as the caller retries it: exactly the world's rows after the first page.
    const second = await client.fetchPage(RANGE, first.nextCursor);
    expect(second.rows).toEqual(expectedCampaignDays('meta', '1001001', RANGE, new Date(NOW)).slice(40, 80));
  });

  test('two clients with different tokens and hosts used concurrently do not mix', async () => {
    const a = clientsFor(sandbox, { metaPageSize: 10 }).campaignClient('meta', '1001001', SANDBOX_CREDENTIALS.meta);
    const b = clientsFor(other, { metaPageSize: 7 }).campaignClient('meta', '1001002', {
      accessToken: 'sandbox-second-token',
    });
    const invalid = clientsFor(sandbox, { metaPageSize: 10 }).campaignClient('meta', '1001002', {
      accessToken: 'revoked',
    });
    const otherRange = { start: '2025-10-20', end: '2025-11-20' };
    const [ra, rb, ri] = await Promise.allSettled([
      fetchAll(a, RANGE),
      fetchAll(b, otherRange),
      fetchAll(invalid, RANGE),
    ]);
    expect(ra.status === 'fulfilled' && ra.value.rows).toEqual(
      expectedCampaignDays('meta', '1001001', RANGE, new Date(NOW)),
    );
    expect(rb.status === 'fulfilled' && rb.value.rows).toEqual(
      expectedCampaignDays('meta', '1001002', otherRange, new Date('2025-11-20T18:00:00Z')),
    );
    expect(ri.status === 'rejected' && ri.reason).toBeInstanceOf(InvalidCredentialsError);
  });
});

describe('Google Ads API client (REST searchStream + google-auth-library)', () => {
  test('reads several stream batches as one page; cost_micros rounded half up to cents, conversions rounded', async () => {
    await post(sandbox, '/google-ads/_control', { batchSize: 25 });
    try {
      const client = clientsFor(sandbox).campaignClient('google_ads', '1234567890', SANDBOX_CREDENTIALS.google_ads);
      expect(client.rawSource).toBe('google_ads_api_v21');
      const page = await client.fetchPage(RANGE, null);
      expect(page.nextCursor).toBeNull();
      const expected = expectedCampaignDays('google_ads', '1234567890', RANGE, new Date(NOW));
      expect((page.raw as unknown[]).length).toBe(Math.ceil(expected.length / 25));
      expect((page.raw as unknown[]).length).toBeGreaterThanOrEqual(3);
      expect(page.rows).toEqual(expected);
      expect(totals(page.rows)).toEqual(totals(expected));
      // Rounding mattered: the micros are not whole cents, and per-row rounding differs from truncation.
      const micros = googleAdsDays('1234567890', RANGE, new Date(NOW));
      const truncated = micros.reduce((s, d) => s + Math.floor(d.costMicros / 10_000), 0);
      expect(totals(page.rows).spendCents).not.toBe(truncated);
      expect(micros.some((d) => !Number.isInteger(d.conversions))).toBe(true);
      expect(JSON.stringify(page.request)).not.toContain(SANDBOX_CREDENTIALS.google_ads.refreshToken);
      expect(JSON.stringify(page.request)).not.toContain(SANDBOX_CREDENTIALS.google_ads.developerToken);
    } finally {
      await post(sandbox, '/google-ads/_control', { batchSize: 10_000 });
    }
  });

  test('an explicit revision restates exactly the revised days', async () => {
    const revision: Revision = { channel: 'google_ads', accountId: '2345678901', dates: ['2026-02-10'], factor: 1.4 };
    const client = clientsFor(sandbox).campaignClient('google_ads', '2345678901', SANDBOX_CREDENTIALS.google_ads);
    const before = (await client.fetchPage(RANGE, null)).rows;
    await post(sandbox, '/_world/revise', revision);
    const after = (await client.fetchPage(RANGE, null)).rows;
    expect(after).toEqual(
      expectedCampaignDays('google_ads', '2345678901', RANGE, new Date(NOW), { revisions: [revision] }),
    );
    expect(after.filter((r) => r.date !== '2026-02-10')).toEqual(before.filter((r) => r.date !== '2026-02-10'));
    expect(after.filter((r) => r.date === '2026-02-10')).not.toEqual(before.filter((r) => r.date === '2026-02-10'));
  });

  test('revoked refresh token and bad developer token → InvalidCredentialsError; unknown customer → InvalidRequestError', async () => {
    const clients = clientsFor(sandbox);
    const creds = SANDBOX_CREDENTIALS.google_ads;
    const revoked = clients.campaignClient('google_ads', '1234567890', { ...creds, refreshToken: '1//revoked' });
    expect(await rejection(revoked.fetchPage(RANGE, null))).toBeInstanceOf(InvalidCredentialsError);
    const badDev = clients.campaignClient('google_ads', '1234567890', { ...creds, developerToken: 'not-approved' });
    const err = await rejection(badDev.fetchPage(RANGE, null));
    expect(err).toBeInstanceOf(InvalidCredentialsError);
    expect((err as Error).message).toContain('DEVELOPER_TOKEN_INVALID');
    const unknown = clients.campaignClient('google_ads', '9999999999', creds);
    expect(await rejection(unknown.fetchPage(RANGE, null))).toBeInstanceOf(InvalidRequestError);
  });

  test('quota errors → ThrottledError with the retry delay Google sends, then success', async () => {
    const client = clientsFor(sandbox).campaignClient('google_ads', '1234567890', SANDBOX_CREDENTIALS.google_ads);
    await post(sandbox, '/google-ads/_control', { quotaErrorsNext: 1, retrySeconds: 7 });
    const err = await rejection(client.fetchPage(RANGE, null));
    expect(err).toBeInstanceOf(ThrottledError);
    expect((err as ThrottledError).retryAfterMs).toBe(7_000);
    expect((await client.fetchPage(RANGE, null)).rows.length).toBeGreaterThan(0);
  });
});

describe('GA4 Data API client (googleapis analyticsdata v1beta)', () => {
  test('pages with limit/offset until rowCount and returns exactly the world figures with ISO dates', async () => {
    const client = clientsFor(sandbox, { ga4PageSize: 60 }).trafficClient('310000002', SANDBOX_CREDENTIALS.ga4);
    expect(client.rawSource).toBe('ga4_data_api_v1beta');
    const { pages, rows } = await fetchAll(client, RANGE);
    const expected = expectedTrafficDays('310000002', RANGE, new Date(NOW));
    expect(pages.length).toBe(Math.ceil(expected.length / 60));
    expect(pages.length).toBeGreaterThanOrEqual(3);
    expect(pages.map((p) => p.nextCursor)).toEqual([...pages.slice(1).map((_, i) => String((i + 1) * 60)), null]);
    expect(rows).toEqual(expected);
    const raw = pages[0]!.raw as { rowCount: number; rows: { dimensionValues: { value: string }[] }[] };
    expect(raw.rowCount).toBe(expected.length);
    expect(raw.rows[0]!.dimensionValues[0]!.value).toMatch(/^\d{8}$/);
    expect(JSON.stringify(pages[0]!.request)).not.toContain(SANDBOX_CREDENTIALS.ga4.refreshToken);
  });

  test('revoked grant → InvalidCredentialsError; unknown property → InvalidRequestError; quota → ThrottledError', async () => {
    const clients = clientsFor(sandbox);
    const revoked = clients.trafficClient('310000001', { ...SANDBOX_CREDENTIALS.ga4, refreshToken: 'revoked' });
    expect(await rejection(revoked.fetchPage(RANGE, null))).toBeInstanceOf(InvalidCredentialsError);
    const unknown = clients.trafficClient('399999999', SANDBOX_CREDENTIALS.ga4);
    expect(await rejection(unknown.fetchPage(RANGE, null))).toBeInstanceOf(InvalidRequestError);
    const client = clients.trafficClient('310000001', SANDBOX_CREDENTIALS.ga4);
    await post(sandbox, '/ga4/_control', { quotaErrorsNext: 1 });
    const err = await rejection(client.fetchPage(RANGE, null));
    expect(err).toBeInstanceOf(ThrottledError);
    expect((err as ThrottledError).retryAfterMs).toBeGreaterThan(0);
    expect((await client.fetchPage(RANGE, null)).rows.length).toBeGreaterThan(0);
  });
});
