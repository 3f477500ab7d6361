import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, test } from 'vitest';
import { generateLeadHistory, groundTruthLeaseProbability, historyTrainingRows } from '../sandbox/lead-history';
import { DEFAULT_GBT_PARAMS } from './gbt';
import { auc, evaluate } from './metrics';
import { loadOnnxScorer } from './onnx-scorer';
import {
  scoreWithModel,
  stratifiedSplit,
  trainLeadModel,
  TrainingDataError,
  type LeadTrainingRow,
  type TrainedLeadModel,
} from './train-lead-model';
import { encodeLead } from './lead-features';

const PROPERTIES = [
  { id: '00000000-0000-4000-8000-000000000001', timezone: 'America/Chicago' },
  { id: '00000000-0000-4000-8000-000000000002', timezone: 'America/Los_Angeles' },
  { id: '00000000-0000-4000-8000-000000000003', timezone: 'America/New_York' },
];
const END = new Date('2026-11-01T06:00:00Z');

/** GBT must beat logistic regression on the same holdout by at least this much AUC. */
const MARGIN_OVER_BASELINE = 0.02;
/** ...and come within this much of the ground truth's own AUC on that holdout (the best any model can do). */
const MAX_GAP_TO_GROUND_TRUTH = 0.03;

describe('trainLeadModel on 12 months of synthetic history', () => {
  let rows: LeadTrainingRow[];
  let trained: TrainedLeadModel;

  beforeAll(async () => {
    const history = generateLeadHistory({ seed: 2026, end: END, properties: PROPERTIES });
    rows = historyTrainingRows(history, PROPERTIES, { asOf: END, maturityDays: 60 });
    trained = await trainLeadModel(rows, { seed: 1 });
  });

  test('beats the logistic baseline by a clear margin and approaches the ground truth', () => {
    const { metrics } = trained;
    const holdoutLabels = trained.holdout.rows.map((r) => r.label);
    const truthAuc = auc(
      holdoutLabels,
      trained.holdout.rows.map((r) => groundTruthLeaseProbability(r.input)),
    );
    console.log(
      `LeadPulse on ${rows.length} synthetic leads (${metrics.trainRows}/${metrics.validationRows}/` +
        `${metrics.holdoutRows}, positive rate ${metrics.positiveRate.toFixed(3)}): holdout AUC GBT ` +
        `${metrics.holdout.auc.toFixed(4)}, logistic baseline ${metrics.baseline.auc.toFixed(4)}, ground truth ` +
        `${truthAuc.toFixed(4)}; log loss ${metrics.holdout.logLoss.toFixed(4)} vs ${metrics.baseline.logLoss.toFixed(4)}; ` +
        `${metrics.trees} trees, ${trained.spec.names.length} features, trained in ${metrics.trainingSeconds} s; ` +
        `ONNX max |diff| ${metrics.onnxMaxAbsDiff.toExponential(2)}`,
    );
    expect(metrics.holdout.auc).toBeGreaterThan(0.8);
    expect(metrics.holdout.auc - metrics.baseline.auc).toBeGreaterThan(MARGIN_OVER_BASELINE);
    expect(metrics.holdout.logLoss).toBeLessThan(metrics.baseline.logLoss);
    expect(truthAuc - metrics.holdout.auc).toBeLessThan(MAX_GAP_TO_GROUND_TRUTH);
    // A model cannot really rank better than the process that drew the labels (a little sampling luck aside).
    expect(metrics.holdout.auc).toBeLessThan(truthAuc + 0.01);
  });

  test('metrics describe the run', () => {
    const { metrics } = trained;
    expect(metrics.trainRows + metrics.validationRows + metrics.holdoutRows).toBe(rows.length);
    expect(metrics.holdoutRows).toBe(trained.holdout.rows.length);
    expect(metrics.trainRows / rows.length).toBeCloseTo(0.7, 2);
    expect(metrics.positiveRate).toBe(rows.filter((r) => r.label === 1).length / rows.length);
    expect(metrics.trees).toBe(trained.model.trees.length);
    expect(metrics.trees).toBeLessThan(DEFAULT_GBT_PARAMS.maxRounds);
    expect(metrics.onnxMaxAbsDiff).toBeLessThan(1e-5);
    expect(metrics.trainingSeconds).toBeGreaterThan(0);
    expect(trained.params).toEqual(DEFAULT_GBT_PARAMS);
    expect(trained.onnxSha256).toBe(createHash('sha256').update(trained.onnx).digest('hex'));
    expect(trained.model.featureCount).toBe(trained.spec.names.length);
    expect(trained.spec.sources).toEqual([
      'apartments_com',
      'google_ads',
      'meta',
      'referral',
      'walk_in',
      'website',
      'zillow',
    ]);
  });

  test('calibrated: mean prediction near the positive rate; the lowest decile near 0, the top one above 50 %', () => {
    const { calibration } = trained.metrics.holdout;
    expect(calibration).toHaveLength(10);
    const meanPredicted = calibration.reduce((s, d) => s + d.meanPredicted * d.count, 0) / trained.metrics.holdoutRows;
    const observed = calibration.reduce((s, d) => s + d.observedRate * d.count, 0) / trained.metrics.holdoutRows;
    expect(Math.abs(meanPredicted - observed)).toBeLessThan(0.02);
    expect(calibration[0]!.observedRate).toBeLessThan(0.03);
    expect(calibration[9]!.observedRate).toBeGreaterThan(0.5);
  });

  test('the ONNX file scores the holdout like the trainer; scoreWithModel reproduces the holdout metrics', async () => {
    const inputs = trained.holdout.rows.map((r) => r.input);
    const own = scoreWithModel(trained.model, trained.spec, inputs);
    const scorer = await loadOnnxScorer(trained.onnx);
    try {
      const viaOnnx = await scorer.predict(inputs.map((i) => encodeLead(trained.spec, i)));
      const maxDiff = Math.max(...own.map((p, i) => Math.abs(p - viaOnnx[i]!)));
      expect(maxDiff).toBeLessThan(1e-5);
      expect(maxDiff).toBe(trained.metrics.onnxMaxAbsDiff);
    } finally {
      await scorer.release();
    }
    // The incumbent path: a stored model scored on a new holdout gives comparable figures.
    const labels = trained.holdout.rows.map((r) => r.label);
    expect(evaluate(labels, own)).toEqual(trained.metrics.holdout);
  });

  test('deterministic for a seed; another seed splits differently', async () => {
    const again = await trainLeadModel(rows, { seed: 1 });
    expect(again.onnxSha256).toBe(trained.onnxSha256);
    expect({ ...again.metrics, trainingSeconds: 0 }).toEqual({ ...trained.metrics, trainingSeconds: 0 });
    const a = stratifiedSplit(rows, 1);
    const b = stratifiedSplit(rows, 2);
    expect(b.holdout.length).toBe(a.holdout.length);
    expect(b.holdout).not.toEqual(a.holdout);
    // Stratified: each part has the history's positive rate (to within one row's rounding).
    for (const part of [a.train, a.validation, a.holdout]) {
      const positives = part.filter((r) => r.label === 1).length / part.length;
      expect(Math.abs(positives - trained.metrics.positiveRate)).toBeLessThan(0.002);
    }
  });

  test('honours parameter overrides', async () => {
    const small = await trainLeadModel(rows.slice(0, 3000), { params: { maxRounds: 5, maxDepth: 2 } });
    expect(small.params).toMatchObject({ maxRounds: 5, maxDepth: 2, learningRate: DEFAULT_GBT_PARAMS.learningRate });
    expect(small.model.trees.length).toBeLessThanOrEqual(5);
    expect(small.model.trees.every((t) => t.nodes.length <= 7)).toBe(true);
  });

  test('refuses a history too small or one-sided to learn from', async () => {
    const negatives = rows.filter((r) => r.label === 0).slice(0, 500);
    const positives = rows.filter((r) => r.label === 1).slice(0, 5);
    await expect(trainLeadModel([...negatives, ...positives])).rejects.toBeInstanceOf(TrainingDataError);
    await expect(trainLeadModel(negatives)).rejects.toThrow(/at least 20 leased/);
  });
});
