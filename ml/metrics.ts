/**
 * Holdout metrics of a binary classifier: ranking (AUC), probability quality (log loss) and calibration by
 * decile of predicted score, the figures the model registry keeps and the promotion rule compares.
 */
import type { ModelEvaluation } from '../db/schema/leadpulse';

const EPS = 1e-15;

function checkInputs(y: ArrayLike<number>, p: ArrayLike<number>): void {
  if (y.length !== p.length) throw new Error(`labels (${y.length}) and predictions (${p.length}) differ in length`);
  for (let i = 0; i < y.length; i++) {
    if (y[i] !== 0 && y[i] !== 1) throw new Error(`label ${y[i]} at ${i} is not 0 or 1`);
    if (!Number.isFinite(p[i])) throw new Error(`prediction ${p[i]} at ${i} is not a number`);
  }
}

/**
 * Area under the ROC curve: the probability that a random positive scores above a random negative, ties
 * counting one half (Mann–Whitney U from mid-ranks). Needs both classes.
 */
export function auc(y: ArrayLike<number>, p: ArrayLike<number>): number {
  checkInputs(y, p);
  const n = y.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => p[a]! - p[b]!);
  let positives = 0;
  let positiveRankSum = 0;
  let i = 0;
  while (i < n) {
    let j = i;
    while (j + 1 < n && p[order[j + 1]!] === p[order[i]!]) j++;
    // Ranks i+1 .. j+1 are tied: each gets their mean.
    const midRank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) {
      if (y[order[k]!] === 1) {
        positives++;
        positiveRankSum += midRank;
      }
    }
    i = j + 1;
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) throw new Error('AUC needs at least one positive and one negative label');
  return (positiveRankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** Mean negative log-likelihood (natural log); probabilities clipped to [1e-15, 1 - 1e-15]. */
export function logLoss(y: ArrayLike<number>, p: ArrayLike<number>): number {
  checkInputs(y, p);
  if (y.length === 0) throw new Error('log loss of no rows');
  let sum = 0;
  for (let i = 0; i < y.length; i++) {
    const q = Math.min(Math.max(p[i]!, EPS), 1 - EPS);
    sum += y[i] === 1 ? -Math.log(q) : -Math.log(1 - q);
  }
  return sum / y.length;
}

/**
 * Rows sorted by predicted probability and cut into ten groups of (nearly) equal size, lowest scores first;
 * each decile's mean prediction against its observed positive rate. Empty deciles (fewer than 10 rows) are
 * left out.
 */
export function calibrationByDecile(y: ArrayLike<number>, p: ArrayLike<number>): ModelEvaluation['calibration'] {
  checkInputs(y, p);
  const n = y.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => p[a]! - p[b]! || a - b);
  const deciles: ModelEvaluation['calibration'] = [];
  for (let d = 0; d < 10; d++) {
    const start = Math.floor((d * n) / 10);
    const end = Math.floor(((d + 1) * n) / 10);
    if (end <= start) continue;
    let predicted = 0;
    let observed = 0;
    for (let k = start; k < end; k++) {
      predicted += p[order[k]!]!;
      observed += y[order[k]!]!;
    }
    const count = end - start;
    deciles.push({ decile: d + 1, count, meanPredicted: predicted / count, observedRate: observed / count });
  }
  return deciles;
}

export function evaluate(y: ArrayLike<number>, p: ArrayLike<number>): ModelEvaluation {
  return { auc: auc(y, p), logLoss: logLoss(y, p), calibration: calibrationByDecile(y, p) };
}
