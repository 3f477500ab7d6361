import { beforeAll, describe, expect, test } from 'vitest';
import { generateLeadHistory, historyTrainingRows } from '../sandbox/lead-history';
import { featureContributions, groupedContributions, topFactors } from './explain';
import { predictGbtRaw } from './gbt';
import { encodeLead } from './lead-features';
import { trainLeadModel, type TrainedLeadModel } from './train-lead-model';
import type { LeadFeatureInput } from './types';

const PROPERTIES = [{ id: '00000000-0000-4000-8000-000000000001', timezone: 'America/Chicago' }];
const END = new Date('2026-11-01T06:00:00Z');

/** An ordinary lead (Tuesday 14:00 in Chicago, a listing site, free email) with one trait varied per test. */
const lead = (overrides: Partial<LeadFeatureInput> = {}): LeadFeatureInput => ({
  source: 'apartments_com',
  receivedAt: '2026-10-13T19:00:00Z',
  timezone: 'America/Chicago',
  interactions: 3,
  responseTimeMinutes: 90,
  emailDomainClass: 'free',
  hasPhone: true,
  unitType: '1br',
  ...overrides,
});

describe('topFactors (path attribution)', () => {
  let trained: TrainedLeadModel;
  const explain = (input: LeadFeatureInput, k?: number) =>
    topFactors(trained.model, trained.spec, encodeLead(trained.spec, input), k);

  beforeAll(async () => {
    const history = generateLeadHistory({ seed: 5, end: END, properties: PROPERTIES });
    trained = await trainLeadModel(historyTrainingRows(history, PROPERTIES, { asOf: END }), { seed: 3 });
  });

  test('a lead who replied within minutes: response time is the top factor, raising the score', () => {
    const [top] = explain(lead({ responseTimeMinutes: 8 }));
    expect(top).toMatchObject({ feature: 'response time', direction: 'up' });
    expect(top!.impact).toBeGreaterThan(0.5);
  });

  test('a lead who never replied: response time lowers the score', () => {
    const factor = explain(lead({ responseTimeMinutes: null, interactions: 1 }), 10).find(
      (f) => f.feature === 'response time',
    );
    expect(factor).toMatchObject({ direction: 'down' });
  });

  test('a disposable address is the top factor, pulling the score down hard', () => {
    const [top] = explain(lead({ emailDomainClass: 'disposable' }));
    expect(top).toMatchObject({ feature: 'email domain: disposable', direction: 'down' });
    expect(top!.impact).toBeLessThan(-1);
  });

  test('contributions add up to the raw score; factors are sorted by |impact| and named by the row', () => {
    for (const input of [lead(), lead({ responseTimeMinutes: 5, interactions: 9 }), lead({ source: 'tiktok' })]) {
      const x = encodeLead(trained.spec, input);
      const raw = predictGbtRaw(trained.model, x);
      const { bias, contributions } = featureContributions(trained.model, x);
      expect(bias + contributions.reduce((s, c) => s + c, 0)).toBeCloseTo(raw, 9);
      const groups = groupedContributions(trained.model, trained.spec, x);
      expect(bias + [...groups.values()].reduce((s, c) => s + c, 0)).toBeCloseTo(raw, 9);
      const all = topFactors(trained.model, trained.spec, x, 100);
      expect(all.reduce((s, f) => s + f.impact, 0)).toBeCloseTo(raw - bias, 9);
      for (let i = 1; i < all.length; i++)
        expect(Math.abs(all[i]!.impact)).toBeLessThanOrEqual(Math.abs(all[i - 1]!.impact));
      for (const f of all) expect(f.direction).toBe(f.impact >= 0 ? 'up' : 'down');
      expect(topFactors(trained.model, trained.spec, x)).toEqual(all.slice(0, 3));
    }
    // One-hot families are named by the lead's own category.
    const names = explain(lead({ source: 'tiktok', unitType: null }), 100).map((f) => f.feature);
    expect(names.filter((n) => n.startsWith('source'))).toEqual(['source: other']);
    expect(names.filter((n) => n.startsWith('email domain'))).toEqual(['email domain: free']);
    expect(names.every((n) => !n.startsWith('unit type') || n === 'unit type: none')).toBe(true);
  });
});
