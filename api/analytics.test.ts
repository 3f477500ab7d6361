/**
 * MultiChannel BI over the real API: exact numbers for day/week/month buckets at month and year edges (also with
 * a non-UTC session TimeZone), weighted CPA, property scoping, validation, the offline question parser end to
 * end, and the language-model path with a fake SQL writer returning adversarial SQL.
 */
import { and, eq, sql } from 'drizzle-orm';
import type { Hono } from 'hono';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createApp } from './app';
import type { AppEnv } from './context';
import { runGuardedSelect, type SqlWriter, type SqlWriterContext } from './analytics/llm-sql';
import { auditLog, properties } from '../db/schema';
import { withTenant } from '../db/tenancy';
import { createTestApp, keyHeaders, sessionHeaders, type TestApp } from '../test/app-fixture';

let t: TestApp;
let reserveId: string;
let harborId: string;
let viewerCookie: string;
let confinedCookie: string;

// Wednesday 2026-01-07 12:00 in Chicago: "last week" is the ISO week 2025-12-29..2026-01-04 across the year edge.
const NOW = new Date('2026-01-07T18:00:00Z');

type Fact = [
  channel: string,
  date: string,
  property: 'reserve' | 'harbor' | 'a' | null,
  spend: string,
  impressions: number,
  clicks: number,
  conversions: number,
];

// Org A's facts. Comments: ISO week start / month.
const FACTS_A: Fact[] = [
  ['meta', '2025-12-28', 'reserve', '50.00', 1000, 10, 2], //        week 2025-12-22, Dec
  ['meta', '2025-12-29', 'reserve', '100.00', 2000, 40, 1], //       week 2025-12-29, Dec
  ['google_ads', '2025-12-31', 'reserve', '10.10', 500, 5, 10], //   week 2025-12-29, Dec
  ['meta', '2026-01-01', 'harbor', '20.20', 800, 8, 0], //           week 2025-12-29, Jan
  ['google_ads', '2026-01-04', 'reserve', '0.30', 100, 1, 0], //     week 2025-12-29, Jan
  ['google_ads', '2026-01-05', 'reserve', '5.55', 300, 3, 1], //     week 2026-01-05, Jan
  ['meta', '2026-01-31', null, '7.77', 70, 7, 7], //                 week 2026-01-26, Jan (unmapped campaign)
  ['meta', '2026-02-01', 'reserve', '1.11', 10, 1, 1], //            week 2026-01-26, Feb
];

async function insertFacts(orgId: string, facts: Fact[], ids: Record<string, string>) {
  let n = 0;
  for (const [channel, date, property, spend, impressions, clicks, conversions] of facts) {
    await t.deps.db.execute(sql`insert into fact_marketing_performance
      (org_id, date, channel_id, account_id, campaign_id, property_id, campaign_name, impressions, clicks, spend, conversions, raw_source)
      values (${orgId}, ${date}, ${channel}, 'acct-1', ${`c-${++n}`}, ${property ? ids[property]! : null}, ${`Campaign ${n}`},
              ${impressions}, ${clicks}, ${spend}, ${conversions}, 'test')`);
  }
}

function post(path: string, body: unknown, headers: Record<string, string>, app: Hono<AppEnv> = t.app) {
  return app.request(`/v1/analytics${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
}

const adminKey = () => keyHeaders(t.orgA.apiKey.key);

async function query(body: Record<string, unknown>, headers = adminKey()) {
  const res = await post('/query', { propertyIds: [], ...body }, headers);
  const json = await res.json();
  if (res.status !== 200) throw new Error(`${res.status} ${JSON.stringify(json)}`);
  return json as { data: Record<string, unknown>[]; totals: Record<string, unknown>; [k: string]: unknown };
}

beforeAll(async () => {
  t = await createTestApp();
  const [reserve] = await t.deps.db
    .insert(properties)
    .values({ orgId: t.orgA.id, name: 'The Reserve at Sandpoint', timezone: 'America/Chicago' })
    .returning();
  const [harbor] = await t.deps.db
    .insert(properties)
    .values({ orgId: t.orgA.id, name: 'Harbor Lofts', timezone: 'America/Los_Angeles' })
    .returning();
  reserveId = reserve!.id;
  harborId = harbor!.id;
  await insertFacts(t.orgA.id, FACTS_A, { reserve: reserveId, harbor: harborId, a: t.orgA.propertyId });
  // The neighbour's facts, big enough that any leak shows in every total.
  await insertFacts(
    t.orgB.id,
    [
      ['meta', '2025-12-30', 'a', '9999.99', 99999, 9999, 999],
      ['google_ads', '2026-01-02', null, '5000.00', 50000, 5000, 500],
    ],
    { a: t.orgB.propertyId },
  );
  viewerCookie = await t.signIn(t.orgA.users.viewer.email, t.orgA.users.viewer.password);
  confinedCookie = await t.signIn(t.orgA.users.manager.email, t.orgA.users.manager.password);
  const switched = await t.app.request('/v1/me/property', {
    method: 'PUT',
    headers: sessionHeaders(confinedCookie),
    body: JSON.stringify({ propertyId: harborId }),
  });
  expect(switched.status).toBe(200);
});

afterAll(async () => {
  await t?.close();
});

const ALL = ['spend', 'leads', 'cpa', 'impressions', 'clicks', 'ctr', 'cpc'];

describe('POST /v1/analytics/query', () => {
  test('the ISO week across the year edge, with weighted CPA (not the average of daily CPAs)', async () => {
    const r = await query({ dateRange: { start: '2025-12-29', end: '2026-01-04' }, interval: 'week', metrics: ALL });
    const week = { spend: 130.6, leads: 11, cpa: 11.87, impressions: 3400, clicks: 54, ctr: 0.0159, cpc: 2.42 };
    expect(r.data).toEqual([{ date: '2025-12-29', ...week }]);
    expect(r.totals).toEqual(week);
    // The naive average of the days' CPAs (100.00 on the 29th, 1.01 on the 31st) would be 50.51.
    const daily = await query({
      dateRange: { start: '2025-12-29', end: '2026-01-04' },
      interval: 'day',
      metrics: ['cpa'],
    });
    expect(daily.data.map((d) => d.cpa)).toEqual([100, null, 1.01, null, null, null, null]);
    expect(daily.totals.cpa).toBe(11.87);
    expect(r).toMatchObject({ interval: 'week', dateRange: { start: '2025-12-29', end: '2026-01-04' } });
  });

  test('monthly buckets across the year edge count only days inside the range', async () => {
    const r = await query({ dateRange: { start: '2025-12-15', end: '2026-01-20' }, interval: 'month', metrics: ALL });
    expect(r.data).toEqual([
      {
        date: '2025-12-01',
        spend: 160.1,
        leads: 13,
        cpa: 12.32,
        impressions: 3500,
        clicks: 55,
        ctr: 0.0157,
        cpc: 2.91,
      },
      { date: '2026-01-01', spend: 26.05, leads: 1, cpa: 26.05, impressions: 1200, clicks: 12, ctr: 0.01, cpc: 2.17 },
    ]);
    expect(r.totals).toEqual({
      spend: 186.15,
      leads: 14,
      cpa: 13.3,
      impressions: 4700,
      clicks: 67,
      ctr: 0.0143,
      cpc: 2.78,
    });
  });

  test('a range starting mid-week: the bucket is dated by its Monday but counts only days in range', async () => {
    const r = await query({
      dateRange: { start: '2025-12-31', end: '2026-01-06' },
      interval: 'week',
      metrics: ['spend', 'leads'],
    });
    expect(r.data).toEqual([
      { date: '2025-12-29', spend: 30.6, leads: 10 },
      { date: '2026-01-05', spend: 5.55, leads: 1 },
    ]);
  });

  test('daily buckets are zero-filled; cpa is null on zero leads; totals are the sum of buckets', async () => {
    const r = await query({
      dateRange: { start: '2025-12-31', end: '2026-01-02' },
      interval: 'day',
      metrics: ['spend', 'leads', 'cpa'],
    });
    expect(r.data).toEqual([
      { date: '2025-12-31', spend: 10.1, leads: 10, cpa: 1.01 },
      { date: '2026-01-01', spend: 20.2, leads: 0, cpa: null },
      { date: '2026-01-02', spend: 0, leads: 0, cpa: null },
    ]);
    expect(r.totals).toEqual({ spend: 30.3, leads: 10, cpa: 3.03 });
    const wide = await query({
      dateRange: { start: '2025-12-01', end: '2026-02-28' },
      interval: 'day',
      metrics: ['spend', 'leads'],
    });
    const sum = (k: string) => Math.round(wide.data.reduce((s, d) => s + (d[k] as number), 0) * 100) / 100;
    expect(wide.data).toHaveLength(90);
    expect(sum('spend')).toBe(wide.totals.spend);
    expect(sum('leads')).toBe(wide.totals.leads);
    expect(wide.totals).toEqual({ spend: 195.03, leads: 22 });
  });

  test('the session TimeZone does not move any bucket', async () => {
    const body = { dateRange: { start: '2025-12-15', end: '2026-01-20' }, metrics: ['spend'] };
    const expected = await Promise.all(
      (['day', 'week', 'month'] as const).map((interval) => query({ ...body, interval })),
    );
    for (const zone of ['Pacific/Kiritimati', 'America/Adak']) {
      // PGlite is one session: a session-level SET reaches the API's transactions.
      await t.deps.db.execute(sql.raw(`set timezone to '${zone}'`));
      try {
        for (const [i, interval] of (['day', 'week', 'month'] as const).entries()) {
          expect(await query({ ...body, interval })).toEqual(expected[i]);
        }
      } finally {
        await t.deps.db.execute(sql`set timezone to 'UTC'`);
      }
    }
    expect(expected[1]!.data.map((d) => d.date)).toEqual([
      '2025-12-15',
      '2025-12-22',
      '2025-12-29',
      '2026-01-05',
      '2026-01-12',
      '2026-01-19',
    ]);
  });

  test('groupBy channel: rows per bucket and channel, totals per channel, channel filter', async () => {
    const r = await query({
      dateRange: { start: '2025-12-29', end: '2026-01-04' },
      interval: 'week',
      metrics: ['spend', 'leads', 'cpa'],
      groupBy: 'channel',
    });
    expect(r.data).toEqual([
      { date: '2025-12-29', channel: 'google_ads', spend: 10.4, leads: 10, cpa: 1.04 },
      { date: '2025-12-29', channel: 'meta', spend: 120.2, leads: 1, cpa: 120.2 },
    ]);
    expect(r.channels).toEqual(['google_ads', 'meta']);
    expect(r.totalsByChannel).toEqual({
      google_ads: { spend: 10.4, leads: 10, cpa: 1.04 },
      meta: { spend: 120.2, leads: 1, cpa: 120.2 },
    });
    expect(r.totals).toEqual({ spend: 130.6, leads: 11, cpa: 11.87 });
    const meta = await query({
      dateRange: { start: '2025-12-29', end: '2026-01-04' },
      interval: 'week',
      metrics: ['spend'],
      groupBy: 'channel',
      channels: ['meta'],
    });
    expect(meta.data).toEqual([{ date: '2025-12-29', channel: 'meta', spend: 120.2 }]);
    expect(meta.totals).toEqual({ spend: 120.2 });
  });

  test('unmapped campaigns count only when every property is asked for', async () => {
    const range = {
      dateRange: { start: '2026-01-26', end: '2026-02-01' },
      interval: 'week',
      metrics: ['spend', 'leads'],
    };
    expect((await query(range)).totals).toEqual({ spend: 8.88, leads: 8 });
    const reserve = await query({ ...range, propertyIds: [reserveId] });
    expect(reserve.data).toEqual([{ date: '2026-01-26', spend: 1.11, leads: 1 }]);
    expect(reserve.totals).toEqual({ spend: 1.11, leads: 1 });
    const both = await query({ ...range, propertyIds: [reserveId, harborId] });
    expect(both.totals).toEqual({ spend: 1.11, leads: 1 });
  });

  test("another organization's property is not found; a property-confined session may read only its property", async () => {
    const body = { dateRange: { start: '2025-12-29', end: '2026-01-04' }, interval: 'week', metrics: ['spend'] };
    const foreign = await post('/query', { ...body, propertyIds: [t.orgB.propertyId] }, adminKey());
    expect(foreign.status).toBe(404);
    expect(await foreign.json()).toMatchObject({ error: { code: 'not_found' } });
    const mixed = await post('/query', { ...body, propertyIds: [reserveId, t.orgB.propertyId] }, adminKey());
    expect(mixed.status).toBe(404);

    const other = await post('/query', { ...body, propertyIds: [reserveId] }, sessionHeaders(confinedCookie));
    expect(other.status).toBe(403);
    expect((await other.json()).error.message).toMatch(/switched to property .* may not read property/);
    const own = await query({ ...body }, sessionHeaders(confinedCookie));
    expect(own.totals).toEqual({ spend: 20.2 }); // Harbor only: no other property, no unmapped campaigns
    expect((await query({ ...body, propertyIds: [harborId] }, sessionHeaders(confinedCookie))).totals).toEqual({
      spend: 20.2,
    });
  });

  test('a viewer may query; an API key without analytics:read may not', async () => {
    const body = { dateRange: { start: '2025-12-29', end: '2026-01-04' }, interval: 'week', metrics: ['spend'] };
    expect((await query(body, sessionHeaders(viewerCookie))).totals).toEqual({ spend: 130.6 });
    const created = await t.app.request('/v1/api-keys', {
      method: 'POST',
      headers: sessionHeaders(await t.signIn(t.orgA.users.admin.email, t.orgA.users.admin.password)),
      body: JSON.stringify({ name: 'no analytics', scopes: ['org:read'] }),
    });
    expect(created.status).toBe(201);
    const { key } = (await created.json()) as { key: string };
    const res = await post('/query', { ...body, propertyIds: [] }, keyHeaders(key));
    expect(res.status).toBe(403);
    expect((await res.json()).error.message).toMatch(/analytics:read/);
    expect((await post('/ask', { question: 'spend last week' }, keyHeaders(key))).status).toBe(403);
  });

  test.each([
    [{ dateRange: { start: '2026-02-30', end: '2026-03-01' } }, /dateRange.start: must be a calendar date/],
    [{ dateRange: { start: '2026-1-01', end: '2026-03-01' } }, /dateRange.start/],
    [{ dateRange: { start: '2026-03-02', end: '2026-03-01' } }, /start must be on or before end/],
    [{ dateRange: { start: '2023-01-01', end: '2026-01-01' } }, /at most 3 years/],
    [{ metrics: [] }, /metrics: name at least one metric/],
    [{ metrics: ['spend', 'spend'] }, /must not repeat a metric/],
    [{ metrics: ['roas'] }, /metrics\.0/],
    [{ interval: 'hour' }, /interval/],
    [{ propertyIds: ['not-a-uuid'] }, /propertyIds\.0/],
    [{ groupBy: 'property' }, /groupBy/],
    [{ channels: [] }, /channels/],
    [{ colour: 'blue' }, /colour|Unrecognized/i],
  ])('400 for %j', async (patch, message) => {
    const body = {
      propertyIds: [],
      dateRange: { start: '2026-01-01', end: '2026-01-31' },
      interval: 'day',
      metrics: ['spend'],
      ...patch,
    };
    const res = await post('/query', body, adminKey());
    expect(res.status).toBe(400);
    const json = (await res.json()) as { error: { code: string; message: string } };
    expect(json.error.code).toBe('invalid_request');
    expect(json.error.message).toMatch(message);
  });

  test('exactly three years is allowed', async () => {
    const r = await query({
      dateRange: { start: '2023-01-02', end: '2026-01-01' },
      interval: 'month',
      metrics: ['spend'],
    });
    expect(r.data).toHaveLength(37);
    expect(r.totals).toEqual({ spend: 180.3 }); // the facts up to 2026-01-01
  });
});

type Answer = {
  status: string;
  engine: string;
  message: string;
  interpretation: string | null;
  unrecognized: string[];
  sql: string | null;
  rows: Record<string, unknown>[];
  chart: unknown;
};

async function ask(app: Hono<AppEnv>, question: string, headers = adminKey()): Promise<Answer> {
  const res = await post('/ask', { question }, headers, app);
  const json = await res.json();
  if (res.status !== 200) throw new Error(`${res.status} ${JSON.stringify(json)}`);
  return json as Answer;
}

async function askAudits(question: string) {
  return t.deps.db
    .select({ details: auditLog.details, actorLabel: auditLog.actorLabel })
    .from(auditLog)
    .where(
      and(
        eq(auditLog.orgId, t.orgA.id),
        eq(auditLog.action, 'analytics.ask'),
        sql`${auditLog.details}->>'question' = ${question}`,
      ),
    );
}

describe('POST /v1/analytics/ask, offline parser', () => {
  let rules: Hono<AppEnv>;
  beforeAll(() => {
    rules = createApp({ ...t.deps, now: () => NOW, sqlWriter: null });
  });

  test("the seed's question is answered through the query function, by channel", async () => {
    const q = 'Show me the cost per lead for The Reserve last week compared to Google Ads';
    const a = await ask(rules, q);
    expect(a.status).toBe('answered');
    expect(a.engine).toBe('rules');
    expect(a.interpretation).toBe(
      'Cost per lead for The Reserve at Sandpoint, by channel (comparing Google Ads with the other channels), ' +
        'last week (2025-12-29 to 2026-01-04, dates in America/Chicago), daily.',
    );
    expect(a.unrecognized).toEqual([]);
    expect(a.chart).toEqual({ type: 'line', x: 'date', y: ['cpa'], series: 'channel' });
    expect(a.rows).toHaveLength(14);
    expect(a.rows.filter((r) => r.cpa !== null)).toEqual([
      { date: '2025-12-29', channel: 'meta', cpa: 100 },
      { date: '2025-12-31', channel: 'google_ads', cpa: 1.01 },
    ]);
    expect(a.message).toBe(
      'Total: cost per lead $10.04. Google Ads: cost per lead $1.04; Meta: cost per lead $100.00.',
    );
    expect(a.sql).toMatch(/from fact_marketing_performance f/);
    const [audit] = await askAudits(q);
    expect(audit?.details).toMatchObject({ question: q, engine: 'rules', status: 'answered' });
    expect(audit?.details.sql).toMatch(/fact_marketing_performance/);
  });

  test('no data, not understood and not permitted are distinct answers', async () => {
    const none = await ask(rules, 'leads for Harbor Lofts in March 2025');
    expect(none.status).toBe('no_data');
    expect(none.message).toMatch(/No marketing data for Harbor Lofts March 2025 \(2025-03-01 to 2025-03-31\)/);
    expect(none.rows).toEqual([]);

    const vague = await ask(rules, 'how is the moon base doing for the reserve last week');
    expect(vague.status).toBe('not_understood');
    expect(vague.unrecognized).toEqual(['moon base doing']);
    expect(vague.message).toMatch(/could not find a metric/);
    expect(vague.message).toMatch(
      /I understood property The Reserve at Sandpoint, dates last week \(2025-12-29 to 2026-01-04\)/,
    );
    expect(vague.message).toMatch(/could not use: "moon base doing"/);

    const confined = createApp({ ...t.deps, now: () => NOW, sqlWriter: null });
    const refused = await ask(confined, 'spend for the reserve last week', sessionHeaders(confinedCookie));
    expect(refused.status).toBe('not_permitted');
    expect(refused.rows).toEqual([]);
    const own = await ask(confined, 'spend last week', sessionHeaders(confinedCookie));
    expect(own.status).toBe('answered');
    expect(own.message).toBe('Total: spend $20.20.');

    const audits = await askAudits('spend for the reserve last week');
    expect(audits[0]?.details).toMatchObject({ status: 'not_permitted', engine: 'rules' });
  });

  test('a viewer can ask; channels, intervals and months across the year edge', async () => {
    const a = await ask(
      rules,
      'monthly spend on Google Ads from 2025-12-15 to 2026-01-20',
      sessionHeaders(viewerCookie),
    );
    expect(a.status).toBe('answered');
    expect(a.rows).toEqual([
      { date: '2025-12-01', spend: 10.1 },
      { date: '2026-01-01', spend: 5.85 },
    ]);
    expect(a.chart).toEqual({ type: 'line', x: 'date', y: ['spend'] });
  });
});

describe('POST /v1/analytics/ask, language model', () => {
  let llm: Hono<AppEnv>;
  const seen: SqlWriterContext[] = [];
  // The fake model "writes" the question itself as its SQL, so each test states exactly what the model returns.
  const echo: SqlWriter = {
    name: 'fake:echo',
    async writeSql(question, context) {
      seen.push(context);
      if (question === 'model offline') throw new Error('connection refused');
      return question;
    },
  };
  beforeAll(() => {
    llm = createApp({ ...t.deps, now: () => NOW, sqlWriter: echo });
  });

  test("a valid SELECT is answered under the caller's RLS", async () => {
    const a = await ask(llm, 'select sum(spend) as spend from fact_marketing_daily');
    expect(a).toMatchObject({ status: 'answered', engine: 'llm', rows: [{ spend: 195.03 }] });
    expect(a.sql).toMatch(/select sum\(spend\) as spend from fact_marketing_daily\n\) as answer limit 1001$/);
    expect(seen.at(-1)).toMatchObject({ today: '2026-01-07', timezone: 'America/Chicago' });
    expect(
      seen
        .at(-1)!
        .properties.map((p) => p.name)
        .sort(),
    ).toEqual(['Harbor Lofts', 'Property A', 'The Reserve at Sandpoint']);

    const names = await ask(llm, 'select name from properties order by name');
    expect(names.rows).toEqual([
      { name: 'Harbor Lofts' },
      { name: 'Property A' },
      { name: 'The Reserve at Sandpoint' },
    ]);
    expect(names.chart).toBeNull();

    const series = await ask(
      llm,
      "select date, channel, sum(spend) as spend from fact_marketing_daily where date between '2025-12-29' and '2025-12-31' group by 1, 2 order by 1, 2",
    );
    expect(series.rows).toEqual([
      { date: '2025-12-29', channel: 'meta', spend: 100 },
      { date: '2025-12-31', channel: 'google_ads', spend: 10.1 },
    ]);
    expect(series.chart).toEqual({ type: 'line', x: 'date', y: ['spend'], series: 'channel' });
  });

  test('a property-confined session sees only its property through the model too', async () => {
    const a = await ask(llm, 'select sum(spend) as spend from fact_marketing_daily', sessionHeaders(confinedCookie));
    expect(a.rows).toEqual([{ spend: 20.2 }]);
    const props = await ask(llm, 'select name from properties', sessionHeaders(confinedCookie));
    expect(props.rows).toEqual([{ name: 'Harbor Lofts' }]);
  });

  const ATTACKS = [
    'select 1; drop table users',
    'select sum(spend) from fact_marketing_daily; delete from fact_marketing_performance',
    'select email, password_hash from users',
    'select * from api_keys',
    'select usename, passwd from pg_catalog.pg_user',
    'select table_name from information_schema.tables',
    'select * from public.fact_marketing_performance',
    'select pg_sleep(10)',
    "insert into properties (org_id, name) values ('00000000-0000-0000-0000-000000000000', 'x')",
    'update fact_marketing_performance set spend = 0',
    'delete from fact_marketing_performance',
    'with x as (delete from fact_marketing_performance returning 1) select count(*) from x',
    'select * into stolen from fact_marketing_daily',
    "select set_config('app.org_id', '00000000-0000-0000-0000-000000000000', true)",
    'select address, contact_email from properties',
    'select p from properties p',
  ];

  test.each(ATTACKS)('refused as not_permitted: %s', async (attack) => {
    const before = await t.deps.db.execute(
      sql`select count(*)::int as n, coalesce(sum(spend), 0)::text as s from fact_marketing_performance`,
    );
    const a = await ask(llm, attack);
    expect(a.status).toBe('not_permitted');
    expect(a.engine).toBe('llm');
    expect(a.message).toMatch(/^The query the model wrote was refused: /);
    expect(a.rows).toEqual([]);
    expect(a.sql).toBeNull();
    const after = await t.deps.db.execute(
      sql`select count(*)::int as n, coalesce(sum(spend), 0)::text as s from fact_marketing_performance`,
    );
    expect(after).toEqual(before);
    const [audit] = await askAudits(attack);
    expect(audit?.details).toMatchObject({ engine: 'llm', status: 'not_permitted', sql: attack });
  });

  test('tables the attacks named are all still there', async () => {
    const rows = await t.deps.db.execute(
      sql`select count(*)::int as n from information_schema.tables where table_name in ('users', 'api_keys', 'fact_marketing_performance') and table_schema = 'public'`,
    );
    expect((rows as unknown as { rows: { n: number }[] }).rows[0]!.n).toBe(3);
    const stolen = await t.deps.db.execute(sql`select to_regclass('public.stolen') as r`);
    expect((stolen as unknown as { rows: { r: unknown }[] }).rows[0]!.r).toBeNull();
  });

  test('no rows, SQL errors and nonsense are told apart', async () => {
    const empty = await ask(llm, "select date from fact_marketing_daily where date > '2030-01-01'");
    expect(empty).toMatchObject({ status: 'no_data', message: 'The query ran and found no rows.' });
    const failing = await ask(llm, "select sum(spend) from fact_marketing_daily where date = 'not a date'");
    expect(failing.status).toBe('not_understood');
    expect(failing.message).toMatch(/failed: invalid input syntax for type date/);
    const prose = await ask(llm, 'I am sorry, I cannot help with that.');
    expect(prose.status).toBe('not_understood');
    expect(prose.message).toMatch(/not a query I can run/);
  });

  test('a trailing comment cannot swallow the wrapper; answers are capped at 1000 rows', async () => {
    const commented = await ask(llm, 'select sum(leads) as leads from fact_marketing_daily -- all leads');
    expect(commented).toMatchObject({ status: 'answered', rows: [{ leads: 22 }] });
    // 8 rollup rows in org A: a four-way cross join makes 4096.
    const big = await ask(
      llm,
      'select a.date from fact_marketing_daily a, fact_marketing_daily b, fact_marketing_daily c, fact_marketing_daily d',
    );
    expect(big.status).toBe('answered');
    expect(big.rows).toHaveLength(1000);
    expect(big.message).toBe('1000 rows (the first 1000; there are more).');
  });

  test('the guarded statement runs in a read-only transaction', async () => {
    const error = await withTenant(t.deps.db, t.orgA.id, async (tx) => {
      await runGuardedSelect(tx, 'select count(*) as n from properties', { propertyIds: null });
      return tx.execute(sql`insert into properties (org_id, name) values (${t.orgA.id}, 'sneaky')`).then(
        () => null,
        (err: Error & { cause?: Error }) => err.cause?.message ?? err.message,
      );
    }).catch((err: Error & { cause?: Error }) => err.cause?.message ?? err.message);
    expect(error).toMatch(/read-only transaction/);
  });

  test('when the model cannot be reached, the offline parser answers and says so', async () => {
    const a = await ask(llm, 'model offline');
    expect(a.engine).toBe('rules');
    expect(a.status).toBe('not_understood');
    expect(a.message).toMatch(
      /^The language model \(fake:echo\) did not answer: connection refused; answered by the offline parser instead\./,
    );
  });
});

describe('the OpenAI SDK path (integrations/llm.ts) against a local OpenAI-compatible server', () => {
  let server: Server;
  let requests: { messages: { role: string; content: string }[]; model: string }[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        expect(req.url).toBe('/v1/chat/completions');
        expect(req.headers.authorization).toBe('Bearer sk-test');
        requests.push(JSON.parse(body));
        res.setHeader('content-type', 'application/json');
        res.end(
          JSON.stringify({
            id: 'chatcmpl-1',
            object: 'chat.completion',
            created: 0,
            model: 'gpt-test',
            choices: [
              {
                index: 0,
                finish_reason: 'stop',
                message: {
                  role: 'assistant',
                  content:
                    '```sql\nselect channel, sum(leads) as leads from fact_marketing_daily group by channel order by channel\n```',
                },
              },
            ],
          }),
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  test('the router builds the model from config and answers with its SQL', async () => {
    const { port } = server.address() as AddressInfo;
    const config = {
      ...t.deps.config,
      openai: { ...t.deps.config.openai, apiKey: 'sk-test', baseUrl: `http://127.0.0.1:${port}/v1`, chatModel: 'gpt-test' },
    };
    const app = createApp({ ...t.deps, config, now: () => NOW });
    const a = await ask(app, 'leads per channel, all time');
    expect(a).toMatchObject({
      status: 'answered',
      engine: 'llm',
      rows: [
        { channel: 'google_ads', leads: 11 },
        { channel: 'meta', leads: 11 },
      ],
      chart: { type: 'bar', x: 'channel', y: ['leads'] },
    });
    expect(a.interpretation).toMatch(/openai:gpt-test/);
    expect(requests).toHaveLength(1);
    expect(requests[0]!.model).toBe('gpt-test');
    expect(requests[0]!.messages[0]!.content).toMatch(
      /fact_marketing_daily\(date date, property_id uuid, channel text/,
    );
    expect(requests[0]!.messages[0]!.content).toMatch(/Today is 2026-01-07 \(time zone America\/Chicago\)/);
    expect(requests[0]!.messages[1]).toEqual({ role: 'user', content: 'leads per channel, all time' });
  });
});
