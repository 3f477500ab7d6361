/**
 * Gradient-boosted regression trees for binary classification (logistic loss), written for LeadPulse's size
 * of problem (tens of thousands of rows, a few dozen features) so training needs no native library:
 *
 * - second-order (Newton) boosting as in XGBoost: each tree fits the loss's gradient and hessian, a leaf's
 *   weight is -G / (H + lambda), a split's gain the usual G²/(H+lambda) difference; `minChildWeight` is a floor
 *   on a child's hessian sum;
 * - histogram splits: each feature's values are cut into at most `maxBins` quantile bins once, and trees are
 *   grown on the bin indices (a child's histogram is the parent's minus its sibling's);
 * - shrinkage (learning rate) and early stopping on a validation set's log loss, keeping the best round.
 *
 * Thresholds and leaf values are float32 values and training compares float32 feature values with them, so
 * the ONNX TreeEnsembleClassifier (ml/onnx-export.ts), which works in float32, routes every row the same way.
 */
import type { GbtModel, GbtParams, RegressionTree, TreeNode } from './types';

export const DEFAULT_GBT_PARAMS: GbtParams = {
  maxRounds: 400,
  learningRate: 0.08,
  maxDepth: 4,
  minChildWeight: 2,
  lambda: 1,
  earlyStoppingRounds: 30,
  maxBins: 64,
};

export interface GbtDataset {
  /** One float32 row per example, all of the same length. */
  X: Float32Array[];
  /** Labels 0 or 1. */
  y: ArrayLike<number>;
}

export interface GbtTrainingResult {
  model: GbtModel;
  /** Trees kept (the best validation round). */
  rounds: number;
  /** Validation log loss after each boosting round trained (index i: i + 1 trees), including rounds dropped. */
  validationLogLoss: number[];
}

const LOG_LOSS_EPS = 1e-15;

export function sigmoid(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
}

/** Raw score (log-odds): baseScore plus every tree's leaf for this row. */
export function predictGbtRaw(model: GbtModel, x: Float32Array): number {
  if (x.length !== model.featureCount) {
    throw new Error(`expected ${model.featureCount} features, got ${x.length}`);
  }
  let raw = model.baseScore;
  for (const tree of model.trees) raw += treeOutput(tree, x);
  return raw;
}

/** Probability of class 1. */
export function predictGbt(model: GbtModel, x: Float32Array): number {
  return sigmoid(predictGbtRaw(model, x));
}

/** The leaf this row reaches (index into tree.nodes). */
export function leafIndex(tree: RegressionTree, x: Float32Array): number {
  let i = 0;
  for (;;) {
    const node = tree.nodes[i]!;
    if (node.leaf !== null) return i;
    i = x[node.feature]! <= node.threshold ? node.left : node.right;
  }
}

function treeOutput(tree: RegressionTree, x: Float32Array): number {
  return tree.nodes[leafIndex(tree, x)]!.leaf!;
}

export function trainGbt(
  train: GbtDataset,
  validation: GbtDataset,
  params: Partial<GbtParams> = {},
): GbtTrainingResult {
  const p = resolveParams(params);
  const n = train.X.length;
  if (n === 0) throw new Error('trainGbt: no training rows');
  if (train.y.length !== n) throw new Error('trainGbt: X and y differ in length');
  if (validation.y.length !== validation.X.length) throw new Error('trainGbt: validation X and y differ in length');
  const featureCount = train.X[0]!.length;
  for (const row of [...train.X, ...validation.X]) {
    if (row.length !== featureCount) throw new Error('trainGbt: rows of different lengths');
  }

  let positives = 0;
  for (let r = 0; r < n; r++) {
    const label = train.y[r]!;
    if (label !== 0 && label !== 1) throw new Error(`trainGbt: label ${label} is not 0 or 1`);
    positives += label;
  }
  // The prior log-odds as the starting point; float32 because ONNX keeps base_values as floats.
  const prior = Math.min(Math.max(positives / n, 1e-6), 1 - 1e-6);
  const baseScore = Math.fround(Math.log(prior / (1 - prior)));

  const binning = buildBins(train.X, featureCount, p.maxBins);
  const builder = new TreeBuilder(binning, n, featureCount, p);

  const rawTrain = new Float64Array(n).fill(baseScore);
  const grad = new Float64Array(n);
  const hess = new Float64Array(n);
  const rawValidation = new Float64Array(validation.X.length).fill(baseScore);

  const trees: RegressionTree[] = [];
  const validationLogLoss: number[] = [];
  let bestLoss = Infinity;
  let bestRounds = 0;

  for (let round = 0; round < p.maxRounds; round++) {
    for (let r = 0; r < n; r++) {
      const prob = sigmoid(rawTrain[r]!);
      grad[r] = prob - train.y[r]!;
      hess[r] = Math.max(prob * (1 - prob), 1e-16);
    }
    const tree = builder.build(grad, hess, rawTrain);
    trees.push(tree);

    if (validation.X.length === 0) {
      bestRounds = trees.length;
      continue;
    }
    let loss = 0;
    for (let r = 0; r < validation.X.length; r++) {
      rawValidation[r] = rawValidation[r]! + treeOutput(tree, validation.X[r]!);
      loss += rowLogLoss(validation.y[r]!, sigmoid(rawValidation[r]!));
    }
    loss /= validation.X.length;
    validationLogLoss.push(loss);
    if (loss < bestLoss - 1e-12) {
      bestLoss = loss;
      bestRounds = trees.length;
    } else if (trees.length - bestRounds >= p.earlyStoppingRounds) {
      break;
    }
    // A tree that could not split adds the same constant forever: nothing more to learn.
    if (tree.nodes.length === 1 && round > 0 && trees[round - 1]!.nodes.length === 1) break;
  }

  const kept = trees.slice(0, Math.max(bestRounds, 1));
  return {
    model: { kind: 'gbt', baseScore, trees: kept, featureCount },
    rounds: kept.length,
    validationLogLoss,
  };
}

function rowLogLoss(y: number, p: number): number {
  const q = Math.min(Math.max(p, LOG_LOSS_EPS), 1 - LOG_LOSS_EPS);
  return y === 1 ? -Math.log(q) : -Math.log(1 - q);
}

function resolveParams(params: Partial<GbtParams>): GbtParams {
  const p: GbtParams = { ...DEFAULT_GBT_PARAMS };
  for (const [key, value] of Object.entries(params) as [keyof GbtParams, number | undefined][]) {
    if (value !== undefined) p[key] = value;
  }
  const positiveInt = (v: number, name: string) => {
    if (!Number.isInteger(v) || v < 1) throw new Error(`GBT parameter ${name} must be a positive integer, got ${v}`);
  };
  positiveInt(p.maxRounds, 'maxRounds');
  positiveInt(p.maxDepth, 'maxDepth');
  positiveInt(p.earlyStoppingRounds, 'earlyStoppingRounds');
  if (!Number.isInteger(p.maxBins) || p.maxBins < 2 || p.maxBins > 256) {
    throw new Error(`GBT parameter maxBins must be an integer in [2, 256], got ${p.maxBins}`);
  }
  if (!(p.learningRate > 0 && p.learningRate <= 1)) throw new Error('GBT parameter learningRate must be in (0, 1]');
  if (!(p.lambda >= 0)) throw new Error('GBT parameter lambda must be >= 0');
  if (!(p.minChildWeight >= 0)) throw new Error('GBT parameter minChildWeight must be >= 0');
  return p;
}

// ---------------------------------------------------------------------------------------------------------
// Quantile bins

interface Binning {
  /** Per feature, ascending float32 thresholds: bin k holds values in (t[k-1], t[k]]; the last bin is > t[end]. */
  thresholds: Float32Array[];
  /** Row-major bin index of every training value: bins[row * featureCount + feature]. */
  bins: Uint8Array;
  /** Histogram stride: the largest bin count of any feature. */
  stride: number;
}

function buildBins(X: Float32Array[], featureCount: number, maxBins: number): Binning {
  const n = X.length;
  const thresholds: Float32Array[] = [];
  const column = new Float32Array(n);
  for (let f = 0; f < featureCount; f++) {
    for (let r = 0; r < n; r++) column[r] = X[r]![f]!;
    thresholds.push(cutPoints(column.slice().sort(), maxBins));
  }
  const bins = new Uint8Array(n * featureCount);
  for (let r = 0; r < n; r++) {
    const row = X[r]!;
    for (let f = 0; f < featureCount; f++) bins[r * featureCount + f] = binOf(thresholds[f]!, row[f]!);
  }
  const stride = Math.max(1, ...thresholds.map((t) => t.length + 1));
  return { thresholds, bins, stride };
}

/**
 * Thresholds between distinct values, at most maxBins - 1 of them, placed at quantiles of the data (so a
 * feature with few distinct values keeps every boundary). Each threshold is a float32 value in [a, b) between
 * two neighbouring distinct values a < b: the midpoint when float32 can hold it, otherwise a itself.
 */
function cutPoints(sorted: Float32Array, maxBins: number): Float32Array {
  const n = sorted.length;
  const distinct: number[] = [];
  const upTo: number[] = []; // rows <= distinct[i]
  for (let i = 0; i < n; i++) {
    const v = sorted[i]!;
    if (Number.isNaN(v)) throw new Error('trainGbt: NaN feature value');
    if (distinct.length === 0 || v !== distinct[distinct.length - 1]) {
      distinct.push(v);
      upTo.push(i + 1);
    } else {
      upTo[upTo.length - 1] = i + 1;
    }
  }
  const cuts: number[] = [];
  if (distinct.length <= maxBins) {
    for (let i = 0; i + 1 < distinct.length; i++) cuts.push(between(distinct[i]!, distinct[i + 1]!));
  } else {
    let nextQuantile = 1;
    for (let i = 0; i + 1 < distinct.length && nextQuantile < maxBins; i++) {
      if (upTo[i]! >= (nextQuantile * n) / maxBins) {
        cuts.push(between(distinct[i]!, distinct[i + 1]!));
        while (nextQuantile < maxBins && upTo[i]! >= (nextQuantile * n) / maxBins) nextQuantile++;
      }
    }
  }
  return Float32Array.from(cuts);
}

function between(a: number, b: number): number {
  const mid = Math.fround((a + b) / 2);
  return mid >= a && mid < b ? mid : a;
}

/** The bin of a value: the first threshold it is <= to (binary search), or the last bin. */
function binOf(thresholds: Float32Array, value: number): number {
  let lo = 0;
  let hi = thresholds.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (value <= thresholds[mid]!) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

// ---------------------------------------------------------------------------------------------------------
// Tree growth

interface Histogram {
  g: Float64Array;
  h: Float64Array;
  count: Uint32Array;
}

interface Split {
  feature: number;
  bin: number;
  gain: number;
}

class TreeBuilder {
  private readonly size: number;
  private grad!: Float64Array;
  private hess!: Float64Array;
  private raw!: Float64Array;
  private nodes: TreeNode[] = [];

  constructor(
    private readonly binning: Binning,
    private readonly n: number,
    private readonly featureCount: number,
    private readonly params: GbtParams,
  ) {
    this.size = featureCount * binning.stride;
  }

  /** Grows one tree on (grad, hess) and adds its leaf outputs to `raw` for the rows of each leaf. */
  build(grad: Float64Array, hess: Float64Array, raw: Float64Array): RegressionTree {
    this.grad = grad;
    this.hess = hess;
    this.raw = raw;
    this.nodes = [];
    const rows = new Uint32Array(this.n);
    for (let r = 0; r < this.n; r++) rows[r] = r;
    this.grow(rows, this.histogram(rows), 0);
    return { nodes: this.nodes };
  }

  private grow(rows: Uint32Array, hist: Histogram, depth: number): number {
    const id = this.nodes.length;
    let G = 0;
    let H = 0;
    for (let i = 0; i < rows.length; i++) {
      G += this.grad[rows[i]!]!;
      H += this.hess[rows[i]!]!;
    }
    const node: TreeNode = { feature: -1, threshold: 0, left: 0, right: 0, leaf: null, value: 0, cover: rows.length };
    this.nodes.push(node);

    const split = depth < this.params.maxDepth && rows.length >= 2 ? this.bestSplit(hist, G, H, rows.length) : null;
    if (!split) {
      const weight = Math.fround((-G / (H + this.params.lambda)) * this.params.learningRate);
      node.leaf = weight;
      node.value = weight;
      for (let i = 0; i < rows.length; i++) this.raw[rows[i]!] = this.raw[rows[i]!]! + weight;
      return id;
    }

    const { bins } = this.binning;
    const F = this.featureCount;
    let leftCount = 0;
    for (let i = 0; i < rows.length; i++) if (bins[rows[i]! * F + split.feature]! <= split.bin) leftCount++;
    const leftRows = new Uint32Array(leftCount);
    const rightRows = new Uint32Array(rows.length - leftCount);
    let li = 0;
    let ri = 0;
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      if (bins[r * F + split.feature]! <= split.bin) leftRows[li++] = r;
      else rightRows[ri++] = r;
    }

    // Histogram of the smaller child by scanning its rows; the larger one is the parent's minus it.
    const leftSmaller = leftRows.length <= rightRows.length;
    const small = this.histogram(leftSmaller ? leftRows : rightRows);
    for (let k = 0; k < this.size; k++) {
      hist.g[k] = hist.g[k]! - small.g[k]!;
      hist.h[k] = hist.h[k]! - small.h[k]!;
      hist.count[k] = hist.count[k]! - small.count[k]!;
    }
    const leftHist = leftSmaller ? small : hist;
    const rightHist = leftSmaller ? hist : small;

    node.feature = split.feature;
    node.threshold = this.binning.thresholds[split.feature]![split.bin]!;
    node.left = this.grow(leftRows, leftHist, depth + 1);
    node.right = this.grow(rightRows, rightHist, depth + 1);
    // Mean output of the training rows below: what Saabas attribution compares along a row's path.
    const left = this.nodes[node.left]!;
    const right = this.nodes[node.right]!;
    node.value = (left.value * left.cover + right.value * right.cover) / node.cover;
    return id;
  }

  private histogram(rows: Uint32Array): Histogram {
    const g = new Float64Array(this.size);
    const h = new Float64Array(this.size);
    const count = new Uint32Array(this.size);
    const { bins, stride } = this.binning;
    const F = this.featureCount;
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      const gr = this.grad[r]!;
      const hr = this.hess[r]!;
      const base = r * F;
      for (let f = 0, offset = 0; f < F; f++, offset += stride) {
        const k = offset + bins[base + f]!;
        g[k] = g[k]! + gr;
        h[k] = h[k]! + hr;
        count[k] = count[k]! + 1;
      }
    }
    return { g, h, count };
  }

  private bestSplit(hist: Histogram, G: number, H: number, count: number): Split | null {
    const { lambda, minChildWeight } = this.params;
    const parentScore = (G * G) / (H + lambda);
    let best: Split | null = null;
    const { thresholds, stride } = this.binning;
    for (let f = 0; f < this.featureCount; f++) {
      const cuts = thresholds[f]!.length;
      const offset = f * stride;
      let GL = 0;
      let HL = 0;
      let CL = 0;
      for (let b = 0; b < cuts; b++) {
        GL += hist.g[offset + b]!;
        HL += hist.h[offset + b]!;
        CL += hist.count[offset + b]!;
        if (CL === 0) continue;
        // Both children must hold rows (a hessian floor of 0 alone does not guarantee it).
        if (CL === count) break;
        const HR = H - HL;
        if (HL < minChildWeight) continue;
        if (HR < minChildWeight) break;
        const GR = G - GL;
        const gain = (GL * GL) / (HL + lambda) + (GR * GR) / (HR + lambda) - parentScore;
        if (gain > 1e-9 && (!best || gain > best.gain)) best = { feature: f, bin: b, gain };
      }
    }
    return best;
  }
}
