/**
 * The deterministic synthetic world behind the Meta, Google Ads and GA4 emulators: a few ad accounts and GA4
 * properties for the demo communities, campaigns that start, stop and pause, and daily figures with weekly and
 * yearly seasonality and seeded noise. Every figure is a pure function of (account, campaign, date, asOf,
 * revisions): no Math.random, no hidden state, so tests can compute exactly what a sync must store.
 *
 * Restatement: a day at least RESTATEMENT_DAYS before `asOf` (the world clock, in the account's timezone) is
 * final. More recent days report a growing fraction of their final leads / conversions (attribution lag) and a
 * little less spend; today also reports only the part of the day that has passed. Moving the clock therefore
 * restates only the recent days. `revise` (a Revision) multiplies chosen days' figures for exact restatements.
 */
import { Hono } from 'hono';
import { DateTime } from 'luxon';
import { z } from 'zod';
import type { CampaignDayRow, DateRange, TrafficDayRow } from '../integrations/ad-platforms';

export type CampaignChannel = 'meta' | 'google_ads';
export type WorldChannel = CampaignChannel | 'ga4';

/** Account ids the emulators know; anything else gets the platform's "not found / no permission" error. */
export const SANDBOX_ACCOUNTS = {
  meta: ['1001001', '1001002'],
  google_ads: ['1234567890', '2345678901'],
  ga4: ['310000001', '310000002'],
} as const satisfies Record<WorldChannel, readonly string[]>;

/**
 * Credentials the emulators accept (any Meta token / Google refresh token / developer token starting with
 * `sandbox-` is valid; anything else is refused the way the real platform refuses it).
 */
export const SANDBOX_CREDENTIALS = {
  meta: { accessToken: 'sandbox-meta-access-token' },
  google_ads: {
    developerToken: 'sandbox-developer-token',
    clientId: 'sandbox-client-id.apps.googleusercontent.com',
    clientSecret: 'sandbox-client-secret',
    refreshToken: 'sandbox-refresh-token-google-ads',
  },
  ga4: {
    clientId: 'sandbox-client-id.apps.googleusercontent.com',
    clientSecret: 'sandbox-client-secret',
    refreshToken: 'sandbox-refresh-token-ga4',
  },
} as const;

/** Days this many days (or more) before the clock's date are final; more recent days are still restated. */
export const RESTATEMENT_DAYS = 7;
/** GA4 finishes processing sooner. */
export const GA4_RESTATEMENT_DAYS = 3;

/** Share of the final leads/conversions reported on a day `age` days before the clock (0 = today). */
const LEAD_LAG = [0.45, 0.6, 0.7, 0.8, 0.88, 0.94, 0.97];
/** Share of the final spend reported (late billing adjustments). */
const SPEND_LAG = [0.9, 0.95, 0.97, 0.98, 0.99, 0.995, 0.998];
const GA4_SESSION_LAG = [0.7, 0.9, 0.97];
const GA4_EVENT_LAG = [0.5, 0.8, 0.95];

/** An explicit restatement: multiply the given days' figures by `factor` (cumulative with earlier ones). */
export interface Revision {
  channel: WorldChannel;
  accountId: string;
  dates: string[];
  factor: number;
}

export interface WorldOptions {
  revisions?: readonly Revision[];
}

// ---------------------------------------------------------------------------------------------------------
// Seeded randomness

function hashString(input: string): number {
  // cyrb-style 32-bit mix of the characters
  let h = 0x811c9dc5 ^ input.length;
  for (let i = 0; i < input.length; i++) {
    h = Math.imul(h ^ input.charCodeAt(i), 0x01000193);
    h ^= h >>> 13;
  }
  return h >>> 0;
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A uniform [0, 1) number fixed by the key. */
export function seeded(key: string): number {
  return mulberry32(hashString(key))();
}

// ---------------------------------------------------------------------------------------------------------
// Dates (calendar dates as YYYY-MM-DD, arithmetic in UTC days)

const DAY_MS = 86_400_000;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

export function isIsoDate(value: string): boolean {
  if (!ISO_DATE.test(value)) return false;
  const d = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === value;
}

function dayNumber(date: string): number {
  return Math.floor(Date.parse(`${date}T00:00:00Z`) / DAY_MS);
}

function dateOfDayNumber(n: number): string {
  return new Date(n * DAY_MS).toISOString().slice(0, 10);
}

export function addDays(date: string, days: number): string {
  return dateOfDayNumber(dayNumber(date) + days);
}

export function datesInRange(range: DateRange): string[] {
  const out: string[] = [];
  for (let n = dayNumber(range.start); n <= dayNumber(range.end); n++) out.push(dateOfDayNumber(n));
  return out;
}

/** The clock's calendar date and the share of that day that has passed, in a timezone. */
export function localToday(asOf: Date, timezone: string): { date: string; dayFraction: number } {
  const local = DateTime.fromJSDate(asOf, { zone: timezone });
  const seconds = local.hour * 3600 + local.minute * 60 + local.second;
  return {
    date: local.toISODate() ?? asOf.toISOString().slice(0, 10),
    dayFraction: Math.max(1 / 24, seconds / 86_400),
  };
}

// ---------------------------------------------------------------------------------------------------------
// The accounts and their campaigns

interface CampaignSpec {
  id: string;
  name: string;
  /** Mean daily impressions at full delivery. */
  impressions: number;
  ctr: number;
  /** Cost per thousand impressions, in currency units. */
  cpm: number;
  /** Leads (Meta) or conversions (Google) per click. */
  leadRate: number;
  start: string;
  end?: string;
  /** Only delivers in these months (1-12), every year. */
  months?: number[];
  /** Paused `length` days out of every `period` (offset by the campaign's hash). */
  pauses?: { period: number; length: number };
}

interface AccountSpec {
  timezone: string;
  currency: string;
  campaigns: CampaignSpec[];
}

const META_ACCOUNTS: Record<string, AccountSpec> = {
  '1001001': {
    timezone: 'America/Los_Angeles',
    currency: 'USD',
    campaigns: [
      {
        id: '23851000000000123',
        name: 'The Reserve at Sandpoint | Lead Gen | Always On',
        impressions: 5200,
        ctr: 0.012,
        cpm: 9.5,
        leadRate: 0.06,
        start: '2024-01-01',
      },
      {
        id: '23851000000000124',
        name: 'The Reserve at Sandpoint | Lead Gen | Spring',
        impressions: 3800,
        ctr: 0.014,
        cpm: 11.2,
        leadRate: 0.08,
        start: '2024-01-01',
        months: [3, 4, 5],
      },
      {
        id: '23851000000000125',
        name: 'Harbor View Lofts | Retargeting',
        impressions: 2100,
        ctr: 0.018,
        cpm: 14.75,
        leadRate: 0.05,
        start: '2024-06-01',
        pauses: { period: 45, length: 6 },
      },
      {
        id: '23851000000000126',
        name: 'Agency Test Campaign',
        impressions: 600,
        ctr: 0.009,
        cpm: 6.4,
        leadRate: 0.03,
        start: '2025-06-01',
        pauses: { period: 20, length: 5 },
      },
    ],
  },
  '1001002': {
    timezone: 'America/Los_Angeles',
    currency: 'USD',
    campaigns: [
      {
        id: '23851000000000201',
        name: 'Harbor View Lofts | Lead Gen | Always On',
        impressions: 4600,
        ctr: 0.011,
        cpm: 10.1,
        leadRate: 0.07,
        start: '2024-01-01',
      },
      {
        id: '23851000000000202',
        name: 'Lakeside Commons | Lead Gen | Summer',
        impressions: 3000,
        ctr: 0.013,
        cpm: 8.8,
        leadRate: 0.06,
        start: '2024-01-01',
        months: [6, 7, 8],
      },
      {
        id: '23851000000000203',
        name: 'Brand Awareness - Sandpoint Region',
        impressions: 9000,
        ctr: 0.006,
        cpm: 4.9,
        leadRate: 0.02,
        start: '2025-01-15',
        end: '2027-12-31',
      },
    ],
  },
};

const GOOGLE_ACCOUNTS: Record<string, AccountSpec> = {
  '1234567890': {
    timezone: 'America/Los_Angeles',
    currency: 'USD',
    campaigns: [
      {
        id: '20100000001',
        name: 'The Reserve at Sandpoint - Search - Brand',
        impressions: 900,
        ctr: 0.11,
        cpm: 38.0,
        leadRate: 0.09,
        start: '2024-01-01',
      },
      {
        id: '20100000002',
        name: 'The Reserve at Sandpoint - Search - Generic',
        impressions: 2400,
        ctr: 0.045,
        cpm: 52.3,
        leadRate: 0.05,
        start: '2024-01-01',
      },
      {
        id: '20100000003',
        name: 'Harbor View Lofts - Search - Brand',
        impressions: 700,
        ctr: 0.12,
        cpm: 35.6,
        leadRate: 0.1,
        start: '2024-03-01',
        pauses: { period: 60, length: 4 },
      },
      {
        id: '20100000004',
        name: 'Harbor View Lofts - Performance Max',
        impressions: 6100,
        ctr: 0.009,
        cpm: 7.7,
        leadRate: 0.04,
        start: '2025-09-15',
      },
      {
        id: '20100000005',
        name: 'Agency Test Campaign',
        impressions: 250,
        ctr: 0.03,
        cpm: 12.0,
        leadRate: 0.02,
        start: '2025-01-01',
        pauses: { period: 14, length: 4 },
      },
    ],
  },
  '2345678901': {
    timezone: 'America/New_York',
    currency: 'USD',
    campaigns: [
      {
        id: '20200000001',
        name: 'Harbor View Lofts - Search - Generic',
        impressions: 1800,
        ctr: 0.05,
        cpm: 47.1,
        leadRate: 0.06,
        start: '2024-01-01',
      },
      {
        id: '20200000002',
        name: 'The Reserve at Sandpoint - Display - Remarketing',
        impressions: 7300,
        ctr: 0.004,
        cpm: 3.9,
        leadRate: 0.03,
        start: '2024-01-01',
        pauses: { period: 30, length: 3 },
      },
      {
        id: '20200000003',
        name: 'Competitor Terms - Sandpoint',
        impressions: 500,
        ctr: 0.06,
        cpm: 61.0,
        leadRate: 0.04,
        start: '2025-04-01',
        months: [4, 5, 6, 7, 8, 9, 10],
      },
    ],
  },
};

interface TrafficSourceSpec {
  source: string;
  channelGroup: string;
  sessions: number;
  keyEventRate: number;
}

interface PropertySpec {
  timezone: string;
  start: string;
  sources: TrafficSourceSpec[];
}

const GA4_PROPERTIES: Record<string, PropertySpec> = {
  '310000001': {
    timezone: 'America/Los_Angeles',
    start: '2024-01-01',
    sources: [
      { source: 'google', channelGroup: 'Organic Search', sessions: 140, keyEventRate: 0.035 },
      { source: 'google', channelGroup: 'Paid Search', sessions: 85, keyEventRate: 0.06 },
      { source: 'facebook', channelGroup: 'Paid Social', sessions: 60, keyEventRate: 0.05 },
      { source: '(direct)', channelGroup: 'Direct', sessions: 70, keyEventRate: 0.04 },
      { source: 'apartments.com', channelGroup: 'Referral', sessions: 25, keyEventRate: 0.09 },
      { source: 'bing', channelGroup: 'Organic Search', sessions: 12, keyEventRate: 0.03 },
    ],
  },
  '310000002': {
    timezone: 'America/Los_Angeles',
    start: '2024-03-01',
    sources: [
      { source: 'google', channelGroup: 'Organic Search', sessions: 110, keyEventRate: 0.03 },
      { source: 'google', channelGroup: 'Paid Search', sessions: 70, keyEventRate: 0.07 },
      { source: 'm.facebook.com', channelGroup: 'Organic Social', sessions: 22, keyEventRate: 0.02 },
      { source: 'facebook', channelGroup: 'Paid Social', sessions: 48, keyEventRate: 0.045 },
      { source: '(direct)', channelGroup: 'Direct', sessions: 55, keyEventRate: 0.04 },
      { source: 'zillow.com', channelGroup: 'Referral', sessions: 18, keyEventRate: 0.08 },
    ],
  },
};

export interface WorldCampaign {
  id: string;
  name: string;
}

export function isKnownAccount(channel: WorldChannel, accountId: string): boolean {
  return (SANDBOX_ACCOUNTS[channel] as readonly string[]).includes(accountId);
}

export function accountTimezone(channel: WorldChannel, accountId: string): string {
  const spec =
    channel === 'ga4' ? GA4_PROPERTIES[accountId] : (channel === 'meta' ? META_ACCOUNTS : GOOGLE_ACCOUNTS)[accountId];
  if (!spec) throw new Error(`unknown ${channel} account ${accountId}`);
  return spec.timezone;
}

export function accountCurrency(channel: CampaignChannel, accountId: string): string {
  return campaignAccount(channel, accountId).currency;
}

function campaignAccount(channel: CampaignChannel, accountId: string): AccountSpec {
  const spec = (channel === 'meta' ? META_ACCOUNTS : GOOGLE_ACCOUNTS)[accountId];
  if (!spec) throw new Error(`unknown ${channel} account ${accountId}`);
  return spec;
}

/** Every campaign of an account (also those that deliver nothing in a given range). */
export function campaignsOf(channel: CampaignChannel, accountId: string): WorldCampaign[] {
  return campaignAccount(channel, accountId).campaigns.map(({ id, name }) => ({ id, name }));
}

// ---------------------------------------------------------------------------------------------------------
// Daily figures

/** Weekday multipliers, Sunday first: weekends deliver less. */
const WEEKDAY = [0.62, 1.04, 1.08, 1.05, 1.0, 0.92, 0.68];

function seasonality(date: string): number {
  const d = new Date(`${date}T00:00:00Z`);
  const dayOfYear = (dayNumber(date) - dayNumber(`${d.getUTCFullYear()}-01-01`)) / 365;
  // Leasing season peaks in early summer.
  return WEEKDAY[d.getUTCDay()]! * (1 + 0.15 * Math.sin(2 * Math.PI * (dayOfYear - 0.2)));
}

function isDelivering(spec: CampaignSpec, date: string): boolean {
  if (date < spec.start || (spec.end !== undefined && date > spec.end)) return false;
  if (spec.months && !spec.months.includes(Number(date.slice(5, 7)))) return false;
  if (spec.pauses) {
    const offset = hashString(spec.id) % spec.pauses.period;
    if ((dayNumber(date) + offset) % spec.pauses.period < spec.pauses.length) return false;
  }
  return true;
}

function revisionFactor(
  revisions: readonly Revision[] | undefined,
  channel: WorldChannel,
  accountId: string,
  date: string,
) {
  let factor = 1;
  for (const r of revisions ?? []) {
    if (r.channel === channel && r.accountId === accountId && r.dates.includes(date)) factor *= r.factor;
  }
  return factor;
}

interface Reporting {
  /** Multiplies every figure: revisions times, for today, the share of the day that has passed. */
  scale: number;
  leadShare: number;
  spendShare: number;
}

/** How a day is reported at `asOf`; null when the day is in the account's future. */
function reporting(
  channel: WorldChannel,
  accountId: string,
  date: string,
  asOf: Date,
  options: WorldOptions | undefined,
): Reporting | null {
  const today = localToday(asOf, accountTimezone(channel, accountId));
  const age = dayNumber(today.date) - dayNumber(date);
  if (age < 0) return null;
  const revision = revisionFactor(options?.revisions, channel, accountId, date);
  const scale = revision * (age === 0 ? today.dayFraction : 1);
  if (channel === 'ga4') {
    return { scale, leadShare: GA4_EVENT_LAG[age] ?? 1, spendShare: GA4_SESSION_LAG[age] ?? 1 };
  }
  return { scale, leadShare: LEAD_LAG[age] ?? 1, spendShare: SPEND_LAG[age] ?? 1 };
}

interface CampaignDayBase {
  date: string;
  campaign: CampaignSpec;
  impressions: number;
  clicks: number;
  /** Reported spend in micros of the currency (Meta's are whole cents, Google's are not). */
  spendMicros: number;
  /** Meta: whole leads; Google: conversions in hundredths. */
  leadUnits: number;
  /** Meta's other action types (never summed into leads). */
  linkClicks: number;
  pixelLeads: number;
  landingPageViews: number;
}

function campaignDay(
  channel: CampaignChannel,
  accountId: string,
  spec: CampaignSpec,
  date: string,
  asOf: Date,
  options: WorldOptions | undefined,
): CampaignDayBase | null {
  if (!isDelivering(spec, date)) return null;
  const r = reporting(channel, accountId, date, asOf, options);
  if (!r) return null;
  const key = `${channel}|${accountId}|${spec.id}|${date}`;
  const u = (name: string) => seeded(`${key}|${name}`);
  // Final (fully attributed) figures of the whole day.
  const finalImpressions = spec.impressions * seasonality(date) * (0.75 + 0.5 * u('impressions'));
  const impressions = Math.round(finalImpressions * r.scale);
  if (impressions <= 0) return null;
  const clicks = Math.min(impressions, Math.round(impressions * spec.ctr * (0.8 + 0.4 * u('clicks'))));
  const finalSpend = (impressions / 1000) * spec.cpm * (0.9 + 0.2 * u('spend')) * r.spendShare;
  // Meta bills in cents; Google in micros that are not whole cents.
  const spendMicros = channel === 'meta' ? Math.round(finalSpend * 100) * 10_000 : Math.round(finalSpend * 1_000_000);
  const expectedLeads = clicks * spec.leadRate * (0.6 + 0.8 * u('leads')) * r.leadShare;
  const leadUnits =
    channel === 'meta'
      ? Math.floor(expectedLeads + u('lead-dither'))
      : // Google: conversions in half units (data-driven attribution), restated as hundredths.
        Math.round((Math.floor(expectedLeads * 2 + u('lead-dither')) / 2) * 100);
  return {
    date,
    campaign: spec,
    impressions,
    clicks,
    spendMicros,
    leadUnits,
    linkClicks: Math.round(clicks * (0.7 + 0.2 * u('link-clicks'))),
    pixelLeads: Math.floor(leadUnits * 0.6 + u('pixel-leads') * 2),
    landingPageViews: Math.round(clicks * (0.5 + 0.3 * u('lpv'))),
  };
}

function campaignDays(
  channel: CampaignChannel,
  accountId: string,
  range: DateRange,
  asOf: Date,
  options: WorldOptions | undefined,
): CampaignDayBase[] {
  const account = campaignAccount(channel, accountId);
  const out: CampaignDayBase[] = [];
  for (const date of datesInRange(range)) {
    for (const spec of account.campaigns) {
      const day = campaignDay(channel, accountId, spec, date, asOf, options);
      if (day) out.push(day);
    }
  }
  return out;
}

/** Formats integer cents as a decimal string with two decimals. */
export function centsToDecimal(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

// ---------------------------------------------------------------------------------------------------------
// Per-platform views of the world (what each emulator serves)

export interface MetaAction {
  action_type: string;
  value: number;
}

export interface MetaDay {
  date: string;
  campaignId: string;
  campaignName: string;
  impressions: number;
  clicks: number;
  spendCents: number;
  /** Non-zero actions in Meta's order; only `lead` is a lead. */
  actions: MetaAction[];
}

export function metaDays(accountId: string, range: DateRange, asOf: Date, options?: WorldOptions): MetaDay[] {
  return campaignDays('meta', accountId, range, asOf, options).map((d) => ({
    date: d.date,
    campaignId: d.campaign.id,
    campaignName: d.campaign.name,
    impressions: d.impressions,
    clicks: d.clicks,
    spendCents: d.spendMicros / 10_000,
    actions: [
      { action_type: 'landing_page_view', value: d.landingPageViews },
      { action_type: 'lead', value: d.leadUnits },
      { action_type: 'link_click', value: d.linkClicks },
      { action_type: 'offsite_conversion.fb_pixel_lead', value: d.pixelLeads },
      { action_type: 'page_engagement', value: d.linkClicks + d.landingPageViews },
    ].filter((a) => a.value > 0),
  }));
}

export interface GoogleAdsDay {
  date: string;
  campaignId: string;
  campaignName: string;
  impressions: number;
  clicks: number;
  costMicros: number;
  /** A double, e.g. 2.5 or 1.35 while still being attributed. */
  conversions: number;
}

export function googleAdsDays(accountId: string, range: DateRange, asOf: Date, options?: WorldOptions): GoogleAdsDay[] {
  return campaignDays('google_ads', accountId, range, asOf, options).map((d) => ({
    date: d.date,
    campaignId: d.campaign.id,
    campaignName: d.campaign.name,
    impressions: d.impressions,
    clicks: d.clicks,
    costMicros: d.spendMicros,
    conversions: d.leadUnits / 100,
  }));
}

export interface Ga4Day {
  date: string;
  sessionSource: string;
  channelGroup: string;
  sessions: number;
  keyEvents: number;
}

export function ga4Days(propertyId: string, range: DateRange, asOf: Date, options?: WorldOptions): Ga4Day[] {
  const spec = GA4_PROPERTIES[propertyId];
  if (!spec) throw new Error(`unknown ga4 property ${propertyId}`);
  const out: Ga4Day[] = [];
  for (const date of datesInRange(range)) {
    if (date < spec.start) continue;
    const r = reporting('ga4', propertyId, date, asOf, options);
    if (!r) continue;
    for (const source of spec.sources) {
      const key = `ga4|${propertyId}|${source.source}|${source.channelGroup}|${date}`;
      const finalSessions = source.sessions * seasonality(date) * (0.7 + 0.6 * seeded(`${key}|sessions`));
      const sessions = Math.round(finalSessions * r.scale * r.spendShare);
      if (sessions <= 0) continue;
      const keyEvents = Math.floor(
        finalSessions * r.scale * source.keyEventRate * (0.6 + 0.8 * seeded(`${key}|events`)) * r.leadShare +
          seeded(`${key}|dither`),
      );
      out.push({ date, sessionSource: source.source, channelGroup: source.channelGroup, sessions, keyEvents });
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Expected normalized rows (what a correct client returns)

/** Google cost_micros → cents, rounded half up with integer math. */
export function microsToCents(micros: number): number {
  return Math.floor((micros + 5_000) / 10_000);
}

/**
 * The normalized rows a correct CampaignClient returns for the range at `asOf`, sorted by date then campaign id.
 * Google conversions are rounded half up to an integer per campaign-day (2.5 → 3, 1.35 → 1).
 */
export function expectedCampaignDays(
  channel: CampaignChannel,
  accountId: string,
  range: DateRange,
  asOf: Date,
  options?: WorldOptions,
): CampaignDayRow[] {
  if (channel === 'meta') {
    return metaDays(accountId, range, asOf, options).map((d) => ({
      date: d.date,
      campaignId: d.campaignId,
      campaignName: d.campaignName,
      impressions: d.impressions,
      clicks: d.clicks,
      spend: centsToDecimal(d.spendCents),
      conversions: d.actions.find((a) => a.action_type === 'lead')?.value ?? 0,
    }));
  }
  return googleAdsDays(accountId, range, asOf, options).map((d) => ({
    date: d.date,
    campaignId: d.campaignId,
    campaignName: d.campaignName,
    impressions: d.impressions,
    clicks: d.clicks,
    spend: centsToDecimal(microsToCents(d.costMicros)),
    conversions: Math.round(d.conversions),
  }));
}

/** The normalized rows a correct TrafficClient returns, sorted by date, source, channel group. */
export function expectedTrafficDays(
  propertyId: string,
  range: DateRange,
  asOf: Date,
  options?: WorldOptions,
): TrafficDayRow[] {
  const text = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return ga4Days(propertyId, range, asOf, options)
    .map((d) => ({
      date: d.date,
      sessionSource: d.sessionSource,
      channelGroup: d.channelGroup,
      sessions: d.sessions,
      keyEvents: d.keyEvents,
    }))
    .sort(
      (a, b) => text(a.date, b.date) || text(a.sessionSource, b.sessionSource) || text(a.channelGroup, b.channelGroup),
    );
}

// ---------------------------------------------------------------------------------------------------------
// Per-sandbox state

export interface RequestLogEntry {
  at: string;
  service: 'meta' | 'google_ads' | 'google_oauth' | 'ga4';
  method: string;
  /** Path and query, with tokens redacted. */
  path: string;
  status: number;
}

/** Everything one sandbox app instance remembers; parallel sandboxes never share it. */
export interface AdWorldState {
  /** null: the real clock. */
  clock: Date | null;
  revisions: Revision[];
  /**
   * Meta throttling on demand: after `throttleAfter` more successful insights answers, the next `throttleNext`
   * requests are refused with `throttleCode`; the usage headers say access returns in `retrySeconds`
   * (x-ad-account-usage `reset_time_duration`, seconds; x-business-use-case-usage
   * `estimated_time_to_regain_access`, whole minutes).
   */
  meta: { throttleNext: number; throttleAfter: number; throttleCode: 17 | 80004; retrySeconds: number };
  googleAds: { quotaErrorsNext: number; batchSize: number; retrySeconds: number };
  ga4: { quotaErrorsNext: number };
  requests: RequestLogEntry[];
}

export const DEFAULT_GOOGLE_ADS_BATCH_SIZE = 10_000;
const MAX_LOGGED_REQUESTS = 2_000;

export function createAdWorldState(): AdWorldState {
  return {
    clock: null,
    revisions: [],
    meta: { throttleNext: 0, throttleAfter: 0, throttleCode: 17, retrySeconds: 60 },
    googleAds: { quotaErrorsNext: 0, batchSize: DEFAULT_GOOGLE_ADS_BATCH_SIZE, retrySeconds: 30 },
    ga4: { quotaErrorsNext: 0 },
    requests: [],
  };
}

export function worldNow(state: AdWorldState): Date {
  return state.clock ?? new Date();
}

export function worldOptions(state: AdWorldState): WorldOptions {
  return { revisions: state.revisions };
}

export function logRequest(state: AdWorldState, entry: Omit<RequestLogEntry, 'at'>): void {
  state.requests.push({ at: new Date().toISOString(), ...entry });
  if (state.requests.length > MAX_LOGGED_REQUESTS)
    state.requests.splice(0, state.requests.length - MAX_LOGGED_REQUESTS);
}

/** Removes secrets from a logged URL. */
export function redactUrl(url: URL): string {
  const params = new URLSearchParams(url.search);
  for (const key of ['access_token', 'refresh_token', 'client_secret'])
    if (params.has(key)) params.set(key, 'REDACTED');
  const query = params.toString();
  return query ? `${url.pathname}?${query}` : url.pathname;
}

/** Records an explicit restatement: the days' figures are multiplied by `factor` from now on. */
export function revise(
  state: AdWorldState,
  channel: WorldChannel,
  accountId: string,
  dates: string[],
  factor: number,
): Revision {
  const revision = { channel, accountId, dates: [...dates], factor };
  state.revisions.push(revision);
  return revision;
}

/** Puts a state back to its initial values (real clock, no revisions, no pending errors, empty log). */
export function resetAdWorldState(state: AdWorldState): void {
  Object.assign(state, createAdWorldState());
}

const clockSchema = z.strictObject({ now: z.iso.datetime({ offset: true }).nullable() });
const reviseSchema = z.strictObject({
  channel: z.enum(['meta', 'google_ads', 'ga4']),
  accountId: z.string().min(1),
  dates: z.array(z.iso.date()).min(1),
  factor: z.number().positive().max(100),
});

function worldView(state: AdWorldState) {
  return {
    clock: state.clock?.toISOString() ?? null,
    now: worldNow(state).toISOString(),
    revisions: state.revisions,
    accounts: SANDBOX_ACCOUNTS,
  };
}

/**
 * The world's control routes (mounted at /_world): the clock, explicit revisions, a reset and the log of
 * requests the emulators answered.
 */
export function createAdWorldControl(state: AdWorldState) {
  const badRequest = (message: string) => ({ error: { code: 'invalid_request', message } });
  return new Hono()
    .get('/', (c) => c.json(worldView(state)))
    .post('/clock', async (c) => {
      const parsed = clockSchema.safeParse(await c.req.json().catch(() => null));
      if (!parsed.success) return c.json(badRequest('expected {now: ISO date-time with offset | null}'), 400);
      state.clock = parsed.data.now === null ? null : new Date(parsed.data.now);
      return c.json(worldView(state));
    })
    .post('/revise', async (c) => {
      const parsed = reviseSchema.safeParse(await c.req.json().catch(() => null));
      if (!parsed.success) return c.json(badRequest('expected {channel, accountId, dates: YYYY-MM-DD[], factor}'), 400);
      const { channel, accountId, dates, factor } = parsed.data;
      if (!isKnownAccount(channel, accountId))
        return c.json(badRequest(`unknown ${channel} account ${accountId}`), 400);
      return c.json({ revision: revise(state, channel, accountId, dates, factor), revisions: state.revisions });
    })
    .post('/reset', (c) => {
      resetAdWorldState(state);
      return c.json(worldView(state));
    })
    .get('/requests', (c) => {
      const service = c.req.query('service');
      return c.json({ requests: service ? state.requests.filter((r) => r.service === service) : state.requests });
    })
    .delete('/requests', (c) => {
      state.requests.length = 0;
      return c.body(null, 204);
    });
}
