/**
 * Synthetic lead history for LeadPulse: months of leads whose lease outcome is drawn from a known ground-truth
 * model, so a trained model's holdout AUC can be read against the best any model could do (the ground truth's
 * own AUC on the same rows) and against a linear baseline.
 *
 * The ground truth (groundTruthLeaseProbability) is deliberately not linear in the features the model sees:
 * - a response-time cliff: leads who answer our first message within 30 minutes are far likelier to lease,
 *   and the effect falls off in steps, not in proportion to the minutes;
 * - saturating interactions: the first few messages exchanged matter, the twentieth does not;
 * - source × time of day: Meta leads sent late at night (idle scrolling) rarely lease, Google Ads searches in
 *   office hours (someone actively looking) more often;
 * - disposable email addresses almost never lease.
 * Trees can represent all of this; logistic regression on the same columns cannot, hence the measured gap.
 *
 * Deterministic for a seed (its own PRNG, no Math.random), so tests and the demo get the same history.
 */
import { DateTime } from 'luxon';
import { localInquiryTime } from '../ml/lead-features';
import { createRng, type Rng } from '../ml/random';
import type { LeadFeatureInput } from '../ml/types';

export const LEAD_SOURCES = [
  'google_ads',
  'meta',
  'zillow',
  'apartments_com',
  'website',
  'walk_in',
  'referral',
] as const;
export type LeadSource = (typeof LEAD_SOURCES)[number];

export const UNIT_TYPES = ['studio', '1br', '2br', '3br'] as const;

type DomainClass = LeadFeatureInput['emailDomainClass'];

export interface SyntheticLead {
  propertyId: string;
  source: LeadSource;
  /** Unique per generated history: `hist-<seed>-<index>`. */
  externalId: string;
  receivedAt: Date;
  contact: { name: string; email: string | null; phone: string | null };
  emailDomainClass: DomainClass;
  /** SMS and emails exchanged (both directions). */
  interactions: number;
  /** Minutes from our first message to the lead's first reply; null when they never replied. */
  firstResponseMinutes: number | null;
  unitType: string | null;
  /** As known at `end`: a lease that happens after `end` is not in the data yet. */
  status: 'new' | 'tour_booked' | 'leased';
  tourAt: Date | null;
  leasedAt: Date | null;
  /** The ground-truth probability the outcome was drawn from. */
  leaseProbability: number;
}

export interface LeadHistoryOptions {
  seed: number;
  /** History ends just before this instant. */
  end: Date;
  months?: number;
  leadsPerMonth?: number;
  properties: { id: string; timezone: string }[];
}

/** Leases happen at most this long after the inquiry (tour within 12 days, lease within 30 more). */
export const MAX_DAYS_TO_LEASE = 42;

// ---------------------------------------------------------------------------------------------------------
// The ground truth

const SOURCE_EFFECT: Record<string, number> = {
  referral: 0.9,
  walk_in: 1.1,
  website: 0.35,
  zillow: 0.15,
  apartments_com: 0,
  google_ads: -0.5,
  meta: 0.3,
};

const EMAIL_EFFECT: Record<DomainClass, number> = { disposable: -4.5, corporate: 0.45, free: 0, none: -0.25 };

const UNIT_EFFECT: Record<string, number> = { studio: -0.15, '1br': 0, '2br': 0.15, '3br': 0.1 };

const INTERCEPT = -3.65;

/** The log-odds of leasing for a lead with these features (the model the history's outcomes come from). */
export function groundTruthLogOdds(lead: LeadFeatureInput): number {
  const local = localInquiryTime(lead);
  const hour = local.hour;
  let z = INTERCEPT;
  z += SOURCE_EFFECT[lead.source] ?? 0;

  // Source × time of day.
  if (lead.source === 'meta' && (hour >= 22 || hour < 5)) z -= 2.4;
  if (lead.source === 'google_ads' && hour >= 9 && hour < 17) z += 1.4;
  if (hour >= 1 && hour < 5) z -= 0.3;
  if (local.weekday >= 6) z += 0.2;

  // The response-time cliff.
  const minutes = lead.responseTimeMinutes;
  if (minutes === null) z -= 0.9;
  else if (minutes <= 30) z += 2.3;
  else if (minutes <= 120) z -= 0.3;
  else if (minutes <= 1440) z -= 0.6;
  else z -= 0.9;

  // Saturating interactions.
  z += 2.4 * (1 - Math.exp(-Math.max(0, lead.interactions) / 2)) - 1.2;

  z += EMAIL_EFFECT[lead.emailDomainClass];
  if (lead.hasPhone) z += 0.35;
  z += lead.unitType === null ? -0.2 : (UNIT_EFFECT[lead.unitType] ?? 0);
  return z;
}

export function groundTruthLeaseProbability(lead: LeadFeatureInput): number {
  return 1 / (1 + Math.exp(-groundTruthLogOdds(lead)));
}

/** The features LeadPulse sees for a synthetic lead (the property's timezone is not on the lead itself). */
export function syntheticLeadFeatures(lead: SyntheticLead, timezone: string): LeadFeatureInput {
  return {
    source: lead.source,
    receivedAt: lead.receivedAt.toISOString(),
    timezone,
    interactions: lead.interactions,
    responseTimeMinutes: lead.firstResponseMinutes,
    emailDomainClass: lead.emailDomainClass,
    hasPhone: lead.contact.phone !== null,
    unitType: lead.unitType,
  };
}

// ---------------------------------------------------------------------------------------------------------
// The generator

const SOURCE_SHARE: Record<LeadSource, number> = {
  google_ads: 0.22,
  meta: 0.2,
  zillow: 0.15,
  apartments_com: 0.14,
  website: 0.15,
  walk_in: 0.05,
  referral: 0.09,
};

/** Local hour-of-day weights by source (index = hour). */
const HOURS_DAYTIME = [1, 0.6, 0.4, 0.3, 0.3, 0.5, 1, 2, 3, 4, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 4, 3, 2.5, 1.5];
const HOUR_WEIGHTS: Record<LeadSource, number[]> = {
  // Meta: evenings and late at night, while scrolling.
  meta: [4, 3, 2, 1.5, 1, 0.5, 0.8, 1.5, 2, 2, 2, 2.5, 3, 2.5, 2, 2, 2.5, 3, 4, 5, 6, 6, 6, 5],
  // Google Ads: searches concentrate in the working day.
  google_ads: [0.6, 0.4, 0.3, 0.2, 0.2, 0.4, 1, 2, 4, 6, 6, 6, 6, 6, 6, 6, 5, 4, 3, 3, 3, 2.5, 2, 1],
  walk_in: [0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 4, 5, 5, 5, 5, 5, 5, 4, 2, 0, 0, 0, 0, 0],
  zillow: HOURS_DAYTIME,
  apartments_com: HOURS_DAYTIME,
  website: HOURS_DAYTIME,
  referral: HOURS_DAYTIME,
};

const HOUR_CHOICES = Object.fromEntries(
  LEAD_SOURCES.map((source) => [source, Object.fromEntries(HOUR_WEIGHTS[source].map((w, h) => [String(h), w]))]),
) as Record<LeadSource, Record<string, number>>;

const DOMAIN_CLASS_SHARE: Record<LeadSource, Record<DomainClass, number>> = {
  google_ads: { free: 0.62, corporate: 0.22, disposable: 0.06, none: 0.1 },
  meta: { free: 0.6, corporate: 0.1, disposable: 0.16, none: 0.14 },
  zillow: { free: 0.66, corporate: 0.2, disposable: 0.06, none: 0.08 },
  apartments_com: { free: 0.66, corporate: 0.2, disposable: 0.06, none: 0.08 },
  website: { free: 0.6, corporate: 0.25, disposable: 0.07, none: 0.08 },
  walk_in: { free: 0.45, corporate: 0.15, disposable: 0.02, none: 0.38 },
  referral: { free: 0.55, corporate: 0.35, disposable: 0.01, none: 0.09 },
};

const PHONE_SHARE: Record<LeadSource, number> = {
  google_ads: 0.75,
  meta: 0.8,
  zillow: 0.85,
  apartments_com: 0.85,
  website: 0.7,
  walk_in: 0.97,
  referral: 0.9,
};

const UNIT_SHARE = { studio: 0.15, '1br': 0.4, '2br': 0.33, '3br': 0.12 } as const;

const FREE_DOMAINS = {
  'gmail.com': 0.5,
  'yahoo.com': 0.12,
  'outlook.com': 0.1,
  'hotmail.com': 0.08,
  'icloud.com': 0.12,
  'aol.com': 0.04,
  'proton.me': 0.04,
};
const DISPOSABLE_DOMAINS = [
  'mailinator.com',
  '10minutemail.com',
  'guerrillamail.com',
  'yopmail.com',
  'tempmail.com',
  'trashmail.com',
];
const CORPORATE_DOMAINS = [
  'brightlinehealth.com',
  'northwindlogistics.com',
  'cedarpointlaw.com',
  'atlasengineering.com',
  'lonestarenergy.com',
  'bluebonnetschools.org',
  'riverbendmedical.org',
  'summitfinancialgroup.com',
  'harborviewtech.io',
  'prairiewindsolar.com',
];

const FIRST_NAMES = (
  'Olivia Liam Emma Noah Ava Elijah Sophia Mateo Isabella Lucas Mia Levi Amelia Ethan Harper James Evelyn ' +
  'Benjamin Camila Daniel Priya Wei Aisha Diego Hana Omar Sofia Jamal Grace Tomas Yuki Fatima Carlos Nora Malik ' +
  'Chloe Andre Leila Samuel Maya'
).split(' ');
const LAST_NAMES = (
  'Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Gonzalez Wilson ' +
  'Anderson Thomas Taylor Moore Jackson Martin Lee Nguyen Patel Kim Chen Okafor Silva Cohen Ali Novak Rossi Tanaka'
).split(' ');

/** Area codes for the fictional 555 numbers (unique per lead: see phoneOf). */
const AREA_CODES = ['512', '737', '214', '469', '713', '832', '210', '303', '720', '602', '480', '206'];

interface Draft extends Omit<SyntheticLead, 'externalId' | 'contact'> {
  hasPhone: boolean;
  first: string;
  last: string;
  emailNumber: number;
}

export function generateLeadHistory(options: LeadHistoryOptions): SyntheticLead[] {
  const months = options.months ?? 12;
  const leadsPerMonth = options.leadsPerMonth ?? 1200;
  if (options.properties.length === 0) throw new Error('generateLeadHistory needs at least one property');
  if (!Number.isInteger(months) || months < 1) throw new Error('months must be a positive integer');
  if (!(leadsPerMonth >= 0)) throw new Error('leadsPerMonth must be >= 0');
  for (const property of options.properties) {
    if (!DateTime.now().setZone(property.timezone).isValid) {
      throw new Error(`property ${property.id}: "${property.timezone}" is not an IANA timezone`);
    }
  }
  const end = DateTime.fromJSDate(options.end, { zone: 'utc' });
  if (!end.isValid) throw new Error('end is not a valid date');
  const start = end.minus({ months });
  const rng = createRng(options.seed);

  const drafts: Draft[] = [];
  for (let m = 0; m < months; m++) {
    const monthStart = start.plus({ months: m });
    const monthEnd = DateTime.min(start.plus({ months: m + 1 }), end);
    // Leasing season: more inquiries in late spring and summer.
    const season = 1 + 0.25 * Math.sin((2 * Math.PI * (monthStart.month - 3)) / 12);
    const count = Math.round(leadsPerMonth * season * Math.max(0.5, 1 + 0.05 * rng.normal()));
    for (let k = 0; k < count; k++) {
      const property = rng.pick(options.properties);
      const source = rng.weighted(SOURCE_SHARE);
      const receivedAt = drawInquiryTime(rng, source, property.timezone, monthStart, monthEnd);
      drafts.push(drawLead(rng, property, source, receivedAt, end));
    }
  }

  // Oldest first; ids and phone numbers follow that order so they read like an intake log.
  const order = drafts
    .map((_, i) => i)
    .sort((a, b) => drafts[a]!.receivedAt.getTime() - drafts[b]!.receivedAt.getTime() || a - b);
  return order.map((i, index) => {
    const { hasPhone, first, last, emailNumber, ...lead } = drafts[i]!;
    return {
      ...lead,
      externalId: `hist-${options.seed}-${String(index).padStart(6, '0')}`,
      contact: {
        name: `${first} ${last}`,
        email: emailOf(lead.emailDomainClass, first, last, emailNumber, index),
        phone: hasPhone ? phoneOf(index) : null,
      },
    };
  });
}

/** A local time of day typical of the source, on a random day of the month window (in the property's zone). */
function drawInquiryTime(rng: Rng, source: LeadSource, timezone: string, from: DateTime, to: DateTime): Date {
  const span = to.toMillis() - from.toMillis();
  for (;;) {
    const day = DateTime.fromMillis(from.toMillis() + rng.next() * span, { zone: timezone });
    const hour = Number(rng.weighted(HOUR_CHOICES[source]));
    const local = day.set({ hour, minute: rng.int(60), second: rng.int(60), millisecond: 0 });
    // Near the window's edges the local day can fall outside it: draw again.
    if (local.toMillis() >= from.toMillis() && local.toMillis() < to.toMillis()) return local.toJSDate();
  }
}

function drawLead(
  rng: Rng,
  property: { id: string; timezone: string },
  source: LeadSource,
  receivedAt: Date,
  end: DateTime,
): Draft {
  const emailDomainClass = rng.weighted(DOMAIN_CLASS_SHARE[source]);
  // Someone with no email address reached us by phone.
  const hasPhone = emailDomainClass === 'none' || rng.chance(PHONE_SHARE[source]);
  const unitType = rng.chance(0.08) ? null : rng.weighted(UNIT_SHARE);

  // Whether and how fast they answer our first message.
  const replyChance =
    emailDomainClass === 'disposable' ? 0.15 : source === 'referral' ? 0.75 : source === 'meta' ? 0.45 : 0.55;
  let firstResponseMinutes: number | null = null;
  let interactions: number;
  if (rng.chance(emailDomainClass === 'corporate' ? replyChance + 0.1 : replyChance)) {
    // Log-normal, median 45 minutes: a third within half an hour, a long tail over days.
    firstResponseMinutes = Math.min(4320, Math.max(1, Math.round(Math.exp(Math.log(45) + 1.6 * rng.normal()))));
    // Quick responders keep the conversation going.
    const mean = firstResponseMinutes <= 30 ? 4 : firstResponseMinutes <= 240 ? 2.5 : 1.5;
    interactions = Math.min(40, 1 + Math.round(mean * Math.exp(1.0 * rng.normal())));
  } else {
    // Only our own sequence messages.
    interactions = 1 + rng.int(3);
  }

  const features: LeadFeatureInput = {
    source,
    receivedAt: receivedAt.toISOString(),
    timezone: property.timezone,
    interactions,
    responseTimeMinutes: firstResponseMinutes,
    emailDomainClass,
    hasPhone,
    unitType,
  };
  const leaseProbability = groundTruthLeaseProbability(features);
  const leases = rng.chance(leaseProbability);
  // Most who lease toured first; some who toured did not lease.
  const tours = leases || rng.chance(Math.min(0.6, 1.5 * leaseProbability + 0.03));
  const received = DateTime.fromJSDate(receivedAt);
  const tour = tours ? received.plus({ minutes: Math.round((1 + rng.next() * 11) * 24 * 60) }) : null;
  const lease = leases && tour ? tour.plus({ minutes: Math.round((1 + rng.next() * 29) * 24 * 60) }) : null;
  // Booked roughly half-way between the inquiry and the tour.
  const bookedAt = tour ? received.plus({ milliseconds: (tour.toMillis() - received.toMillis()) / 2 }) : null;

  let status: SyntheticLead['status'] = 'new';
  if (lease && lease <= end) status = 'leased';
  else if (bookedAt && bookedAt <= end) status = 'tour_booked';
  return {
    propertyId: property.id,
    source,
    receivedAt,
    emailDomainClass,
    interactions,
    firstResponseMinutes,
    unitType,
    status,
    tourAt: tour && bookedAt && bookedAt <= end ? tour.toJSDate() : null,
    leasedAt: status === 'leased' ? lease!.toJSDate() : null,
    leaseProbability,
    hasPhone,
    first: rng.pick(FIRST_NAMES),
    last: rng.pick(LAST_NAMES),
    emailNumber: rng.int(1000),
  };
}

function emailOf(domainClass: DomainClass, first: string, last: string, n: number, index: number): string | null {
  const name = `${first}.${last}`.toLowerCase();
  // The index keeps every address unique (inbound email finds its lead by address).
  switch (domainClass) {
    case 'none':
      return null;
    case 'free': {
      const domain = pickByHash(Object.keys(FREE_DOMAINS), index, Object.values(FREE_DOMAINS));
      return `${name}${n}.${index}@${domain}`;
    }
    case 'corporate':
      return `${name}.${index}@${CORPORATE_DOMAINS[index % CORPORATE_DOMAINS.length]}`;
    case 'disposable':
      return `${first.toLowerCase()}${n}x${index}@${DISPOSABLE_DOMAINS[index % DISPOSABLE_DOMAINS.length]}`;
  }
}

/** A deterministic weighted choice from an integer (no extra PRNG draws after the sort). */
function pickByHash(items: string[], index: number, weights: number[]): string {
  const total = weights.reduce((a, b) => a + b, 0);
  let r = (((Math.imul(index + 1, 2654435761) >>> 0) % 10_000) / 10_000) * total;
  for (let i = 0; i < items.length; i++) {
    r -= weights[i]!;
    if (r < 0) return items[i]!;
  }
  return items[items.length - 1]!;
}

/**
 * +1 <area> 555 <line>: the 555 exchange marks the numbers as fictional. 7919 is coprime with 10,000, so
 * index → line is a bijection within each block of 10,000 leads and every lead gets its own number.
 */
function phoneOf(index: number): string {
  const line = (index * 7919) % 10_000;
  const area = AREA_CODES[Math.floor(index / 10_000) % AREA_CODES.length]!;
  return `+1${area}555${String(line).padStart(4, '0')}`;
}

/**
 * The training rows LeadPulse would extract from this history at `asOf` (at most the history's end): leads at
 * least `maturityDays` old (younger ones may still lease), labelled 1 when leased by then. Mirrors what the training activity reads from
 * fact_leads, for tests and benchmarks that train without a database.
 */
export function historyTrainingRows(
  leads: SyntheticLead[],
  properties: { id: string; timezone: string }[],
  options: { asOf: Date; maturityDays?: number },
): { input: LeadFeatureInput; label: 0 | 1 }[] {
  const timezones = new Map(properties.map((p) => [p.id, p.timezone]));
  const cutoff = options.asOf.getTime() - (options.maturityDays ?? 60) * 86_400_000;
  return leads
    .filter((lead) => lead.receivedAt.getTime() <= cutoff)
    .map((lead) => {
      const timezone = timezones.get(lead.propertyId);
      if (!timezone) throw new Error(`lead ${lead.externalId}: property ${lead.propertyId} is not in the list`);
      // Leased by asOf (for an asOf before the history's end, later leases are not known yet).
      const label: 0 | 1 = lead.leasedAt !== null && lead.leasedAt.getTime() <= options.asOf.getTime() ? 1 : 0;
      return { input: syntheticLeadFeatures(lead, timezone), label };
    });
}
