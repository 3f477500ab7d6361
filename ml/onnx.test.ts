import onnxProto from 'onnx-proto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { predictGbt, trainGbt } from './gbt';
import { exportGbtToOnnx, onnxFeatureCount } from './onnx-export';
import { loadOnnxScorer, type OnnxScorer } from './onnx-scorer';
import { createRng } from './random';
import type { GbtModel } from './types';

const { onnx } = onnxProto;
const FEATURES = 25;

/** Mixed columns like encoded leads: one-hots, counts, large-range minutes, negative cyclical values. */
function rows(seed: number, n: number): { X: Float32Array[]; y: number[] } {
  const rng = createRng(seed);
  const X: Float32Array[] = [];
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = new Float32Array(FEATURES);
    x[rng.int(6)] = 1; // one-hot over columns 0-5
    x[6] = rng.int(30);
    x[7] = rng.chance(0.4) ? -1 : Math.exp(4 + 2 * rng.normal());
    x[8] = Math.sin(rng.next() * 2 * Math.PI);
    x[9] = Math.cos(rng.next() * 2 * Math.PI);
    for (let f = 10; f < FEATURES; f++) x[f] = rng.normal() * (f % 3 === 0 ? 1000 : 1);
    const z = (x[0] ? 1 : -0.5) + (x[7]! >= 0 && x[7]! < 30 ? 1.5 : -0.5) + Math.min(x[6]!, 5) * 0.3 + x[8]! * x[10]!;
    X.push(x);
    y.push(rng.chance(1 / (1 + Math.exp(-z + 1))) ? 1 : 0);
  }
  return { X, y };
}

/** Rows sitting exactly on split thresholds (and one float32 step either side): where routing could differ. */
function boundaryRows(model: GbtModel, base: Float32Array[], count: number): Float32Array[] {
  const splits = model.trees.flatMap((t) => t.nodes.filter((n) => n.leaf === null));
  const out: Float32Array[] = [];
  const step = new Float32Array(1);
  const bits = new Int32Array(step.buffer);
  for (let i = 0; out.length < count; i++) {
    const split = splits[i % splits.length]!;
    const x = Float32Array.from(base[i % base.length]!);
    const which = i % 3;
    step[0] = split.threshold;
    if (which === 1) bits[0] = bits[0]! + (split.threshold >= 0 ? 1 : -1); // next float32 above
    if (which === 2) bits[0] = bits[0]! - (split.threshold > 0 ? 1 : -1); // next float32 below
    x[split.feature] = which === 0 ? split.threshold : step[0]!;
    out.push(x);
  }
  return out;
}

describe('ONNX export and onnxruntime-node scoring', () => {
  let model: GbtModel;
  let scorer: OnnxScorer;
  let testRows: Float32Array[];
  let bytes: Uint8Array;

  beforeAll(async () => {
    const train = rows(1, 8000);
    const validation = rows(2, 2000);
    model = trainGbt(train, validation, { maxRounds: 300, maxDepth: 5 }).model;
    bytes = exportGbtToOnnx(model);
    scorer = await loadOnnxScorer(bytes);
    const plain = rows(3, 2000).X;
    testRows = [...plain, ...boundaryRows(model, plain, 1500)];
  });
  afterAll(async () => {
    await scorer?.release();
  });

  test('the model is a real ensemble (not trivially small)', () => {
    expect(model.trees.length).toBeGreaterThan(20);
    expect(model.trees.some((t) => t.nodes.length > 15)).toBe(true);
  });

  test('batch predictions match the trainer to < 1e-5 over 3,500 rows, threshold-boundary rows included', async () => {
    const onnxP = await scorer.predict(testRows);
    expect(onnxP).toHaveLength(testRows.length);
    let maxDiff = 0;
    testRows.forEach((x, i) => {
      maxDiff = Math.max(maxDiff, Math.abs(onnxP[i]! - predictGbt(model, x)));
    });
    console.log(`ONNX parity (batch of ${testRows.length}): max |diff| = ${maxDiff.toExponential(2)}`);
    expect(maxDiff).toBeLessThan(1e-5);
    // The predictions are spread out, so a routing error would show.
    const spread = Math.max(...onnxP) - Math.min(...onnxP);
    expect(spread).toBeGreaterThan(0.5);
  });

  test('single-row predictions match too (and equal the batch ones), 2,000 rows', async () => {
    // 1,000 ordinary rows and 1,000 boundary rows.
    const sample = testRows.slice(1000, 3000);
    const batch = await scorer.predict(sample);
    let maxDiff = 0;
    for (let i = 0; i < sample.length; i++) {
      const [single] = await scorer.predict([sample[i]!]);
      maxDiff = Math.max(maxDiff, Math.abs(single! - predictGbt(model, sample[i]!)));
      expect(single).toBe(batch[i]);
    }
    expect(maxDiff).toBeLessThan(1e-5);
  });

  test('the file declares what serving relies on', () => {
    expect(scorer.featureCount).toBe(FEATURES);
    expect(onnxFeatureCount(bytes)).toBe(FEATURES);
    const decoded = onnx.ModelProto.decode(bytes);
    expect(Number(decoded.irVersion)).toBe(8);
    expect(decoded.producerName).toMatch(/p11-console/);
    expect(decoded.docString).toMatch(/gradient-boosted trees/);
    const opsets = Object.fromEntries(decoded.opsetImport.map((o) => [o.domain ?? '', Number(o.version)]));
    expect(opsets).toEqual({ '': 17, 'ai.onnx.ml': 3 });
    const node = decoded.graph!.node![0]!;
    expect(node.opType).toBe('TreeEnsembleClassifier');
    expect(node.domain).toBe('ai.onnx.ml');
    const attr = (name: string) => node.attribute!.find((a) => a.name === name)!;
    expect(new TextDecoder().decode(attr('post_transform').s!)).toBe('LOGISTIC');
    expect(attr('classlabels_int64s').ints!.map(Number)).toEqual([0, 1]);
    expect(attr('class_ids').ints!.every((i) => Number(i) === 0)).toBe(true);
    expect(attr('base_values').floats).toEqual([model.baseScore]);
    const leaves = model.trees.reduce((s, t) => s + t.nodes.filter((n) => n.leaf !== null).length, 0);
    expect(attr('class_weights').floats).toHaveLength(leaves);
    expect(decoded.graph!.output!.map((o) => o.name)).toEqual(['label', 'probabilities']);
  });

  test('rejects rows of the wrong length; an empty batch needs no run', async () => {
    await expect(scorer.predict([new Float32Array(FEATURES - 1)])).rejects.toThrow(/expects 25/);
    expect(await scorer.predict([])).toHaveLength(0);
  });

  test('a model without trees scores its base rate', async () => {
    const empty: GbtModel = { kind: 'gbt', baseScore: Math.fround(-1.5), trees: [], featureCount: 3 };
    const s = await loadOnnxScorer(exportGbtToOnnx(empty));
    try {
      const [p] = await s.predict([Float32Array.of(1, 2, 3)]);
      expect(p).toBeCloseTo(1 / (1 + Math.exp(1.5)), 6);
    } finally {
      await s.release();
    }
  });

  test('refuses values ONNX would round (not float32)', () => {
    const bad: GbtModel = {
      kind: 'gbt',
      baseScore: 0,
      featureCount: 1,
      trees: [
        {
          nodes: [
            { feature: 0, threshold: 0.1, left: 1, right: 2, leaf: null, value: 0, cover: 2 },
            { feature: -1, threshold: 0, left: 0, right: 0, leaf: 0.5, value: 0.5, cover: 1 },
            { feature: -1, threshold: 0, left: 0, right: 0, leaf: -0.5, value: -0.5, cover: 1 },
          ],
        },
      ],
    };
    expect(() => exportGbtToOnnx(bad)).toThrow(/threshold 0.1 is not a finite float32/);
    bad.trees[0]!.nodes[0]!.threshold = Math.fround(0.1);
    expect(() => exportGbtToOnnx(bad)).not.toThrow();
  });
});
