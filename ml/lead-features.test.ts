import { describe, expect, test } from 'vitest';
import {
  buildFeatureSpec,
  categoryKey,
  emailDomainClass,
  encodeLead,
  featureFamilyOf,
  featureGroupOf,
  NO_REPLY_MINUTES,
} from './lead-features';
import type { LeadFeatureInput } from './types';

const lead = (overrides: Partial<LeadFeatureInput> = {}): LeadFeatureInput => ({
  source: 'google_ads',
  receivedAt: '2026-01-05T15:00:00Z', // Monday 09:00 in Chicago
  timezone: 'America/Chicago',
  interactions: 3,
  responseTimeMinutes: 12,
  emailDomainClass: 'free',
  hasPhone: true,
  unitType: '2br',
  ...overrides,
});

const repeat = (n: number, overrides: Partial<LeadFeatureInput>) => Array.from({ length: n }, () => lead(overrides));

describe('emailDomainClass', () => {
  test.each([
    ['jane.doe@gmail.com', 'free'],
    ['Jane.Doe@GMAIL.COM ', 'free'],
    ['x@yahoo.co.uk', 'free'],
    ['x@hotmail.fr', 'free'],
    ['x@outlook.com', 'free'],
    ['x@icloud.com', 'free'],
    ['x@proton.me', 'free'],
    ['x@aol.com', 'free'],
    ['x@mailinator.com', 'disposable'],
    ['x@eu.mailinator.com', 'disposable'],
    ['x@10minutemail.com', 'disposable'],
    ['x@guerrillamail.org', 'disposable'],
    ['x@yopmail.fr', 'disposable'],
    ['x@my-tempmail-box.net', 'disposable'],
    ['jane@acme-logistics.com', 'corporate'],
    ['jane@cs.utexas.edu', 'corporate'],
    ['jane@gmail-lookalike.com', 'corporate'],
    [null, 'none'],
    ['', 'none'],
    ['not an email', 'none'],
    ['jane@localhost', 'none'],
    ['@gmail.com', 'none'],
    ['jane@-bad-.com', 'none'],
  ] as const)('%s → %s', (email, expected) => {
    expect(emailDomainClass(email)).toBe(expected);
  });
});

describe('buildFeatureSpec', () => {
  test('frequent sources and unit types get columns, rare ones share _other', () => {
    const inputs = [
      ...repeat(5, { source: 'google_ads', unitType: '1br' }),
      ...repeat(5, { source: 'Apartments.com', unitType: '2br' }),
      ...repeat(2, { source: 'craigslist', unitType: 'penthouse' }),
      ...repeat(3, { source: 'other', unitType: null }),
    ];
    const spec = buildFeatureSpec(inputs, { minSourceCount: 3 });
    expect(spec.sources).toEqual(['apartments_com', 'google_ads']);
    expect(spec.unitTypes).toEqual(['1br', '2br']);
    expect(spec.names).toEqual([
      'source_apartments_com',
      'source_google_ads',
      'source_other',
      'interactions',
      'replied',
      'response_minutes',
      'hour_sin',
      'hour_cos',
      'weekday_monday',
      'weekday_tuesday',
      'weekday_wednesday',
      'weekday_thursday',
      'weekday_friday',
      'weekday_saturday',
      'weekday_sunday',
      'email_corporate',
      'email_free',
      'email_disposable',
      'email_none',
      'has_phone',
      'unit_1br',
      'unit_2br',
      'unit_other',
      'unit_none',
    ]);
    expect(new Set(spec.names).size).toBe(spec.names.length);
    // The default threshold (20) leaves everything in _other for so few rows.
    expect(buildFeatureSpec(inputs).sources).toEqual([]);
  });

  test('category keys are lower snake case', () => {
    expect(categoryKey(' Apartments.com ')).toBe('apartments_com');
    expect(categoryKey('Walk-In')).toBe('walk_in');
  });
});

describe('encodeLead', () => {
  const spec = buildFeatureSpec(
    [...repeat(3, { source: 'google_ads', unitType: '2br' }), ...repeat(3, { source: 'zillow', unitType: 'studio' })],
    { minSourceCount: 3 },
  );
  const column = (name: string) => {
    const i = spec.names.indexOf(name);
    if (i < 0) throw new Error(`no column ${name}`);
    return i;
  };

  test('one value per column, in the spec order, float32-exact', () => {
    const x = encodeLead(spec, lead());
    expect(x).toBeInstanceOf(Float32Array);
    expect(x).toHaveLength(spec.names.length);
    expect(x[column('source_google_ads')]).toBe(1);
    expect(x[column('source_zillow')]).toBe(0);
    expect(x[column('source_other')]).toBe(0);
    expect(x[column('interactions')]).toBe(3);
    expect(x[column('replied')]).toBe(1);
    expect(x[column('response_minutes')]).toBe(12);
    // 09:00 local is 135° round the 24-hour clock.
    expect(x[column('hour_sin')]).toBe(Math.fround(Math.sin((2 * Math.PI * 9) / 24)));
    expect(x[column('hour_cos')]).toBe(Math.fround(Math.cos((2 * Math.PI * 9) / 24)));
    expect(x[column('weekday_monday')]).toBe(1);
    expect(x[column('email_free')]).toBe(1);
    expect(x[column('has_phone')]).toBe(1);
    expect(x[column('unit_2br')]).toBe(1);
    // Each one-hot family has exactly one 1.
    for (const prefix of ['source_', 'weekday_', 'email_', 'unit_']) {
      const ones = spec.names.filter((n, i) => n.startsWith(prefix) && x[i] === 1);
      expect(ones).toHaveLength(1);
    }
  });

  test("time of day and weekday are the property's local ones", () => {
    // 03:30 UTC on Saturday 4 July is 22:30 on Friday 3 July in Chicago (CDT).
    const chicago = encodeLead(spec, lead({ receivedAt: '2026-07-04T03:30:00Z' }));
    expect(chicago[column('weekday_friday')]).toBe(1);
    expect(chicago[column('hour_sin')]).toBe(Math.fround(Math.sin((2 * Math.PI * 22.5) / 24)));
    // The same instant in Berlin is 05:30 on Saturday.
    const berlin = encodeLead(spec, lead({ receivedAt: '2026-07-04T03:30:00Z', timezone: 'Europe/Berlin' }));
    expect(berlin[column('weekday_saturday')]).toBe(1);
    expect(berlin[column('hour_cos')]).toBe(Math.fround(Math.cos((2 * Math.PI * 5.5) / 24)));
    // An offset in the input is honoured (same instant as above).
    const offset = encodeLead(spec, lead({ receivedAt: '2026-07-03T22:30:00-05:00' }));
    expect(Array.from(offset)).toEqual(Array.from(chicago));
  });

  test('a lead who never replied: replied 0 and the sentinel minutes', () => {
    const x = encodeLead(spec, lead({ responseTimeMinutes: null }));
    expect(x[column('replied')]).toBe(0);
    expect(x[column('response_minutes')]).toBe(NO_REPLY_MINUTES);
  });

  test('unseen categories go to _other, a missing unit type to unit_none', () => {
    const x = encodeLead(spec, lead({ source: 'tiktok', unitType: 'penthouse', hasPhone: false }));
    expect(x[column('source_other')]).toBe(1);
    expect(x[column('unit_other')]).toBe(1);
    expect(x[column('has_phone')]).toBe(0);
    expect(encodeLead(spec, lead({ unitType: null }))[column('unit_none')]).toBe(1);
    // Source spelled differently still finds its column.
    expect(encodeLead(spec, lead({ source: 'Zillow' }))[column('source_zillow')]).toBe(1);
  });

  test('rejects invalid dates, timezones, domain classes and mismatched specs', () => {
    expect(() => encodeLead(spec, lead({ receivedAt: 'yesterday' }))).toThrow(/ISO 8601/);
    expect(() => encodeLead(spec, lead({ timezone: 'Mars/Olympus' }))).toThrow(/IANA/);
    expect(() => encodeLead(spec, lead({ emailDomainClass: 'weird' as LeadFeatureInput['emailDomainClass'] }))).toThrow(
      /email domain class/,
    );
    expect(() => encodeLead({ ...spec, names: spec.names.slice(1) }, lead())).toThrow(/names/);
  });
});

describe('featureGroupOf', () => {
  const spec = buildFeatureSpec(repeat(3, { source: 'google_ads', unitType: '2br' }), { minSourceCount: 3 });
  test('human names for explanations', () => {
    const groups = Object.fromEntries(spec.names.map((name, i) => [name, featureGroupOf(spec, i)]));
    expect(groups).toMatchObject({
      source_google_ads: 'source: google_ads',
      source_other: 'source: other',
      interactions: 'interactions',
      replied: 'response time',
      response_minutes: 'response time',
      hour_sin: 'time of day',
      hour_cos: 'time of day',
      weekday_saturday: 'day of week: saturday',
      email_free: 'email domain: free',
      email_disposable: 'email domain: disposable',
      has_phone: 'phone number',
      unit_2br: 'unit type: 2br',
      unit_none: 'unit type: none',
    });
    expect(featureFamilyOf(spec, spec.names.indexOf('email_none'))).toBe('email domain');
    expect(() => featureGroupOf(spec, spec.names.length)).toThrow(/not in the feature spec/);
  });
});
