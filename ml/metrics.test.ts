import { describe, expect, test } from 'vitest';
import { auc, calibrationByDecile, evaluate, logLoss } from './metrics';
import { createRng } from './random';

/** O(n²) definition: share of (positive, negative) pairs ordered correctly, ties counting one half. */
function pairwiseAuc(y: number[], p: number[]): number {
  let sum = 0;
  let pairs = 0;
  for (let i = 0; i < y.length; i++) {
    if (y[i] !== 1) continue;
    for (let j = 0; j < y.length; j++) {
      if (y[j] !== 0) continue;
      pairs++;
      sum += p[i]! > p[j]! ? 1 : p[i] === p[j] ? 0.5 : 0;
    }
  }
  return sum / pairs;
}

describe('auc', () => {
  test('perfect, inverted and all-tied rankings', () => {
    const y = [0, 0, 0, 1, 1];
    expect(auc(y, [0.1, 0.2, 0.3, 0.8, 0.9])).toBe(1);
    expect(auc(y, [0.9, 0.8, 0.7, 0.2, 0.1])).toBe(0);
    expect(auc(y, [0.5, 0.5, 0.5, 0.5, 0.5])).toBe(0.5);
  });

  test('hand-computed cases, with and without ties', () => {
    // positive 0.35 beats negative 0.1, loses to 0.4; positive 0.8 beats both: 3 of 4 pairs
    expect(auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])).toBe(0.75);
    // positive 0.5 ties negative 0.5 (one half) and beats 0.2; positive 0.9 beats both: 3.5 of 4
    expect(auc([0, 1, 0, 1], [0.5, 0.5, 0.2, 0.9])).toBe(0.875);
  });

  test('matches the pairwise definition on random data with many ties', () => {
    const rng = createRng(11);
    const y: number[] = [];
    const p: number[] = [];
    for (let i = 0; i < 400; i++) {
      const label = rng.chance(0.3) ? 1 : 0;
      y.push(label);
      // Rounded to one decimal: plenty of ties, within and across classes.
      p.push(Math.round((rng.next() * 0.7 + label * 0.3) * 10) / 10);
    }
    expect(auc(y, p)).toBeCloseTo(pairwiseAuc(y, p), 12);
  });

  test('rejects one-class labels, non-binary labels and mismatched lengths', () => {
    expect(() => auc([1, 1], [0.2, 0.3])).toThrow(/positive and one negative/);
    expect(() => auc([0, 2], [0.2, 0.3])).toThrow(/not 0 or 1/);
    expect(() => auc([0, 1], [0.2])).toThrow(/differ in length/);
    expect(() => auc([0, 1], [0.2, Number.NaN])).toThrow(/not a number/);
  });
});

describe('logLoss', () => {
  test('mean negative log-likelihood', () => {
    expect(logLoss([1, 0], [0.8, 0.3])).toBeCloseTo(-(Math.log(0.8) + Math.log(0.7)) / 2, 12);
    expect(logLoss([1, 1, 0], [0.5, 0.5, 0.5])).toBeCloseTo(Math.log(2), 12);
  });

  test('clips certain wrong predictions instead of returning Infinity', () => {
    const loss = logLoss([1, 0], [0, 1]);
    expect(Number.isFinite(loss)).toBe(true);
    expect(loss).toBeCloseTo(-Math.log(1e-15), 2);
  });
});

describe('calibrationByDecile', () => {
  test('ten equal groups by predicted score, lowest first', () => {
    // Shuffled input order: deciles must follow the scores, not the rows' order.
    const rows = createRng(3).shuffle(Array.from({ length: 100 }, (_, i) => i));
    const p = rows.map((i) => i / 100);
    const y = rows.map((i) => (i >= 90 ? 1 : 0));
    const deciles = calibrationByDecile(y, p);
    expect(deciles.map((d) => d.decile)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(deciles.every((d) => d.count === 10)).toBe(true);
    expect(deciles[0]!.meanPredicted).toBeCloseTo(0.045, 12);
    expect(deciles[9]!.meanPredicted).toBeCloseTo(0.945, 12);
    expect(deciles.map((d) => d.observedRate)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
  });

  test('uneven sizes split as evenly as possible; fewer than ten rows leave deciles out', () => {
    const p = Array.from({ length: 25 }, (_, i) => i / 25);
    const y = p.map((_, i) => i % 2);
    const deciles = calibrationByDecile(y, p);
    expect(deciles.reduce((s, d) => s + d.count, 0)).toBe(25);
    expect(deciles.every((d) => d.count === 2 || d.count === 3)).toBe(true);
    expect(calibrationByDecile([0, 1, 1], [0.1, 0.5, 0.9])).toHaveLength(3);
  });
});

describe('evaluate', () => {
  test('bundles AUC, log loss and calibration', () => {
    const y = [0, 0, 1, 1];
    const p = [0.1, 0.4, 0.35, 0.8];
    const result = evaluate(y, p);
    expect(result.auc).toBe(0.75);
    expect(result.logLoss).toBeCloseTo(logLoss(y, p), 12);
    expect(result.calibration).toEqual(calibrationByDecile(y, p));
  });
});
