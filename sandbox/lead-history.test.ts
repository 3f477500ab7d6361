import { DateTime } from 'luxon';
import { describe, expect, test } from 'vitest';
import { normalizePhone } from '../lib/contact';
import { emailDomainClass, localInquiryTime } from '../ml/lead-features';
import {
  generateLeadHistory,
  groundTruthLeaseProbability,
  historyTrainingRows,
  LEAD_SOURCES,
  MAX_DAYS_TO_LEASE,
  syntheticLeadFeatures,
  type SyntheticLead,
} from './lead-history';

const PROPERTIES = [
  { id: '00000000-0000-4000-8000-000000000001', timezone: 'America/Chicago' },
  { id: '00000000-0000-4000-8000-000000000002', timezone: 'America/Los_Angeles' },
];
const TIMEZONE = new Map(PROPERTIES.map((p) => [p.id, p.timezone]));
const END = new Date('2026-11-01T06:00:00Z');
const DAY = 86_400_000;

const history = generateLeadHistory({ seed: 42, end: END, properties: PROPERTIES });
const features = (lead: SyntheticLead) => syntheticLeadFeatures(lead, TIMEZONE.get(lead.propertyId)!);
const rate = (leads: SyntheticLead[]) => leads.filter((l) => l.status === 'leased').length / leads.length;
/** Leads old enough that a lease would be known. */
const mature = history.filter((l) => END.getTime() - l.receivedAt.getTime() > MAX_DAYS_TO_LEASE * DAY);

describe('generateLeadHistory', () => {
  test('is deterministic per seed', () => {
    const again = generateLeadHistory({ seed: 42, end: new Date(END), properties: PROPERTIES });
    expect(again).toEqual(history);
    const other = generateLeadHistory({ seed: 43, end: END, properties: PROPERTIES });
    expect(other.length).not.toBe(0);
    expect(other.slice(0, 50).map((l) => l.receivedAt)).not.toEqual(history.slice(0, 50).map((l) => l.receivedAt));
  });

  test('covers the 12 months before `end`, about leadsPerMonth a month, oldest first', () => {
    expect(history.length).toBeGreaterThan(12 * 1200 * 0.85);
    expect(history.length).toBeLessThan(12 * 1200 * 1.15);
    const start = DateTime.fromJSDate(END, { zone: 'utc' }).minus({ months: 12 });
    for (let m = 0; m < 12; m++) {
      const from = start.plus({ months: m }).toMillis();
      const to = start.plus({ months: m + 1 }).toMillis();
      const inMonth = history.filter((l) => l.receivedAt.getTime() >= from && l.receivedAt.getTime() < to);
      expect(inMonth.length, `month ${m}`).toBeGreaterThan(1200 * 0.6);
    }
    expect(history[0]!.receivedAt.getTime()).toBeGreaterThanOrEqual(start.toMillis());
    expect(history.at(-1)!.receivedAt.getTime()).toBeLessThan(END.getTime());
    for (let i = 1; i < history.length; i++) {
      expect(history[i]!.receivedAt.getTime()).toBeGreaterThanOrEqual(history[i - 1]!.receivedAt.getTime());
    }
  });

  test('a positive rate of 10-20 % among mature leads, drawn from the ground truth', () => {
    const positiveRate = rate(mature);
    console.log(
      `lead history: ${history.length} leads, ${mature.length} mature, positive rate ${positiveRate.toFixed(3)}`,
    );
    expect(positiveRate).toBeGreaterThan(0.1);
    expect(positiveRate).toBeLessThan(0.2);
    // The observed rate is the ground truth's mean probability (within sampling error: ~0.3 pp here).
    const meanProbability = mature.reduce((s, l) => s + l.leaseProbability, 0) / mature.length;
    expect(Math.abs(positiveRate - meanProbability)).toBeLessThan(0.015);
    for (const lead of history.slice(0, 500)) {
      expect(lead.leaseProbability).toBe(groundTruthLeaseProbability(features(lead)));
    }
  });

  test('has the ground truth’s non-linear structure in its outcomes', () => {
    const fast = mature.filter((l) => l.firstResponseMinutes !== null && l.firstResponseMinutes <= 30);
    const slower = mature.filter((l) => l.firstResponseMinutes !== null && l.firstResponseMinutes > 30);
    expect(rate(fast)).toBeGreaterThan(2 * rate(slower));
    const disposable = mature.filter((l) => l.emailDomainClass === 'disposable');
    expect(disposable.length).toBeGreaterThan(200);
    expect(rate(disposable)).toBeLessThan(0.02);
    const metaAt = (night: boolean) =>
      mature.filter((l) => {
        if (l.source !== 'meta') return false;
        const hour = localInquiryTime(features(l)).hour;
        return night === (hour >= 22 || hour < 5);
      });
    expect(rate(metaAt(true))).toBeLessThan(rate(metaAt(false)) / 2);
  });

  test('realistic, consistent leads', () => {
    expect(new Set(history.map((l) => l.source))).toEqual(new Set(LEAD_SOURCES));
    expect(new Set(history.map((l) => l.propertyId))).toEqual(new Set(PROPERTIES.map((p) => p.id)));
    expect(new Set(history.map((l) => l.externalId)).size).toBe(history.length);
    const phones = history.flatMap((l) => (l.contact.phone ? [l.contact.phone] : []));
    expect(new Set(phones).size).toBe(phones.length);
    const emails = history.flatMap((l) => (l.contact.email ? [l.contact.email] : []));
    expect(new Set(emails).size).toBe(emails.length);
    for (const lead of history) {
      expect(lead.contact.name).toMatch(/^[A-Z][a-z]+ [A-Z][a-z]+$/);
      expect(emailDomainClass(lead.contact.email)).toBe(lead.emailDomainClass);
      if (lead.contact.phone) {
        expect(normalizePhone(lead.contact.phone)).toBe(lead.contact.phone);
        expect(lead.contact.phone).toMatch(/^\+1\d{3}555\d{4}$/);
      }
      expect(lead.contact.email !== null || lead.contact.phone !== null).toBe(true);
      expect(lead.interactions).toBeGreaterThanOrEqual(1);
      if (lead.firstResponseMinutes !== null) expect(Number.isInteger(lead.firstResponseMinutes)).toBe(true);
      const received = lead.receivedAt.getTime();
      if (lead.status === 'leased') {
        expect(lead.tourAt!.getTime()).toBeGreaterThan(received);
        expect(lead.leasedAt!.getTime()).toBeGreaterThan(lead.tourAt!.getTime());
        expect(lead.leasedAt!.getTime()).toBeLessThanOrEqual(END.getTime());
        expect(lead.leasedAt!.getTime() - received).toBeLessThanOrEqual(MAX_DAYS_TO_LEASE * DAY);
      } else {
        expect(lead.leasedAt).toBeNull();
      }
      if (lead.status === 'tour_booked') expect(lead.tourAt).not.toBeNull();
      if (lead.status === 'new') expect(lead.tourAt).toBeNull();
    }
    // Walk-ins come in office hours, local time.
    for (const lead of history.filter((l) => l.source === 'walk_in')) {
      const hour = localInquiryTime(features(lead)).hour;
      expect(hour).toBeGreaterThanOrEqual(9);
      expect(hour).toBeLessThan(19);
    }
  });

  test('recent leases are not known yet: the newest weeks have fewer leased leads', () => {
    const lastWeeks = history.filter((l) => END.getTime() - l.receivedAt.getTime() < 14 * DAY);
    expect(rate(lastWeeks)).toBeLessThan(rate(mature) / 3);
  });

  test('historyTrainingRows keeps mature leads and labels leases known by asOf', () => {
    const rows = historyTrainingRows(history, PROPERTIES, { asOf: END });
    const cutoff = END.getTime() - 60 * DAY;
    expect(rows).toHaveLength(history.filter((l) => l.receivedAt.getTime() <= cutoff).length);
    expect(rows.filter((r) => r.label === 1).length).toBe(
      history.filter((l) => l.receivedAt.getTime() <= cutoff && l.status === 'leased').length,
    );
    const earlier = new Date(END.getTime() - 90 * DAY);
    const earlierRows = historyTrainingRows(history, PROPERTIES, { asOf: earlier, maturityDays: 0 });
    const known = history.filter((l) => l.receivedAt <= earlier && l.leasedAt !== null && l.leasedAt <= earlier);
    expect(earlierRows.filter((r) => r.label === 1)).toHaveLength(known.length);
    expect(() => historyTrainingRows(history, PROPERTIES.slice(1), { asOf: END })).toThrow(/not in the list/);
  });

  test('rejects bad options', () => {
    expect(() => generateLeadHistory({ seed: 1, end: END, properties: [] })).toThrow(/at least one property/);
    expect(() => generateLeadHistory({ seed: 1, end: END, properties: [{ id: 'x', timezone: 'Nope/Zone' }] })).toThrow(
      /IANA/,
    );
    expect(() => generateLeadHistory({ seed: 1, end: END, months: 0, properties: PROPERTIES })).toThrow(/months/);
  });
});
