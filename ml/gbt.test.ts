import { describe, expect, test } from 'vitest';
import { DEFAULT_GBT_PARAMS, leafIndex, predictGbt, predictGbtRaw, trainGbt, type GbtDataset } from './gbt';
import { predictLogistic, trainLogistic } from './logistic';
import { auc } from './metrics';
import { createRng } from './random';
import type { GbtModel } from './types';

/** Rows of `features` uniform values in [-1, 1]; the label from `target` on the row, flipped with `noise`. */
function dataset(
  seed: number,
  rows: number,
  features: number,
  target: (x: Float32Array) => boolean,
  noise = 0.05,
): GbtDataset & { y: number[] } {
  const rng = createRng(seed);
  const X: Float32Array[] = [];
  const y: number[] = [];
  for (let r = 0; r < rows; r++) {
    const x = new Float32Array(features);
    for (let f = 0; f < features; f++) x[f] = rng.next() * 2 - 1;
    X.push(x);
    y.push(target(x) !== rng.chance(noise) ? 1 : 0);
  }
  return { X, y };
}

const xor = (x: Float32Array) => x[0]! > 0 !== x[1]! > 0;

function allNodes(model: GbtModel) {
  return model.trees.flatMap((t) => t.nodes);
}

describe('trainGbt', () => {
  test('learns XOR, which logistic regression cannot', () => {
    const train = dataset(1, 4000, 5, xor);
    const validation = dataset(2, 1000, 5, xor);
    const test_ = dataset(3, 2000, 5, xor);
    const { model } = trainGbt(train, validation, { maxRounds: 200 });
    const gbtAuc = auc(
      test_.y,
      test_.X.map((x) => predictGbt(model, x)),
    );
    const logistic = trainLogistic(train);
    const logisticAuc = auc(
      test_.y,
      test_.X.map((x) => predictLogistic(logistic, x)),
    );
    // 5 % label noise caps the achievable AUC near 0.95.
    expect(gbtAuc).toBeGreaterThan(0.9);
    expect(logisticAuc).toBeLessThan(0.6);
    expect(logisticAuc).toBeGreaterThan(0.4);
  });

  test('finds a threshold on the right feature', () => {
    const target = (x: Float32Array) => x[2]! > 0.3;
    const train = dataset(4, 3000, 4, target, 0);
    const validation = dataset(5, 1000, 4, target, 0);
    const { model } = trainGbt(train, validation, { maxRounds: 50 });
    const root = model.trees[0]!.nodes[0]!;
    expect(root.feature).toBe(2);
    expect(Math.abs(root.threshold - 0.3)).toBeLessThan(0.05);
    const test_ = dataset(6, 1000, 4, target, 0);
    const correct = test_.X.filter((x, i) => predictGbt(model, x) > 0.5 === (test_.y[i] === 1)).length;
    expect(correct / test_.X.length).toBeGreaterThan(0.97);
  });

  test('early stopping ends long before maxRounds on pure noise and keeps the best round', () => {
    const noise = () => false;
    const train = dataset(7, 2000, 6, noise, 0.5);
    const validation = dataset(8, 1000, 6, noise, 0.5);
    const result = trainGbt(train, validation, { maxRounds: 300, earlyStoppingRounds: 10, learningRate: 0.3 });
    expect(result.validationLogLoss.length).toBeLessThan(300);
    const best = result.validationLogLoss.indexOf(Math.min(...result.validationLogLoss));
    expect(result.rounds).toBe(best + 1);
    expect(result.model.trees).toHaveLength(result.rounds);
    // Stopped exactly earlyStoppingRounds rounds after the best one.
    expect(result.validationLogLoss.length).toBe(best + 1 + 10);
  });

  test('keeps boosting while the validation loss improves (no early stop on a learnable target)', () => {
    const train = dataset(9, 3000, 3, xor, 0);
    const validation = dataset(10, 1000, 3, xor, 0);
    const result = trainGbt(train, validation, { maxRounds: 40, learningRate: 0.1 });
    expect(result.validationLogLoss).toHaveLength(40);
    expect(result.rounds).toBe(40);
    expect(result.validationLogLoss[39]!).toBeLessThan(result.validationLogLoss[0]!);
  });

  test('is deterministic', () => {
    const train = dataset(11, 1500, 5, xor);
    const validation = dataset(12, 500, 5, xor);
    const a = trainGbt(train, validation, { maxRounds: 30 });
    const b = trainGbt(train, validation, { maxRounds: 30 });
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
  });

  test('thresholds and leaves are float32 values; depth, cover and node values are consistent', () => {
    const train = dataset(13, 2000, 4, xor);
    const validation = dataset(14, 500, 4, xor);
    const params = { maxRounds: 20, maxDepth: 3 };
    const { model } = trainGbt(train, validation, params);
    expect(Math.fround(model.baseScore)).toBe(model.baseScore);
    for (const node of allNodes(model)) {
      expect(Math.fround(node.threshold)).toBe(node.threshold);
      if (node.leaf !== null) expect(Math.fround(node.leaf)).toBe(node.leaf);
    }
    for (const tree of model.trees) {
      const root = tree.nodes[0]!;
      expect(root.cover).toBe(2000);
      const depth = (i: number): number => {
        const node = tree.nodes[i]!;
        if (node.leaf !== null) return 0;
        const left = tree.nodes[node.left]!;
        const right = tree.nodes[node.right]!;
        expect(left.cover + right.cover).toBe(node.cover);
        expect(left.cover).toBeGreaterThan(0);
        expect(right.cover).toBeGreaterThan(0);
        expect(node.value).toBeCloseTo((left.value * left.cover + right.value * right.cover) / node.cover, 12);
        return 1 + Math.max(depth(node.left), depth(node.right));
      };
      expect(depth(0)).toBeLessThanOrEqual(params.maxDepth);
      // The root's value is the mean output of the tree over the training rows.
      const mean = train.X.reduce((s, x) => s + tree.nodes[leafIndex(tree, x)]!.leaf!, 0) / train.X.length;
      expect(root.value).toBeCloseTo(mean, 9);
    }
  });

  test('splits a categorical feature at every boundary between its values', () => {
    const rng = createRng(15);
    const X: Float32Array[] = [];
    const y: number[] = [];
    for (let i = 0; i < 3000; i++) {
      const category = rng.int(3); // 0, 1, 2: only category 1 is positive
      X.push(Float32Array.of(category));
      y.push(category === 1 ? 1 : 0);
    }
    const { model } = trainGbt({ X, y }, { X: [], y: [] }, { maxRounds: 5, maxDepth: 2, learningRate: 1 });
    expect(predictGbt(model, Float32Array.of(1))).toBeGreaterThan(0.9);
    expect(predictGbt(model, Float32Array.of(0))).toBeLessThan(0.1);
    expect(predictGbt(model, Float32Array.of(2))).toBeLessThan(0.1);
    const thresholds = allNodes(model)
      .filter((n) => n.leaf === null)
      .map((n) => n.threshold);
    expect(new Set(thresholds)).toEqual(new Set([0.5, 1.5]));
  });

  test('predictGbtRaw is the base score plus one leaf per tree; predictGbt its sigmoid', () => {
    const train = dataset(16, 1000, 3, xor);
    const { model } = trainGbt(train, dataset(17, 300, 3, xor), { maxRounds: 10 });
    const x = train.X[0]!;
    const expected = model.trees.reduce((s, t) => s + t.nodes[leafIndex(t, x)]!.leaf!, model.baseScore);
    expect(predictGbtRaw(model, x)).toBeCloseTo(expected, 12);
    expect(predictGbt(model, x)).toBeCloseTo(1 / (1 + Math.exp(-expected)), 12);
    expect(() => predictGbtRaw(model, new Float32Array(2))).toThrow(/expected 3 features/);
  });

  test('rejects invalid parameters and labels', () => {
    const train = dataset(18, 100, 2, xor);
    expect(() => trainGbt(train, train, { maxBins: 1 })).toThrow(/maxBins/);
    expect(() => trainGbt(train, train, { learningRate: 0 })).toThrow(/learningRate/);
    expect(() => trainGbt(train, train, { maxDepth: 0 })).toThrow(/maxDepth/);
    expect(() => trainGbt({ X: train.X, y: train.y.map(() => 2) }, train)).toThrow(/not 0 or 1/);
    expect(DEFAULT_GBT_PARAMS.maxBins).toBeLessThanOrEqual(256);
  });
});

describe('trainLogistic', () => {
  test('recovers the coefficients of a logistic model in the original feature scale', () => {
    const rng = createRng(19);
    const X: number[][] = [];
    const y: number[] = [];
    for (let i = 0; i < 20_000; i++) {
      const x = [rng.normal(), 3 * rng.normal() + 5, 7]; // the third column is constant
      const z = -1 + 1.5 * x[0]! - 0.4 * x[1]!;
      X.push(x);
      y.push(rng.chance(1 / (1 + Math.exp(-z))) ? 1 : 0);
    }
    const model = trainLogistic({ X, y }, { l2: 0.01 });
    const w = model.weights.map((wi, j) => wi / model.scales[j]!);
    const intercept =
      model.intercept - model.weights.reduce((s, wi, j) => s + (wi * model.means[j]!) / model.scales[j]!, 0);
    expect(w[0]!).toBeCloseTo(1.5, 1);
    expect(w[1]!).toBeCloseTo(-0.4, 1);
    expect(Math.abs(w[2]!)).toBeLessThan(1e-9);
    expect(intercept).toBeCloseTo(-1, 1);
    expect(predictLogistic(model, [0, 5, 7])).toBeCloseTo(1 / (1 + Math.exp(-(-1 - 2))), 1);
  });
});
