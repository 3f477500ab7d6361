/**
 * L2-regularised logistic regression, the baseline every LeadPulse model is compared with on the same
 * holdout: if trees do not beat a linear model on the same features, they are not worth their complexity.
 * Fitted by Newton's method (IRLS) on standardised features: a few dozen features make the Hessian tiny, and
 * Newton converges in a handful of iterations without a learning rate to tune.
 */
import type { LogisticModel } from './types';
import { sigmoid } from './gbt';

export interface LogisticOptions {
  /** L2 penalty on the (standardised) weights, not the intercept, in units of the summed log loss. */
  l2?: number;
  maxIterations?: number;
  /** Stop when the largest Newton step is below this. */
  tolerance?: number;
}

export function trainLogistic(
  train: { X: ArrayLike<number>[]; y: ArrayLike<number> },
  options: LogisticOptions = {},
): LogisticModel {
  const l2 = options.l2 ?? 1;
  const maxIterations = options.maxIterations ?? 50;
  const tolerance = options.tolerance ?? 1e-8;
  const n = train.X.length;
  if (n === 0) throw new Error('trainLogistic: no rows');
  if (train.y.length !== n) throw new Error('trainLogistic: X and y differ in length');
  const d = train.X[0]!.length;

  const means = new Array<number>(d).fill(0);
  const scales = new Array<number>(d).fill(0);
  const min = new Array<number>(d).fill(Infinity);
  const max = new Array<number>(d).fill(-Infinity);
  for (const row of train.X) {
    for (let j = 0; j < d; j++) {
      means[j] = means[j]! + row[j]!;
      min[j] = Math.min(min[j]!, row[j]!);
      max[j] = Math.max(max[j]!, row[j]!);
    }
  }
  for (let j = 0; j < d; j++) means[j] = means[j]! / n;
  for (const row of train.X) for (let j = 0; j < d; j++) scales[j] = scales[j]! + (row[j]! - means[j]!) ** 2;
  for (let j = 0; j < d; j++) {
    if (min[j] === max[j]) {
      // A constant column standardises to exactly 0 everywhere; its gradient is then 0 and its weight stays 0.
      means[j] = min[j]!;
      scales[j] = 1;
    } else {
      scales[j] = Math.sqrt(scales[j]! / n);
    }
  }

  // Design matrix with a leading 1 for the intercept, row-major.
  const m = d + 1;
  const Z = new Float64Array(n * m);
  for (let r = 0; r < n; r++) {
    Z[r * m] = 1;
    const row = train.X[r]!;
    for (let j = 0; j < d; j++) Z[r * m + j + 1] = (row[j]! - means[j]!) / scales[j]!;
  }

  const beta = new Float64Array(m);
  const objective = (b: Float64Array) => {
    let loss = 0;
    for (let r = 0; r < n; r++) {
      let z = 0;
      for (let j = 0; j < m; j++) z += Z[r * m + j]! * b[j]!;
      // log(1 + e^z) - y z, computed without overflow
      loss += (z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z))) - train.y[r]! * z;
    }
    for (let j = 1; j < m; j++) loss += 0.5 * l2 * b[j]! ** 2;
    return loss;
  };

  let current = objective(beta);
  for (let iteration = 0; iteration < maxIterations; iteration++) {
    const gradient = new Float64Array(m);
    const hessian = new Float64Array(m * m);
    for (let r = 0; r < n; r++) {
      let z = 0;
      for (let j = 0; j < m; j++) z += Z[r * m + j]! * beta[j]!;
      const p = sigmoid(z);
      const residual = p - train.y[r]!;
      const w = Math.max(p * (1 - p), 1e-12);
      for (let j = 0; j < m; j++) {
        const zj = Z[r * m + j]!;
        gradient[j] = gradient[j]! + residual * zj;
        const wz = w * zj;
        for (let k = j; k < m; k++) hessian[j * m + k] = hessian[j * m + k]! + wz * Z[r * m + k]!;
      }
    }
    for (let j = 1; j < m; j++) {
      gradient[j] = gradient[j]! + l2 * beta[j]!;
      hessian[j * m + j] = hessian[j * m + j]! + l2;
    }
    for (let j = 0; j < m; j++) for (let k = 0; k < j; k++) hessian[j * m + k] = hessian[k * m + j]!;
    // A tiny ridge keeps the intercept's row positive definite even on degenerate data.
    for (let j = 0; j < m; j++) hessian[j * m + j] = hessian[j * m + j]! + 1e-10;

    const step = choleskySolve(hessian, gradient, m);
    // Backtracking: a full Newton step can overshoot far from the optimum.
    let scale = 1;
    let candidate = new Float64Array(m);
    let value = Infinity;
    for (let attempt = 0; attempt < 30; attempt++) {
      candidate = beta.map((b, j) => b - scale * step[j]!);
      value = objective(candidate);
      if (value <= current) break;
      scale /= 2;
    }
    if (!(value <= current)) break;
    let largest = 0;
    for (let j = 0; j < m; j++) largest = Math.max(largest, Math.abs(candidate[j]! - beta[j]!));
    beta.set(candidate);
    current = value;
    if (largest < tolerance) break;
  }

  return {
    kind: 'logistic',
    intercept: beta[0]!,
    weights: Array.from(beta.subarray(1)),
    means,
    scales,
  };
}

/** Probability of class 1. */
export function predictLogistic(model: LogisticModel, x: ArrayLike<number>): number {
  if (x.length !== model.weights.length) {
    throw new Error(`expected ${model.weights.length} features, got ${x.length}`);
  }
  let z = model.intercept;
  for (let j = 0; j < model.weights.length; j++) {
    z += (model.weights[j]! * (x[j]! - model.means[j]!)) / model.scales[j]!;
  }
  return sigmoid(z);
}

/** Solves A x = b for a symmetric positive definite A (row-major m × m). */
function choleskySolve(A: Float64Array, b: Float64Array, m: number): Float64Array {
  const L = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = A[i * m + j]!;
      for (let k = 0; k < j; k++) sum -= L[i * m + k]! * L[j * m + k]!;
      if (i === j) {
        if (sum <= 0) throw new Error('logistic regression: Hessian is not positive definite');
        L[i * m + i] = Math.sqrt(sum);
      } else {
        L[i * m + j] = sum / L[j * m + j]!;
      }
    }
  }
  const y = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    let sum = b[i]!;
    for (let k = 0; k < i; k++) sum -= L[i * m + k]! * y[k]!;
    y[i] = sum / L[i * m + i]!;
  }
  const x = new Float64Array(m);
  for (let i = m - 1; i >= 0; i--) {
    let sum = y[i]!;
    for (let k = i + 1; k < m; k++) sum -= L[k * m + i]! * x[k]!;
    x[i] = sum / L[i * m + i]!;
  }
  return x;
}
