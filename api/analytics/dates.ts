/**
 * Calendar arithmetic on ISO dates ('YYYY-MM-DD'). Facts are reporting days (the ad account's own day), not
 * instants, so nothing here goes through a time zone: every computation is on UTC midnights of the date, which
 * is pure calendar math whatever the process or database session TimeZone is. A time zone is only needed to
 * answer "what day is it today for this property" (todayIn).
 */
import { DateTime } from 'luxon';

export type Interval = 'day' | 'week' | 'month';

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** True for a real calendar date written YYYY-MM-DD (rejects 2026-02-30). */
export function isIsoDate(value: string): boolean {
  const m = ISO_DATE.exec(value);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.getUTCFullYear() === Number(m[1]) && d.getUTCMonth() === Number(m[2]) - 1 && d.getUTCDate() === Number(m[3]);
}

function toUtc(date: string): Date {
  const m = ISO_DATE.exec(date);
  if (!m) throw new Error(`not an ISO date: ${date}`);
  return new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
}

function fromUtc(d: Date): string {
  return d.toISOString().slice(0, 10);
}

export function addDays(date: string, days: number): string {
  const d = toUtc(date);
  d.setUTCDate(d.getUTCDate() + days);
  return fromUtc(d);
}

/** Adds calendar months, clamping to the month's last day (2026-01-31 + 1 month = 2026-02-28). */
export function addMonths(date: string, months: number): string {
  const d = toUtc(date);
  const day = d.getUTCDate();
  const target = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + months, 1));
  const last = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  target.setUTCDate(Math.min(day, last));
  return fromUtc(target);
}

/** ISO weekday: Monday 1 … Sunday 7. */
export function isoWeekday(date: string): number {
  const dow = toUtc(date).getUTCDay();
  return dow === 0 ? 7 : dow;
}

export function startOfIsoWeek(date: string): string {
  return addDays(date, 1 - isoWeekday(date));
}

export function startOfMonth(date: string): string {
  return `${date.slice(0, 7)}-01`;
}

export function endOfMonth(date: string): string {
  return addDays(addMonths(startOfMonth(date), 1), -1);
}

/** The first day of the bucket that contains `date`. */
export function bucketStart(date: string, interval: Interval): string {
  if (interval === 'day') return date;
  return interval === 'week' ? startOfIsoWeek(date) : startOfMonth(date);
}

/** First days of every bucket overlapping [start, end], in order (the first may begin before `start`). */
export function bucketsBetween(start: string, end: string, interval: Interval): string[] {
  const out: string[] = [];
  let cursor = bucketStart(start, interval);
  while (cursor <= end) {
    out.push(cursor);
    cursor = interval === 'day' ? addDays(cursor, 1) : interval === 'week' ? addDays(cursor, 7) : addMonths(cursor, 1);
  }
  return out;
}

/** Days from start to end inclusive (1 for a single day). */
export function daysInclusive(start: string, end: string): number {
  return Math.round((toUtc(end).getTime() - toUtc(start).getTime()) / 86_400_000) + 1;
}

/** Today's date in an IANA time zone at the instant `now`. */
export function todayIn(timezone: string, now: Date): string {
  const dt = DateTime.fromJSDate(now, { zone: timezone });
  if (!dt.isValid) throw new Error(`unknown time zone: ${timezone}`);
  return dt.toISODate()!;
}
