import { describe, expect, test } from 'vitest';
import {
  addDays,
  campaignsOf,
  datesInRange,
  expectedCampaignDays,
  expectedTrafficDays,
  googleAdsDays,
  metaDays,
  RESTATEMENT_DAYS,
  SANDBOX_ACCOUNTS,
  SANDBOX_CREDENTIALS,
  type Revision,
} from './ad-world';
import { parseGaql } from './google-ads';
import { createSandboxApp } from './server';

const ASOF = new Date('2026-03-10T20:00:00Z'); // 12:00 in Los Angeles
const RANGE = { start: '2026-01-05', end: '2026-03-10' };

describe('synthetic ad world', () => {
  test('is deterministic: the same inputs give the same figures, other accounts give others', () => {
    for (const channel of ['meta', 'google_ads'] as const) {
      const [first, second] = SANDBOX_ACCOUNTS[channel];
      const a = expectedCampaignDays(channel, first, RANGE, ASOF);
      expect(a.length).toBeGreaterThan(100);
      expect(expectedCampaignDays(channel, first, RANGE, new Date(ASOF))).toEqual(a);
      const b = expectedCampaignDays(channel, second, RANGE, ASOF);
      expect(b.map((r) => r.impressions)).not.toEqual(a.map((r) => r.impressions).slice(0, b.length));
    }
    const traffic = expectedTrafficDays('310000001', RANGE, ASOF);
    expect(traffic.length).toBeGreaterThan(300);
    expect(expectedTrafficDays('310000001', RANGE, ASOF)).toEqual(traffic);
  });

  test('has weekly seasonality: weekends deliver clearly less than weekdays', () => {
    const range = { start: '2025-01-06', end: '2025-06-29' }; // 25 whole weeks, all final
    const byWeekday = new Map<number, number[]>();
    for (const row of expectedCampaignDays('meta', '1001001', range, ASOF)) {
      if (row.campaignId !== '23851000000000123') continue;
      const day = new Date(`${row.date}T00:00:00Z`).getUTCDay();
      byWeekday.set(day, [...(byWeekday.get(day) ?? []), row.impressions]);
    }
    const mean = (days: number[]) => {
      const values = days.flatMap((d) => byWeekday.get(d) ?? []);
      return values.reduce((s, v) => s + v, 0) / values.length;
    };
    expect(mean([0, 6])).toBeLessThan(0.8 * mean([1, 2, 3, 4, 5]));
    // ...and noise: weekday values are not all alike.
    expect(new Set(byWeekday.get(2)).size).toBeGreaterThan(20);
  });

  test('campaigns start, pause and stop; unmapped campaign names exist on both ad platforms', () => {
    const spring = expectedCampaignDays('meta', '1001001', { start: '2025-01-01', end: '2025-12-31' }, ASOF).filter(
      (r) => r.campaignId === '23851000000000124',
    );
    expect(new Set(spring.map((r) => r.date.slice(5, 7)))).toEqual(new Set(['03', '04', '05']));
    const retargeting = expectedCampaignDays('meta', '1001001', RANGE, ASOF).filter(
      (r) => r.campaignId === '23851000000000125',
    );
    expect(retargeting.length).toBeGreaterThan(0);
    expect(retargeting.length).toBeLessThan(datesInRange(RANGE).length);
    expect(campaignsOf('meta', '1001001').map((c) => c.name)).toContain('Agency Test Campaign');
    expect(campaignsOf('google_ads', '1234567890').map((c) => c.name)).toContain('Agency Test Campaign');
    expect(campaignsOf('google_ads', '1234567890').some((c) => c.name.includes('Harbor View Lofts'))).toBe(true);
    // Nothing is reported after the clock's date.
    const future = expectedCampaignDays('meta', '1001001', { start: '2026-03-10', end: '2026-03-20' }, ASOF);
    expect(new Set(future.map((r) => r.date))).toEqual(new Set(['2026-03-10']));
  });

  test('restatement: moving the clock changes only the recent days, and leads grow as attribution lands', () => {
    const later = new Date(ASOF.getTime() + 5 * 86_400_000);
    const cutoff = addDays('2026-03-10', -RESTATEMENT_DAYS); // final at ASOF: days <= cutoff
    for (const channel of ['meta', 'google_ads'] as const) {
      const account = SANDBOX_ACCOUNTS[channel][0];
      const before = expectedCampaignDays(channel, account, RANGE, ASOF);
      const after = expectedCampaignDays(channel, account, RANGE, later);
      const key = (r: { date: string; campaignId: string }) => `${r.date}|${r.campaignId}`;
      const afterByKey = new Map(after.map((r) => [key(r), r]));
      expect(after.length).toBe(before.length);
      for (const row of before) {
        const restated = afterByKey.get(key(row))!;
        if (row.date <= cutoff) expect(restated).toEqual(row);
        else expect(restated.conversions).toBeGreaterThanOrEqual(row.conversions);
      }
      const changed = before.filter((r) => JSON.stringify(afterByKey.get(key(r))) !== JSON.stringify(r));
      expect(changed.length).toBeGreaterThan(0);
      expect(changed.every((r) => r.date > cutoff)).toBe(true);
      const sum = (rows: typeof before) => rows.reduce((s, r) => s + r.conversions, 0);
      expect(sum(after.filter((r) => r.date > cutoff))).toBeGreaterThan(sum(before.filter((r) => r.date > cutoff)));
    }
  });

  test('an explicit revision multiplies exactly the chosen days', () => {
    const days = ['2026-02-02', '2026-02-03'];
    const revisions: Revision[] = [{ channel: 'google_ads', accountId: '1234567890', dates: days, factor: 1.5 }];
    const base = expectedCampaignDays('google_ads', '1234567890', RANGE, ASOF);
    const revised = expectedCampaignDays('google_ads', '1234567890', RANGE, ASOF, { revisions });
    expect(revised.filter((r) => !days.includes(r.date))).toEqual(base.filter((r) => !days.includes(r.date)));
    const total = (rows: typeof base) =>
      rows.filter((r) => days.includes(r.date)).reduce((s, r) => s + r.impressions, 0);
    expect(total(revised) / total(base)).toBeCloseTo(1.5, 2);
    // Another account is untouched.
    expect(expectedCampaignDays('google_ads', '2345678901', RANGE, ASOF, { revisions })).toEqual(
      expectedCampaignDays('google_ads', '2345678901', RANGE, ASOF),
    );
  });

  test('Meta actions mix lead with other action types, so a naive sum of actions is wrong', () => {
    const days = metaDays('1001001', RANGE, ASOF);
    const types = new Set(days.flatMap((d) => d.actions.map((a) => a.action_type)));
    expect(types).toContain('lead');
    expect(types).toContain('link_click');
    expect(types).toContain('offsite_conversion.fb_pixel_lead');
    const leads = days.reduce((s, d) => s + (d.actions.find((a) => a.action_type === 'lead')?.value ?? 0), 0);
    const naive = days.reduce((s, d) => s + d.actions.reduce((t, a) => t + a.value, 0), 0);
    expect(leads).toBeGreaterThan(0);
    expect(naive).toBeGreaterThan(leads * 5);
    expect(expectedCampaignDays('meta', '1001001', RANGE, ASOF).reduce((s, r) => s + r.conversions, 0)).toBe(leads);
  });

  test('Google cost_micros are not whole cents and conversions are fractional doubles', () => {
    const days = googleAdsDays('1234567890', RANGE, ASOF);
    expect(days.some((d) => d.costMicros % 10_000 !== 0)).toBe(true);
    expect(days.some((d) => !Number.isInteger(d.conversions))).toBe(true);
    const normalized = expectedCampaignDays('google_ads', '1234567890', RANGE, ASOF);
    for (const [i, d] of days.entries()) {
      expect(normalized[i]!.spend).toBe((Math.floor((d.costMicros + 5000) / 10_000) / 100).toFixed(2));
      expect(normalized[i]!.conversions).toBe(Math.round(d.conversions));
    }
  });
});

describe('ad platform emulators (HTTP shapes)', () => {
  const json = (body: unknown) => ({
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

  test('Meta: ad sets and ads split each campaign-day so they add up to it; numbers are strings', async () => {
    const app = createSandboxApp();
    await app.request('/_world/clock', json({ now: ASOF.toISOString() }));
    const get = async (level: string) => {
      const params = new URLSearchParams({
        access_token: SANDBOX_CREDENTIALS.meta.accessToken,
        level,
        fields: 'campaign_id,adset_id,ad_id,spend,impressions,clicks,actions',
        time_range: JSON.stringify({ since: '2026-02-01', until: '2026-02-07' }),
        time_increment: '1',
        limit: '1000',
      });
      const res = await app.request(`/meta/v24.0/act_1001001/insights?${params}`);
      expect(res.status).toBe(200);
      return ((await res.json()) as { data: Record<string, unknown>[] }).data;
    };
    const campaigns = await get('campaign');
    const adsets = await get('adset');
    const ads = await get('ad');
    expect(typeof campaigns[0]!.impressions).toBe('string');
    expect(new Set(ads.map((r) => r.ad_id)).size).toBe(2 * new Set(adsets.map((r) => r.adset_id)).size);
    const total = (rows: Record<string, unknown>[], f: string) =>
      rows.reduce((s, r) => s + Math.round(Number(r[f]) * (f === 'spend' ? 100 : 1)), 0);
    for (const f of ['impressions', 'clicks', 'spend']) {
      expect(total(adsets, f)).toBe(total(campaigns, f));
      expect(total(ads, f)).toBe(total(campaigns, f));
    }
    const leads = (rows: Record<string, unknown>[]) =>
      rows.reduce(
        (s, r) =>
          s +
          Number(
            (r.actions as { action_type: string; value: string }[] | undefined)?.find((a) => a.action_type === 'lead')
              ?.value ?? 0,
          ),
        0,
      );
    expect(leads(ads)).toBe(leads(campaigns));
  });

  test('Meta: bad token, unknown account and bad fields get Graph API errors', async () => {
    const app = createSandboxApp();
    const bad = await app.request('/meta/v24.0/act_1001001/insights?access_token=EAAbad&level=campaign');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: number; type: string } }).error).toMatchObject({
      code: 190,
      type: 'OAuthException',
    });
    const unknown = await app.request('/meta/v24.0/act_999/insights?access_token=sandbox-x');
    expect(((await unknown.json()) as { error: { code: number } }).error.code).toBe(100);
    const fields = await app.request('/meta/v24.0/act_1001001/insights?access_token=sandbox-x&fields=spend,cpm');
    expect(((await fields.json()) as { error: { message: string } }).error.message).toContain('fields[1]');
  });

  test('Google Ads: GAQL outside the supported subset is refused with Google query errors', async () => {
    expect(() => parseGaql('SELECT campaign.id, metrics.ctr FROM campaign')).toThrow(/metrics.ctr/);
    expect(() => parseGaql('SELECT ad_group.id FROM ad_group')).toThrow(/ad_group/);
    expect(() => parseGaql('SELECT campaign.id, segments.date FROM campaign')).toThrow(/finite date range/);
    const parsed = parseGaql(
      "SELECT campaign.id, segments.date, metrics.clicks FROM campaign WHERE segments.date BETWEEN '2026-01-01' AND '2026-01-31' AND campaign.status != 'REMOVED' ORDER BY segments.date DESC LIMIT 10",
    );
    expect(parsed.conditions).toHaveLength(2);
    expect(parsed.orderBy).toEqual([{ field: 'segments.date', desc: true }]);
    expect(parsed.limit).toBe(10);

    const app = createSandboxApp();
    const tokenRes = await app.request('/google-oauth/token', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: SANDBOX_CREDENTIALS.google_ads.refreshToken,
        client_id: 'c',
        client_secret: 's',
      }).toString(),
    });
    const { access_token } = (await tokenRes.json()) as { access_token: string };
    const res = await app.request('/google-ads/v21/customers/1234567890/googleAds:searchStream', {
      method: 'POST',
      headers: {
        authorization: `Bearer ${access_token}`,
        'developer-token': 'sandbox-dev',
        'content-type': 'application/json',
      },
      body: JSON.stringify({ query: 'SELECT campaign.id, metrics.ctr FROM campaign' }),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { status: string; details: { errors: { errorCode: unknown }[] }[] } };
    expect(body.error.status).toBe('INVALID_ARGUMENT');
    expect(body.error.details[0]!.errors[0]!.errorCode).toEqual({ queryError: 'UNRECOGNIZED_FIELD' });
  });

  test('world control: clock, revisions and the request log belong to one sandbox app', async () => {
    const one = createSandboxApp();
    const two = createSandboxApp();
    await one.request('/_world/clock', json({ now: '2026-01-01T00:00:00Z' }));
    const rev = await one.request(
      '/_world/revise',
      json({ channel: 'meta', accountId: '1001001', dates: ['2025-12-30'], factor: 2 }),
    );
    expect(rev.status).toBe(200);
    const viewOne = (await (await one.request('/_world')).json()) as { clock: string; revisions: unknown[] };
    const viewTwo = (await (await two.request('/_world')).json()) as { clock: string | null; revisions: unknown[] };
    expect(viewOne.clock).toBe('2026-01-01T00:00:00.000Z');
    expect(viewOne.revisions).toHaveLength(1);
    expect(viewTwo).toMatchObject({ clock: null, revisions: [] });
    expect(
      (await one.request('/_world/revise', json({ channel: 'meta', accountId: '42', dates: [], factor: 2 }))).status,
    ).toBe(400);
    await one.request(`/meta/v24.0/act_1001001/insights?access_token=${SANDBOX_CREDENTIALS.meta.accessToken}`);
    const log = (await (await one.request('/_world/requests?service=meta')).json()) as { requests: { path: string }[] };
    expect(log.requests).toHaveLength(1);
    expect(log.requests[0]!.path).not.toContain(SANDBOX_CREDENTIALS.meta.accessToken);
    expect(((await (await two.request('/_world/requests')).json()) as { requests: unknown[] }).requests).toHaveLength(
      0,
    );
  });
});
