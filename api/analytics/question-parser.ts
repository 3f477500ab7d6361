/**
 * The offline engine of /v1/analytics/ask: a deterministic parser for the common ways staff ask about
 * performance ("Show me the cost per lead for The Reserve last week compared to Google Ads"). It recognizes
 * metrics, one property by (fuzzy) name, channels, relative and absolute dates, comparisons and intervals, and
 * reports every word it could not use, so the answer says plainly what it did and did not understand. It is
 * not a language model and does not pretend to be one.
 *
 * Relative dates are resolved in the matched property's time zone (or the organization's first property's),
 * because "yesterday" for a property in Honolulu is not yesterday in New York. Weeks are ISO weeks (Monday to
 * Sunday); "last week" is the previous ISO week, "this week" runs from Monday to today.
 */
import {
  addDays,
  addMonths,
  daysInclusive,
  endOfMonth,
  isIsoDate,
  startOfIsoWeek,
  startOfMonth,
  todayIn,
} from './dates';
import type { Interval } from './dates';
import type { Metric } from './query';

export interface ParserProperty {
  id: string;
  name: string;
  timezone: string;
}

export interface ParseContext {
  properties: ParserProperty[];
  now: Date;
  /** Used when no property is named: the organization's first property's zone (or UTC). */
  defaultTimezone: string;
}

export interface ParsedQuestion {
  metrics: Metric[];
  property: ParserProperty | null;
  /** Set when a name matched several properties equally well; the question cannot be answered as asked. */
  ambiguousProperties: ParserProperty[];
  /** Channel filter (empty = all channels). */
  channels: string[];
  groupBy: 'channel' | undefined;
  /** The channel(s) the question compares against, for the interpretation. */
  comparedChannels: string[];
  dateRange: { start: string; end: string };
  /** e.g. "last week", or "the last 30 days (no date given)". */
  dateLabel: string;
  dateGiven: boolean;
  interval: Interval;
  intervalGiven: boolean;
  timezone: string;
  /** Things the parser could not use, as the words appeared. */
  unrecognized: string[];
  /** A problem that stops the question being answered as asked (e.g. an end before a start). */
  problem: string | null;
}

export const METRIC_LABELS: Record<Metric, string> = {
  spend: 'spend',
  leads: 'leads',
  cpa: 'cost per lead',
  impressions: 'impressions',
  clicks: 'clicks',
  ctr: 'click-through rate',
  cpc: 'cost per click',
};

export const CHANNEL_LABELS: Record<string, string> = { meta: 'Meta', google_ads: 'Google Ads' };

/** Longer phrases first, so "cost per lead" is not read as "cost" + "lead". */
const METRIC_PATTERNS: [RegExp, Metric][] = [
  [/\b(cost per (lead|conversion|acquisition|result)s?|cpl|cpa|cost\/lead)\b/g, 'cpa'],
  [/\b(cost per click|cpc)\b/g, 'cpc'],
  [/\b(click[- ]?through[- ]?rates?|ctr)\b/g, 'ctr'],
  [/\b(ad spend|spend(ing)?|spent|costs?)\b/g, 'spend'],
  [/\b(leads?|conversions?)\b/g, 'leads'],
  [/\b(clicks?)\b/g, 'clicks'],
  [/\b(impressions?|impr)\b/g, 'impressions'],
];

const CHANNEL_PATTERNS: [RegExp, string][] = [
  [/\b(google ads|google adwords|adwords|google)\b/g, 'google_ads'],
  [/\b(meta ads|meta|facebook ads|facebook|fb|instagram|ig)\b/g, 'meta'],
];

/** Sources that are not ad channels of the facts: recognized so they are reported, never silently used. */
const UNSUPPORTED_SOURCES = /\b(google analytics|ga4)\b/g;

const COMPARISON = /\b(compared? (to|with|against)|comparison (to|with)|compare|comparing|vs\.?|versus|against)\b/g;
const BY_CHANNEL =
  /\b((broken down|split|break(down)?|grouped|group) )?(by|per|for each|each|across) (channel|platform|source)s?\b/g;

const INTERVAL_PATTERNS: [RegExp, Interval][] = [
  [/\b(daily|(by|per|each) day|day by day)\b/g, 'day'],
  [/\b(weekly|(by|per|each) week|week over week)\b/g, 'week'],
  [/\b(monthly|(by|per|each) month|month over month)\b/g, 'month'],
];

const MONTHS = [
  'january',
  'february',
  'march',
  'april',
  'may',
  'june',
  'july',
  'august',
  'september',
  'october',
  'november',
  'december',
];
const MONTH_RE =
  '(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)';
const NUMBER_WORDS: Record<string, number> = {
  one: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
  ten: 10,
  eleven: 11,
  twelve: 12,
  fourteen: 14,
  thirty: 30,
  sixty: 60,
  ninety: 90,
};

/** Words that carry no meaning for the query; never reported as unrecognized. */
const STOPWORDS = new Set(
  `a an the me us our my we i you show give tell get see what whats what's was were is are be been how much many did do does
  for of in on at to from by with and or per about over during please total totals overall all across number
  chart graph plot trend trends performance performing perform numbers metrics data report ads ad campaign campaigns
  it its this that there their which where when who them can could would should like look looking between
  so far up till until through thru than versus vs property properties our channel channels`
    .split(/\s+/)
    .filter(Boolean),
);

/** Generic words in property names that identify nothing on their own. */
const GENERIC_NAME_WORDS = new Set([
  'the',
  'at',
  'on',
  'of',
  'and',
  'in',
  'by',
  'apartments',
  'apartment',
  'apts',
  'homes',
  'residences',
]);

type DateSpec = { label: string; resolve: (today: string) => { start: string; end: string } };

interface Scanner {
  text: string;
  rest: string;
}

/** Finds every match of `re` in what is left, blanks it out, and returns the matches. */
function consume(s: Scanner, re: RegExp): RegExpExecArray[] {
  const found: RegExpExecArray[] = [];
  re.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s.rest))) {
    found.push(m);
    if (m[0].length === 0) re.lastIndex++;
  }
  for (const m of found)
    s.rest = s.rest.slice(0, m.index) + ' '.repeat(m[0].length) + s.rest.slice(m.index + m[0].length);
  return found;
}

function monthIndex(word: string): number {
  return MONTHS.findIndex((m) => m.startsWith(word.slice(0, 3)));
}

function monthName(word: string): string {
  const name = MONTHS[monthIndex(word)]!;
  return name[0]!.toUpperCase() + name.slice(1);
}

/** The first day of a month; without a year, the most recent such month that has started. */
function monthStart(mi: number, year: string | undefined, today: string): string {
  let y = year ? Number(year) : Number(today.slice(0, 4));
  if (!year && `${y}-${String(mi + 1).padStart(2, '0')}-01` > today) y -= 1;
  return `${y}-${String(mi + 1).padStart(2, '0')}-01`;
}

function numberFrom(word: string): number | null {
  if (/^\d+$/.test(word)) return Number(word);
  return NUMBER_WORDS[word] ?? null;
}

/** Recognizes the first date expression (earlier patterns win) and blanks every date phrase it used. */
function parseDates(s: Scanner): DateSpec | null {
  const iso = '(\\d{4}-\\d{2}-\\d{2})';
  const range = consume(s, new RegExp(`\\b(?:from |between )?${iso} (?:to|and|through|thru|until|-|–) ${iso}\\b`, 'g'));
  if (range.length) {
    const [, a, b] = range[0]!;
    return { label: `${a} to ${b}`, resolve: () => ({ start: a!, end: b! }) };
  }
  const since = consume(s, new RegExp(`\\bsince ${iso}\\b`, 'g'));
  if (since.length) {
    const a = since[0]![1]!;
    return { label: `since ${a}`, resolve: (today) => ({ start: a, end: today }) };
  }
  const single = consume(s, new RegExp(`\\b(?:on )?${iso}\\b`, 'g'));
  if (single.length) {
    const a = single[0]![1]!;
    return { label: a, resolve: () => ({ start: a, end: a }) };
  }
  const lastN = consume(s, /\b(?:the )?(?:last|past|previous|prior) (\d{1,4}|[a-z]+) (days?|weeks?|months?)\b/g).find(
    (m) => numberFrom(m[1]!) !== null,
  );
  if (lastN) {
    const n = numberFrom(lastN[1]!)!;
    const unit = lastN[2]!.replace(/s$/, '');
    return {
      label: `the last ${n} ${unit}${n === 1 ? '' : 's'}`,
      resolve: (today) =>
        unit === 'day'
          ? { start: addDays(today, 1 - n), end: today }
          : unit === 'week'
            ? { start: addDays(today, 1 - 7 * n), end: today }
            : { start: addDays(addMonths(today, -n), 1), end: today },
    };
  }
  const relative: [RegExp, string, (today: string) => { start: string; end: string }][] = [
    [/\btoday\b/g, 'today', (t) => ({ start: t, end: t })],
    [/\byesterday\b/g, 'yesterday', (t) => ({ start: addDays(t, -1), end: addDays(t, -1) })],
    [/\b(?:this|current) week\b|\bweek to date\b|\bwtd\b/g, 'this week', (t) => ({ start: startOfIsoWeek(t), end: t })],
    [
      /\b(?:last|previous|prior) week\b/g,
      'last week',
      (t) => ({ start: addDays(startOfIsoWeek(t), -7), end: addDays(startOfIsoWeek(t), -1) }),
    ],
    [/\bpast week\b/g, 'the past 7 days', (t) => ({ start: addDays(t, -6), end: t })],
    [
      /\b(?:this|current) month\b|\bmonth to date\b|\bmtd\b/g,
      'this month',
      (t) => ({ start: startOfMonth(t), end: t }),
    ],
    [
      /\b(?:last|previous|prior) month\b/g,
      'last month',
      (t) => ({ start: addMonths(startOfMonth(t), -1), end: addDays(startOfMonth(t), -1) }),
    ],
    [
      /\b(?:this|current) year\b|\byear to date\b|\bytd\b/g,
      'this year',
      (t) => ({ start: `${t.slice(0, 4)}-01-01`, end: t }),
    ],
    [
      /\b(?:last|previous|prior) year\b/g,
      'last year',
      (t) => ({ start: `${Number(t.slice(0, 4)) - 1}-01-01`, end: `${Number(t.slice(0, 4)) - 1}-12-31` }),
    ],
  ];
  for (const [re, label, resolve] of relative) {
    if (consume(s, re).length) return { label, resolve };
  }
  const quarter = consume(s, /\b(?:in |during )?q([1-4])(?:[ -]?(\d{4}))?\b/g);
  if (quarter.length) {
    const q = Number(quarter[0]![1]);
    const year = quarter[0]![2];
    return {
      label: `Q${q}${year ? ` ${year}` : ''}`,
      resolve: (today) => {
        // Without a year: the most recent such quarter that has started.
        let y = year ? Number(year) : Number(today.slice(0, 4));
        if (!year && `${y}-${String(3 * q - 2).padStart(2, '0')}-01` > today) y -= 1;
        const start = `${y}-${String(3 * q - 2).padStart(2, '0')}-01`;
        return { start, end: endOfMonth(addMonths(start, 2)) };
      },
    };
  }
  // "from September to November 2026", "between Jan and Mar", "since September", "since March 2025".
  const monthRange = consume(
    s,
    new RegExp(
      `\\b(?:from |between )?${MONTH_RE},?(?: (\\d{4}))? (?:to|and|through|thru|until|-|–) ${MONTH_RE},?(?: (\\d{4}))?\\b`,
      'g',
    ),
  );
  if (monthRange.length) {
    const [, m1, y1, m2, y2] = monthRange[0]!;
    return {
      label: `${monthName(m1!)}${y1 ? ` ${y1}` : ''} to ${monthName(m2!)}${y2 ? ` ${y2}` : ''}`,
      resolve: (today) => {
        // A year given once applies to both ends ("Sep to Nov 2026"); an end month before the start month
        // without years crosses a year edge ("Nov to Feb").
        const endYear = y2 ?? y1;
        const end = endOfMonth(monthStart(monthIndex(m2!), endYear, today));
        let start = `${y1 ?? end.slice(0, 4)}-${String(monthIndex(m1!) + 1).padStart(2, '0')}-01`;
        if (!y1 && start > end) start = addMonths(start, -12);
        return { start, end };
      },
    };
  }
  const sinceMonth = consume(s, new RegExp(`\\bsince ${MONTH_RE},?(?: (\\d{4}))?\\b`, 'g'));
  if (sinceMonth.length) {
    const [, m, y] = sinceMonth[0]!;
    return {
      label: `since ${monthName(m!)}${y ? ` ${y}` : ''}`,
      resolve: (today) => ({ start: monthStart(monthIndex(m!), y, today), end: today }),
    };
  }
  const monthYear = consume(s, new RegExp(`\\b(?:in |during |for )?${MONTH_RE},? (\\d{4})\\b`, 'g'));
  const monthOnly = monthYear.length ? [] : consume(s, new RegExp(`\\b(?:in|during) ${MONTH_RE}\\b`, 'g'));
  const month = monthYear[0] ?? monthOnly[0];
  if (month) {
    const mi = monthIndex(month[1]!);
    const year = month[2];
    const name = MONTHS[mi]![0]!.toUpperCase() + MONTHS[mi]!.slice(1);
    return {
      label: `${name}${year ? ` ${year}` : ''}`,
      resolve: (today) => {
        let y = year ? Number(year) : Number(today.slice(0, 4));
        if (!year && `${y}-${String(mi + 1).padStart(2, '0')}-01` > today) y -= 1;
        const start = `${y}-${String(mi + 1).padStart(2, '0')}-01`;
        return { start, end: endOfMonth(start) };
      },
    };
  }
  const year = consume(s, /\b(?:in |during )(20\d{2})\b/g);
  if (year.length) {
    const y = year[0]![1]!;
    return { label: y, resolve: () => ({ start: `${y}-01-01`, end: `${y}-12-31` }) };
  }
  return null;
}

function editDistanceAtMostOne(a: string, b: string): boolean {
  if (a === b) return true;
  if (Math.abs(a.length - b.length) > 1) return false;
  let i = 0;
  let j = 0;
  let edits = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      i++;
      j++;
      continue;
    }
    if (++edits > 1) return false;
    if (a.length > b.length) i++;
    else if (b.length > a.length) j++;
    else {
      i++;
      j++;
    }
  }
  return edits + (a.length - i) + (b.length - j) <= 1;
}

/** A word of the question names a word of a property: exactly, as a plural, or with one typo in a long word. */
function wordMatches(q: string, name: string): boolean {
  if (q === name || q === `${name}s` || `${q}s` === name || q === `${name}'s`) return true;
  return name.length >= 5 && q.length >= 5 && editDistanceAtMostOne(q, name);
}

interface Token {
  word: string;
  index: number;
}

function tokens(text: string): Token[] {
  const out: Token[] = [];
  const re = /[a-z0-9][a-z0-9'’]*/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text))) out.push({ word: m[0].replace(/[’]/g, "'"), index: m.index });
  return out;
}

function matchProperty(
  s: Scanner,
  props: ParserProperty[],
): { property: ParserProperty | null; ambiguous: ParserProperty[] } {
  const words = tokens(s.rest);
  const scored = props.map((p) => {
    const nameWords = tokens(p.name.toLowerCase())
      .map((t) => t.word)
      .filter((w) => w.length > 1 && !GENERIC_NAME_WORDS.has(w));
    const distinct = [...new Set(nameWords)];
    const hits = words.filter((t) => distinct.some((w) => wordMatches(t.word, w)));
    const matchedNames = distinct.filter((w) => words.some((t) => wordMatches(t.word, w)));
    return {
      p,
      hits,
      score: matchedNames.length,
      complete: distinct.length > 0 && matchedNames.length === distinct.length,
    };
  });
  const best = Math.max(0, ...scored.map((x) => x.score));
  if (best === 0) return { property: null, ambiguous: [] };
  let top = scored.filter((x) => x.score === best);
  if (top.length > 1 && top.some((x) => x.complete)) top = top.filter((x) => x.complete);
  const used = new Set(top.flatMap((x) => x.hits));
  for (const t of used) {
    s.rest = s.rest.slice(0, t.index) + ' '.repeat(t.word.length) + s.rest.slice(t.index + t.word.length);
  }
  if (top.length > 1) return { property: null, ambiguous: top.map((x) => x.p) };
  return { property: top[0]!.p, ambiguous: [] };
}

function defaultInterval(start: string, end: string): Interval {
  const days = daysInclusive(start, end);
  if (days <= 31) return 'day';
  return days <= 190 ? 'week' : 'month';
}

export function parseQuestion(question: string, ctx: ParseContext): ParsedQuestion {
  const text = question
    .toLowerCase()
    .replace(/[‘’]/g, "'")
    .replace(/[“”"]/g, ' ')
    .replace(/\s+/g, ' ')
    // US dates (10/1/2026) read as ISO, so every date pattern below sees one format.
    .replace(
      /\b(\d{1,2})\/(\d{1,2})\/(\d{4})\b/g,
      (_, m: string, d: string, y: string) => `${y}-${m.padStart(2, '0')}-${d.padStart(2, '0')}`,
    );
  const s: Scanner = { text, rest: text };
  const unrecognized: string[] = [];

  const date = parseDates(s);

  const unsupported = consume(s, UNSUPPORTED_SOURCES).map((m) => m[0]);
  unrecognized.push(...unsupported);

  const comparison = consume(s, COMPARISON).length > 0;
  const byChannel = consume(s, BY_CHANNEL).length > 0;

  let interval: Interval | null = null;
  for (const [re, value] of INTERVAL_PATTERNS) if (consume(s, re).length && !interval) interval = value;

  const metrics: Metric[] = [];
  for (const [re, metric] of METRIC_PATTERNS) {
    if (consume(s, re).length && !metrics.includes(metric)) metrics.push(metric);
  }
  // Keep the order the question used them in, which is what a reader expects to see first.
  const order = (m: Metric) => text.search(METRIC_PATTERNS.find(([, x]) => x === m)![0]);
  metrics.sort((a, b) => order(a) - order(b));

  const channels: string[] = [];
  for (const [re, channel] of CHANNEL_PATTERNS)
    if (consume(s, re).length && !channels.includes(channel)) channels.push(channel);

  const { property, ambiguous } = matchProperty(s, ctx.properties);
  const timezone = property?.timezone ?? ctx.defaultTimezone;
  const today = todayIn(timezone, ctx.now);
  const range = date ? date.resolve(today) : { start: addDays(today, -29), end: today };

  let problem: string | null = null;
  if (!isIsoDate(range.start) || !isIsoDate(range.end)) problem = `${date?.label} is not a calendar date`;
  else if (range.start > range.end) problem = `the range ${date?.label} ends before it starts`;

  // Adjacent leftover words read better as one phrase ("the moon base" → "moon base").
  let lastEnd = -1;
  for (const t of tokens(s.rest)) {
    if (STOPWORDS.has(t.word) || /^\d+$/.test(t.word)) continue;
    const adjacent =
      lastEnd >= 0 && /^\s*$/.test(s.rest.slice(lastEnd, t.index)) && /^\s*$/.test(s.text.slice(lastEnd, t.index));
    if (adjacent) unrecognized[unrecognized.length - 1] += ` ${t.word}`;
    else unrecognized.push(t.word);
    lastEnd = t.index + t.word.length;
  }

  const compare = comparison || byChannel || (channels.length > 1 && !byChannel);
  return {
    metrics,
    property,
    ambiguousProperties: ambiguous,
    // "compared to Google Ads" compares that channel with the others, so it filters nothing; two or more named
    // channels ("Meta vs Google Ads") are the ones compared; one channel alone is a filter.
    channels: compare ? (channels.length > 1 ? channels : []) : channels,
    groupBy: compare ? 'channel' : undefined,
    comparedChannels: compare ? channels : [],
    dateRange: range,
    dateLabel: date ? date.label : 'the last 30 days (no date given)',
    dateGiven: date !== null,
    interval: interval ?? defaultInterval(range.start, range.end),
    intervalGiven: interval !== null,
    timezone,
    unrecognized,
    problem,
  };
}

const INTERVAL_WORDS: Record<Interval, string> = {
  day: 'daily',
  week: 'weekly (ISO weeks from Monday)',
  month: 'monthly',
};

/** One sentence saying exactly what will run, for the answer's `interpretation`. */
export function describeInterpretation(p: ParsedQuestion): string {
  const metrics = p.metrics.map((m) => METRIC_LABELS[m]);
  const what =
    metrics.length > 1 ? `${metrics.slice(0, -1).join(', ')} and ${metrics[metrics.length - 1]}` : metrics[0];
  const where = p.property ? `for ${p.property.name}` : 'for all properties (including unmapped campaigns)';
  const channelWords = (list: string[]) => list.map((c) => CHANNEL_LABELS[c] ?? c).join(' and ');
  let how = '';
  if (p.groupBy === 'channel') {
    how =
      p.comparedChannels.length === 1
        ? `, by channel (comparing ${channelWords(p.comparedChannels)} with the other channels)`
        : p.channels.length
          ? `, comparing ${channelWords(p.channels)}`
          : ', by channel';
  } else if (p.channels.length) {
    how = ` on ${channelWords(p.channels)}`;
  }
  const when = `${p.dateLabel} (${p.dateRange.start} to ${p.dateRange.end}, dates in ${p.timezone})`;
  return `${what![0]!.toUpperCase()}${what!.slice(1)} ${where}${how}, ${when}, ${INTERVAL_WORDS[p.interval]}.`;
}
