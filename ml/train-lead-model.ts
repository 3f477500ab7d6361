/**
 * LeadPulse's whole training run as one pure function: split → feature spec → gradient-boosted trees with
 * early stopping → logistic baseline on the same split → holdout evaluation of both → ONNX export → parity
 * check of the ONNX file against the trainer on the whole holdout. The training activity wraps this and
 * registers the result; nothing here touches the database or Temporal.
 */
import { createHash } from 'node:crypto';
import type { ModelMetrics } from '../db/schema/leadpulse';
import { DEFAULT_GBT_PARAMS, predictGbt, trainGbt } from './gbt';
import { buildFeatureSpec, encodeLead } from './lead-features';
import { predictLogistic, trainLogistic } from './logistic';
import { evaluate } from './metrics';
import { exportGbtToOnnx } from './onnx-export';
import { loadOnnxScorer } from './onnx-scorer';
import { createRng } from './random';
import type { FeatureSpec, GbtModel, GbtParams, LeadFeatureInput, LogisticModel } from './types';

export interface LeadTrainingRow {
  input: LeadFeatureInput;
  label: 0 | 1;
}

export interface TrainedLeadModel {
  spec: FeatureSpec;
  model: GbtModel;
  baseline: LogisticModel;
  onnx: Uint8Array;
  onnxSha256: string;
  params: GbtParams;
  metrics: Omit<ModelMetrics, 'incumbent'>;
  /** The holdout rows, so the caller can score the promoted (incumbent) model on the very same rows. */
  holdout: { rows: LeadTrainingRow[] };
}

export interface TrainLeadModelOptions {
  params?: Partial<GbtParams>;
  /** Seeds the train/validation/holdout split (default 1): the same rows and seed give the same model. */
  seed?: number;
  /** Passed to buildFeatureSpec. */
  minSourceCount?: number;
}

/** Too little or one-sided history: training cannot produce a meaningful model (not worth retrying). */
export class TrainingDataError extends Error {
  override name = 'TrainingDataError';
}

/** The ONNX file scores differently from the trainer: never register it. */
export class OnnxParityError extends Error {
  override name = 'OnnxParityError';
}

/** Fewest leased (and fewest not leased) leads to train on: the smaller class is split 70/15/15 too. */
export const MIN_ROWS_PER_CLASS = 20;
export const ONNX_PARITY_TOLERANCE = 1e-5;

const SPLIT = { train: 0.7, validation: 0.15 } as const;

export async function trainLeadModel(
  rows: LeadTrainingRow[],
  options: TrainLeadModelOptions = {},
): Promise<TrainedLeadModel> {
  const started = performance.now();
  const params = mergeParams(options.params);

  const positives = rows.filter((r) => r.label === 1).length;
  const negatives = rows.length - positives;
  if (positives < MIN_ROWS_PER_CLASS || negatives < MIN_ROWS_PER_CLASS) {
    throw new TrainingDataError(
      `training needs at least ${MIN_ROWS_PER_CLASS} leased and ${MIN_ROWS_PER_CLASS} not-leased leads; ` +
        `the history has ${positives} and ${negatives}`,
    );
  }
  for (const row of rows) {
    if (row.label !== 0 && row.label !== 1) throw new TrainingDataError(`label ${String(row.label)} is not 0 or 1`);
  }

  const split = stratifiedSplit(rows, options.seed ?? 1);
  const spec = buildFeatureSpec(
    split.train.map((r) => r.input),
    options.minSourceCount === undefined ? {} : { minSourceCount: options.minSourceCount },
  );
  const encode = (part: LeadTrainingRow[]) => ({
    X: part.map((r) => encodeLead(spec, r.input)),
    y: Float64Array.from(part, (r) => r.label),
  });
  const train = encode(split.train);
  const validation = encode(split.validation);
  const holdout = encode(split.holdout);

  const { model, rounds } = trainGbt(train, validation, params);
  const baseline = trainLogistic(train);

  const gbtHoldout = holdout.X.map((x) => predictGbt(model, x));
  const baselineHoldout = holdout.X.map((x) => predictLogistic(baseline, x));

  const onnx = exportGbtToOnnx(model, {
    metadata: { feature_names: spec.names.join(','), trees: String(model.trees.length) },
  });
  const scorer = await loadOnnxScorer(onnx);
  let onnxMaxAbsDiff = 0;
  try {
    const onnxHoldout = await scorer.predict(holdout.X);
    for (let i = 0; i < gbtHoldout.length; i++) {
      onnxMaxAbsDiff = Math.max(onnxMaxAbsDiff, Math.abs(onnxHoldout[i]! - gbtHoldout[i]!));
    }
  } finally {
    await scorer.release();
  }
  if (!(onnxMaxAbsDiff < ONNX_PARITY_TOLERANCE)) {
    throw new OnnxParityError(
      `ONNX predictions differ from the trainer's by up to ${onnxMaxAbsDiff} (tolerance ${ONNX_PARITY_TOLERANCE})`,
    );
  }

  return {
    spec,
    model,
    baseline,
    onnx,
    onnxSha256: createHash('sha256').update(onnx).digest('hex'),
    params,
    metrics: {
      trainRows: split.train.length,
      validationRows: split.validation.length,
      holdoutRows: split.holdout.length,
      positiveRate: positives / rows.length,
      trees: rounds,
      holdout: evaluate(holdout.y, gbtHoldout),
      baseline: evaluate(holdout.y, baselineHoldout),
      onnxMaxAbsDiff,
      trainingSeconds: Math.round(performance.now() - started) / 1000,
    },
    holdout: { rows: split.holdout },
  };
}

/** Probabilities of a stored model for these leads (the incumbent scored on a new model's holdout). */
export function scoreWithModel(model: GbtModel, spec: FeatureSpec, inputs: LeadFeatureInput[]): number[] {
  if (spec.names.length !== model.featureCount) {
    throw new Error(`feature spec has ${spec.names.length} columns, the model ${model.featureCount}`);
  }
  return inputs.map((input) => predictGbt(model, encodeLead(spec, input)));
}

/**
 * 70/15/15 per class (so each part has the history's positive rate), shuffled by a seeded PRNG; each part
 * keeps the rows' original order.
 */
export function stratifiedSplit<T extends { label: 0 | 1 }>(
  rows: T[],
  seed: number,
): { train: T[]; validation: T[]; holdout: T[] } {
  const rng = createRng(seed);
  const part = new Uint8Array(rows.length); // 0 train, 1 validation, 2 holdout
  for (const label of [0, 1] as const) {
    const indices = rows.flatMap((r, i) => (r.label === label ? [i] : []));
    rng.shuffle(indices);
    const trainCount = Math.round(indices.length * SPLIT.train);
    const validationCount = Math.round(indices.length * SPLIT.validation);
    indices.forEach((index, k) => {
      part[index] = k < trainCount ? 0 : k < trainCount + validationCount ? 1 : 2;
    });
  }
  return {
    train: rows.filter((_, i) => part[i] === 0),
    validation: rows.filter((_, i) => part[i] === 1),
    holdout: rows.filter((_, i) => part[i] === 2),
  };
}

function mergeParams(overrides: Partial<GbtParams> = {}): GbtParams {
  const params: GbtParams = { ...DEFAULT_GBT_PARAMS };
  for (const [key, value] of Object.entries(overrides) as [keyof GbtParams, number | undefined][]) {
    if (value !== undefined) params[key] = value;
  }
  return params;
}
