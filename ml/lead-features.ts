/**
 * How a lead becomes LeadPulse's feature vector (seed 000 5.1: source one-hot, interactions, response time,
 * time of day cyclical, email domain class; plus day of week, phone given and unit type, which fact_leads
 * holds). The FeatureSpec built from the training rows is stored with the model, so scoring encodes exactly
 * as training did even after new sources appear (they fall into `source_other`).
 */
import { DateTime } from 'luxon';
import type { FeatureSpec, LeadFeatureInput } from './types';

export type EmailDomainClass = LeadFeatureInput['emailDomainClass'];
export const EMAIL_DOMAIN_CLASS_VALUES = ['corporate', 'free', 'disposable', 'none'] as const;

/** Webmail providers anyone can sign up to: a personal address, neither a company's nor a throwaway. */
const FREE_DOMAINS = new Set([
  'gmail.com',
  'googlemail.com',
  'yahoo.com',
  'ymail.com',
  'rocketmail.com',
  'hotmail.com',
  'outlook.com',
  'live.com',
  'msn.com',
  'passport.com',
  'icloud.com',
  'me.com',
  'mac.com',
  'aol.com',
  'aim.com',
  'proton.me',
  'protonmail.com',
  'protonmail.ch',
  'pm.me',
  'gmx.com',
  'gmx.net',
  'gmx.de',
  'mail.com',
  'email.com',
  'usa.com',
  'zoho.com',
  'zohomail.com',
  'yandex.com',
  'yandex.ru',
  'mail.ru',
  'inbox.com',
  'fastmail.com',
  'fastmail.fm',
  'hey.com',
  'tutanota.com',
  'tuta.io',
  'hushmail.com',
  'att.net',
  'sbcglobal.net',
  'bellsouth.net',
  'comcast.net',
  'xfinity.com',
  'verizon.net',
  'cox.net',
  'charter.net',
  'spectrum.net',
  'earthlink.net',
  'frontier.com',
  'optonline.net',
  'windstream.net',
  'centurylink.net',
  'juno.com',
  'netzero.net',
  'qq.com',
  '163.com',
  '126.com',
  'web.de',
  't-online.de',
  'orange.fr',
  'free.fr',
  'libero.it',
]);

/** Country variants of the big webmail brands: yahoo.co.uk, hotmail.fr, outlook.com.mx, ... */
const FREE_BRAND = /^(gmail|googlemail|yahoo|ymail|hotmail|outlook|live|aol|gmx|yandex)\.(com?\.)?[a-z]{2,3}$/;

/** Throwaway inbox services (a bundled list; the brand patterns below catch their many mirror domains). */
const DISPOSABLE_DOMAINS = new Set([
  'mailinator.com',
  'mailinator.net',
  'mailinator2.com',
  '10minutemail.com',
  '10minutemail.net',
  '20minutemail.com',
  'minuteinbox.com',
  'guerrillamail.com',
  'guerrillamail.net',
  'guerrillamail.org',
  'guerrillamailblock.com',
  'sharklasers.com',
  'grr.la',
  'pokemail.net',
  'spam4.me',
  'tempmail.com',
  'tempmail.net',
  'temp-mail.org',
  'temp-mail.io',
  'tempmailo.com',
  'tempinbox.com',
  'tempr.email',
  'tmpmail.org',
  'tmail.ws',
  'yopmail.com',
  'yopmail.fr',
  'yopmail.net',
  'trashmail.com',
  'trashmail.de',
  'trashmail.net',
  'trash-mail.com',
  'throwawaymail.com',
  'getnada.com',
  'nada.email',
  'maildrop.cc',
  'dispostable.com',
  'discard.email',
  'fakeinbox.com',
  'fakemail.net',
  'emailfake.com',
  'mailnesia.com',
  'mintemail.com',
  'mohmal.com',
  'emailondeck.com',
  'spamgourmet.com',
  'mailcatch.com',
  'burnermail.io',
  'moakt.com',
  'mytemp.email',
  'spambox.us',
  'mailpoof.com',
  'inboxkitten.com',
  'anonbox.net',
  'jetable.org',
  'mailtemp.net',
  'wegwerfmail.de',
  'byom.de',
  'einrot.com',
  'mvrht.com',
  'dropmail.me',
  'emailtemporario.com.br',
]);

const DISPOSABLE_BRAND =
  /mailinator|guerrill?amail|10minutemail|tempmail|temp-mail|trashmail|yopmail|throwaway|disposable/;

const DOMAIN = /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$/;

/** corporate / free / disposable from the address's domain; 'none' when there is no (valid) address. */
export function emailDomainClass(email: string | null): EmailDomainClass {
  if (!email) return 'none';
  const value = email.trim().toLowerCase();
  const at = value.lastIndexOf('@');
  if (at <= 0 || /\s/.test(value)) return 'none';
  const domain = value.slice(at + 1).replace(/\.$/, '');
  if (!DOMAIN.test(domain)) return 'none';
  if (matchesDomain(domain, DISPOSABLE_DOMAINS) || DISPOSABLE_BRAND.test(domain)) return 'disposable';
  if (matchesDomain(domain, FREE_DOMAINS) || FREE_BRAND.test(domain)) return 'free';
  return 'corporate';
}

/** The domain itself or any parent domain is listed (mail.yahoo.com, eu.mailinator.com). */
function matchesDomain(domain: string, list: ReadonlySet<string>): boolean {
  const labels = domain.split('.');
  for (let i = 0; i + 1 < labels.length; i++) {
    if (list.has(labels.slice(i).join('.'))) return true;
  }
  return false;
}

/** Category keys as columns use them: lower snake case ("Apartments.com" → "apartments_com"). */
export function categoryKey(value: string): string {
  return value
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
}

const WEEKDAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'] as const;

/** Sources (and unit types) rarer than this in the training rows share the `_other` column. */
export const DEFAULT_MIN_CATEGORY_COUNT = 20;

export function buildFeatureSpec(inputs: LeadFeatureInput[], options: { minSourceCount?: number } = {}): FeatureSpec {
  const min = options.minSourceCount ?? DEFAULT_MIN_CATEGORY_COUNT;
  const frequent = (values: (string | null)[]) => {
    const counts = new Map<string, number>();
    for (const value of values) {
      if (value === null) continue;
      const key = categoryKey(value);
      // "other"/"none" are the catch-all columns' own names.
      if (!key || key === 'other' || key === 'none') continue;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    return [...counts]
      .filter(([, count]) => count >= min)
      .map(([key]) => key)
      .sort();
  };
  const sources = frequent(inputs.map((i) => i.source));
  const unitTypes = frequent(inputs.map((i) => i.unitType));
  const names = [
    ...sources.map((s) => `source_${s}`),
    'source_other',
    'interactions',
    'replied',
    'response_minutes',
    'hour_sin',
    'hour_cos',
    ...WEEKDAYS.map((d) => `weekday_${d}`),
    ...EMAIL_DOMAIN_CLASS_VALUES.map((c) => `email_${c}`),
    'has_phone',
    ...unitTypes.map((u) => `unit_${u}`),
    'unit_other',
    'unit_none',
  ];
  return { version: 1, sources, unitTypes, names };
}

/** Minutes value of a lead who never replied (the `replied` column says so; trees split it off). */
export const NO_REPLY_MINUTES = -1;

/** The lead's inquiry time in the property's timezone (throws on an invalid date or timezone). */
export function localInquiryTime(input: Pick<LeadFeatureInput, 'receivedAt' | 'timezone'>): DateTime {
  const utc = DateTime.fromISO(input.receivedAt, { zone: 'utc' });
  if (!utc.isValid) throw new Error(`receivedAt "${input.receivedAt}" is not an ISO 8601 date-time`);
  const local = utc.setZone(input.timezone);
  if (!local.isValid) throw new Error(`timezone "${input.timezone}" is not an IANA timezone`);
  return local;
}

export function encodeLead(spec: FeatureSpec, input: LeadFeatureInput): Float32Array {
  if (spec.version !== 1) throw new Error(`feature spec version ${String(spec.version)} is not supported`);
  const layout = layoutOf(spec);
  const x = new Float32Array(spec.names.length);

  const source = categoryKey(input.source);
  const sourceIndex = spec.sources.indexOf(source);
  x[sourceIndex >= 0 ? sourceIndex : layout.sourceOther] = 1;

  x[layout.interactions] = Math.max(0, Number.isFinite(input.interactions) ? input.interactions : 0);
  if (input.responseTimeMinutes === null || !Number.isFinite(input.responseTimeMinutes)) {
    x[layout.replied] = 0;
    x[layout.responseMinutes] = NO_REPLY_MINUTES;
  } else {
    x[layout.replied] = 1;
    x[layout.responseMinutes] = Math.max(0, input.responseTimeMinutes);
  }

  const local = localInquiryTime(input);
  const hour = local.hour + local.minute / 60;
  x[layout.hourSin] = Math.sin((2 * Math.PI * hour) / 24);
  x[layout.hourCos] = Math.cos((2 * Math.PI * hour) / 24);
  x[layout.weekday + local.weekday - 1] = 1;

  const emailIndex = EMAIL_DOMAIN_CLASS_VALUES.indexOf(input.emailDomainClass);
  if (emailIndex < 0) {
    throw new Error(
      `email domain class "${String(input.emailDomainClass)}" is not one of ${EMAIL_DOMAIN_CLASS_VALUES}`,
    );
  }
  x[layout.email + emailIndex] = 1;
  x[layout.hasPhone] = input.hasPhone ? 1 : 0;

  if (input.unitType === null || !categoryKey(input.unitType)) {
    x[layout.unitNone] = 1;
  } else {
    const unitIndex = spec.unitTypes.indexOf(categoryKey(input.unitType));
    x[unitIndex >= 0 ? layout.unitStart + unitIndex : layout.unitOther] = 1;
  }
  return x;
}

interface Layout {
  sourceOther: number;
  interactions: number;
  replied: number;
  responseMinutes: number;
  hourSin: number;
  hourCos: number;
  weekday: number;
  email: number;
  hasPhone: number;
  unitStart: number;
  unitOther: number;
  unitNone: number;
}

function layoutOf(spec: FeatureSpec): Layout {
  const sourceOther = spec.sources.length;
  const weekday = sourceOther + 6;
  const email = weekday + WEEKDAYS.length;
  const hasPhone = email + EMAIL_DOMAIN_CLASS_VALUES.length;
  const unitStart = hasPhone + 1;
  const layout: Layout = {
    sourceOther,
    interactions: sourceOther + 1,
    replied: sourceOther + 2,
    responseMinutes: sourceOther + 3,
    hourSin: sourceOther + 4,
    hourCos: sourceOther + 5,
    weekday,
    email,
    hasPhone,
    unitStart,
    unitOther: unitStart + spec.unitTypes.length,
    unitNone: unitStart + spec.unitTypes.length + 1,
  };
  if (spec.names.length !== layout.unitNone + 1) {
    throw new Error(
      `feature spec has ${spec.names.length} names, its sources and unit types imply ${layout.unitNone + 1}`,
    );
  }
  return layout;
}

/** The families of columns explanations group by; one-hot families are named by the row's own category. */
export type FeatureFamily =
  | 'source'
  | 'interactions'
  | 'response time'
  | 'time of day'
  | 'day of week'
  | 'email domain'
  | 'phone number'
  | 'unit type';

export function featureFamilyOf(spec: FeatureSpec, columnIndex: number): FeatureFamily {
  const name = spec.names[columnIndex];
  if (name === undefined) throw new Error(`column ${columnIndex} is not in the feature spec`);
  if (name.startsWith('source_')) return 'source';
  if (name === 'interactions') return 'interactions';
  if (name === 'replied' || name === 'response_minutes') return 'response time';
  if (name === 'hour_sin' || name === 'hour_cos') return 'time of day';
  if (name.startsWith('weekday_')) return 'day of week';
  if (name.startsWith('email_')) return 'email domain';
  if (name === 'has_phone') return 'phone number';
  if (name.startsWith('unit_')) return 'unit type';
  throw new Error(`column "${name}" belongs to no feature family`);
}

/** Whether a family is one-hot (the row's value is the column that is 1). */
export function isOneHotFamily(family: FeatureFamily): boolean {
  return family === 'source' || family === 'day of week' || family === 'email domain' || family === 'unit type';
}

/**
 * Human name of a column for explanations: "source: google_ads", "response time", "time of day",
 * "day of week: saturday", "email domain: free", "phone number", "unit type: 2br", "interactions".
 */
export function featureGroupOf(spec: FeatureSpec, columnIndex: number): string {
  const family = featureFamilyOf(spec, columnIndex);
  if (!isOneHotFamily(family)) return family;
  const name = spec.names[columnIndex]!;
  const value = name.slice(name.indexOf('_') + 1);
  return `${family}: ${value}`;
}
