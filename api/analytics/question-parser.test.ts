import { describe, expect, test } from 'vitest';
import { describeInterpretation, parseQuestion, type ParserProperty } from './question-parser';

const reserve: ParserProperty = { id: 'p-reserve', name: 'The Reserve at Sandpoint', timezone: 'America/Chicago' };
const harbor: ParserProperty = { id: 'p-harbor', name: 'Harbor Lofts', timezone: 'America/Los_Angeles' };
const heights: ParserProperty = { id: 'p-heights', name: 'Pacific Heights Apartments', timezone: 'Pacific/Honolulu' };
const properties = [reserve, harbor, heights];

// Wednesday 2026-03-18, 10:00 in Chicago (CDT), 08:00 in Los Angeles, 05:00 in Honolulu.
const now = new Date('2026-03-18T15:00:00Z');
const parse = (q: string, at = now, props = properties) =>
  parseQuestion(q, { properties: props, now: at, defaultTimezone: props[0]?.timezone ?? 'UTC' });

describe('offline question parser', () => {
  test("the seed's question: cost per lead for The Reserve last week compared to Google Ads", () => {
    const p = parse('Show me the cost per lead for The Reserve last week compared to Google Ads');
    expect(p.metrics).toEqual(['cpa']);
    expect(p.property).toEqual(reserve);
    expect(p.dateRange).toEqual({ start: '2026-03-09', end: '2026-03-15' }); // the previous ISO week, Mon–Sun
    expect(p.interval).toBe('day');
    expect(p.groupBy).toBe('channel');
    expect(p.channels).toEqual([]); // Google Ads is compared with the other channels, not filtered to
    expect(p.comparedChannels).toEqual(['google_ads']);
    expect(p.unrecognized).toEqual([]);
    expect(describeInterpretation(p)).toBe(
      'Cost per lead for The Reserve at Sandpoint, by channel (comparing Google Ads with the other channels), ' +
        'last week (2026-03-09 to 2026-03-15, dates in America/Chicago), daily.',
    );
  });

  test.each([
    ['How much did we spend yesterday?', ['spend'], { start: '2026-03-17', end: '2026-03-17' }],
    ['leads today', ['leads'], { start: '2026-03-18', end: '2026-03-18' }],
    ['conversions this week', ['leads'], { start: '2026-03-16', end: '2026-03-18' }],
    ['CPL last month', ['cpa'], { start: '2026-02-01', end: '2026-02-28' }],
    ['CPA this month', ['cpa'], { start: '2026-03-01', end: '2026-03-18' }],
    ['clicks over the last 7 days', ['clicks'], { start: '2026-03-12', end: '2026-03-18' }],
    ['impressions for the past 30 days', ['impressions'], { start: '2026-02-17', end: '2026-03-18' }],
    ['what was our CTR in March 2026', ['ctr'], { start: '2026-03-01', end: '2026-03-31' }],
    ['cost per click from 2026-01-01 to 2026-01-31', ['cpc'], { start: '2026-01-01', end: '2026-01-31' }],
    ['spend and leads in Q1 2026', ['spend', 'leads'], { start: '2026-01-01', end: '2026-03-31' }],
    ['ad spend between 2025-12-15 and 2026-01-20', ['spend'], { start: '2025-12-15', end: '2026-01-20' }],
    ['cost per conversion in December 2025', ['cpa'], { start: '2025-12-01', end: '2025-12-31' }],
    ['click-through rate last year', ['ctr'], { start: '2025-01-01', end: '2025-12-31' }],
    ['leads in November', ['leads'], { start: '2025-11-01', end: '2025-11-30' }], // the most recent November
    ['spend on 2026-02-14', ['spend'], { start: '2026-02-14', end: '2026-02-14' }],
    ['weekly spend since September', ['spend'], { start: '2025-09-01', end: '2026-03-18' }],
    ['leads since January 2026', ['leads'], { start: '2026-01-01', end: '2026-03-18' }],
    ['clicks from November to February', ['clicks'], { start: '2025-11-01', end: '2026-02-28' }],
    ['spend between Jan and Feb 2026', ['spend'], { start: '2026-01-01', end: '2026-02-28' }],
    ['leads from 12/15/2025 to 1/20/2026', ['leads'], { start: '2025-12-15', end: '2026-01-20' }],
  ])('%s', (question, metrics, range) => {
    const p = parse(question);
    expect(p.metrics).toEqual(metrics);
    expect(p.dateRange).toEqual(range);
    expect(p.unrecognized).toEqual([]);
  });

  test('"compare" on its own asks for a comparison by channel', () => {
    const p = parse('compare meta and google leads last 7 days');
    expect(p.groupBy).toBe('channel');
    expect(p.channels.sort()).toEqual(['google_ads', 'meta']);
    expect(p.unrecognized).toEqual([]);
  });

  test('last week across a year edge is the ISO week 2025-12-29..2026-01-04', () => {
    const p = parse('leads last week', new Date('2026-01-07T18:00:00Z'));
    expect(p.dateRange).toEqual({ start: '2025-12-29', end: '2026-01-04' });
  });

  test("relative dates are read in the named property's time zone", () => {
    // 05:00 UTC: already the 18th in Chicago (00:00 CDT), still the 17th in Honolulu (19:00 HST).
    const at = new Date('2026-03-18T05:00:00Z');
    expect(parse('spend yesterday for The Reserve', at).dateRange).toEqual({ start: '2026-03-17', end: '2026-03-17' });
    const p = parse('spend yesterday for Pacific Heights', at);
    expect(p.property).toEqual(heights);
    expect(p.timezone).toBe('Pacific/Honolulu');
    expect(p.dateRange).toEqual({ start: '2026-03-16', end: '2026-03-16' });
  });

  test('channels: one named is a filter, two compared are grouped, "by channel" groups all', () => {
    const meta = parse('Facebook spend last week');
    expect(meta.channels).toEqual(['meta']);
    expect(meta.groupBy).toBeUndefined();
    const insta = parse('instagram leads yesterday');
    expect(insta.channels).toEqual(['meta']);
    const vs = parse('leads Meta vs AdWords last month');
    expect(vs.groupBy).toBe('channel');
    expect(vs.channels).toEqual(['google_ads', 'meta']);
    const by = parse('spend by channel this month');
    expect(by.groupBy).toBe('channel');
    expect(by.channels).toEqual([]);
  });

  test('intervals: explicit words win, long ranges default to weeks or months', () => {
    expect(parse('weekly spend in Q1 2026').interval).toBe('week');
    expect(parse('spend by month last year').interval).toBe('month');
    expect(parse('daily leads this month').interval).toBe('day');
    expect(parse('spend in Q1 2026').interval).toBe('week');
    expect(parse('spend last year').interval).toBe('month');
  });

  test('fuzzy property names: partial, plural, one typo', () => {
    expect(parse('spend for harbor yesterday').property).toEqual(harbor);
    expect(parse('leads at the Resrve last week').property).toEqual(reserve);
    expect(parse('cpa for Pacific Heights this month').property).toEqual(heights);
  });

  test('an ambiguous name is reported, not guessed', () => {
    const props = [reserve, { id: 'p-main', name: 'Reserve on Main', timezone: 'America/Chicago' }];
    const p = parse('spend for the reserve yesterday', now, props);
    expect(p.property).toBeNull();
    expect(p.ambiguousProperties.map((x) => x.name)).toEqual(['The Reserve at Sandpoint', 'Reserve on Main']);
    // The full name settles it.
    expect(parse('spend for the reserve at sandpoint yesterday', now, props).property).toEqual(reserve);
  });

  test('no metric and words it cannot use are reported', () => {
    const p = parse('how is the moon base doing on google analytics yesterday');
    expect(p.metrics).toEqual([]);
    expect(p.unrecognized).toEqual(['google analytics', 'moon base doing']);
    expect(p.dateRange).toEqual({ start: '2026-03-17', end: '2026-03-17' });
  });

  test('no date means the last 30 days, said so', () => {
    const p = parse('spend');
    expect(p.dateGiven).toBe(false);
    expect(p.dateRange).toEqual({ start: '2026-02-17', end: '2026-03-18' });
    expect(p.dateLabel).toBe('the last 30 days (no date given)');
  });

  test('a range that ends before it starts is a problem', () => {
    expect(parse('spend from 2026-02-01 to 2026-01-01').problem).toMatch(/ends before it starts/);
  });
});
