/**
 * Fitting and judging a confidence: a logistic regression whose weights keep declared signs (so the
 * confidence is monotone in every signal), and the measures of a probability's worth: AUROC, ECE and the
 * reliability table.
 */
import { sigmoid } from '../../src/model/confidence';

/** One labelled example: its features and whether the match was right. */
export interface Example {
  features: number[];
  right: boolean;
}

export interface LogisticFit {
  bias: number;
  weights: number[];
}

/** Solves A x = b (A symmetric positive definite, small) by Gaussian elimination with partial pivoting. */
function solve(a: number[][], b: number[]): number[] {
  const n = b.length;
  const m = a.map((row, i) => [...row, b[i]]);
  for (let c = 0; c < n; c++) {
    let pivot = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r][c]) > Math.abs(m[pivot][c])) pivot = r;
    [m[c], m[pivot]] = [m[pivot], m[c]];
    for (let r = c + 1; r < n; r++) {
      const f = m[r][c] / m[c][c];
      for (let k = c; k <= n; k++) m[r][k] -= f * m[c][k];
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let v = m[r][n];
    for (let k = r + 1; k < n; k++) v -= m[r][k] * x[k];
    x[r] = v / m[r][r];
  }
  return x;
}

/** Maximum-likelihood logistic regression by Newton's method over the features in `active` (others 0). */
function newton(examples: readonly Example[], active: readonly number[], ridge: number): LogisticFit {
  const d = examples[0].features.length;
  let theta = new Array<number>(active.length + 1).fill(0); // [bias, …active weights]
  const row = (e: Example) => [1, ...active.map((k) => e.features[k])];
  for (let iteration = 0; iteration < 50; iteration++) {
    const gradient = new Array<number>(theta.length).fill(0);
    const hessian = theta.map(() => new Array<number>(theta.length).fill(0));
    for (const e of examples) {
      const x = row(e);
      const p = sigmoid(x.reduce((s, v, k) => s + v * theta[k], 0));
      const w = p * (1 - p);
      for (let a = 0; a < x.length; a++) {
        gradient[a] += (p - (e.right ? 1 : 0)) * x[a];
        for (let b = 0; b < x.length; b++) hessian[a][b] += w * x[a] * x[b];
      }
    }
    // A little ridge on the weights (not the bias) keeps separable data finite.
    for (let a = 1; a < theta.length; a++) {
      gradient[a] += ridge * theta[a];
      hessian[a][a] += ridge;
    }
    const step = solve(hessian, gradient);
    theta = theta.map((t, k) => t - step[k]);
    if (Math.max(...step.map(Math.abs)) < 1e-10) break;
  }
  const weights = new Array<number>(d).fill(0);
  active.forEach((k, n) => (weights[k] = theta[n + 1]));
  return { bias: theta[0], weights };
}

/**
 * Logistic regression with each weight's sign fixed by `directions` (+1: not negative, −1: not positive):
 * a weight that comes out with the wrong sign is dropped (held at 0) and the rest refitted, until every
 * sign holds. Deterministic (Newton from zero).
 */
export function fitLogistic(examples: readonly Example[], directions: readonly (1 | -1)[], ridge = 1e-3): LogisticFit {
  if (examples.length === 0) throw new Error('fitLogistic: no examples');
  let active = directions.map((_, k) => k);
  for (;;) {
    const fit = newton(examples, active, ridge);
    const wrong = active.filter((k) => fit.weights[k] * directions[k] < 0);
    if (wrong.length === 0) return fit;
    active = active.filter((k) => !wrong.includes(k));
  }
}

export const predictLogistic = (fit: LogisticFit, features: readonly number[]) =>
  sigmoid(fit.bias + features.reduce((s, v, k) => s + v * fit.weights[k], 0));

/** Area under the ROC curve of `scores` for right against wrong (ties count half): Mann–Whitney. */
export function auroc(scores: readonly number[], right: readonly boolean[]): number {
  const order = scores.map((s, k) => [s, k] as const).sort((a, b) => a[0] - b[0]);
  let rankSumRight = 0;
  for (let start = 0; start < order.length; ) {
    let end = start;
    while (end < order.length && order[end][0] === order[start][0]) end++;
    const rank = (start + 1 + end) / 2; // mean of ranks start+1 … end
    for (let k = start; k < end; k++) if (right[order[k][1]]) rankSumRight += rank;
    start = end;
  }
  const positives = right.filter(Boolean).length;
  const negatives = right.length - positives;
  return (rankSumRight - (positives * (positives + 1)) / 2) / (positives * negatives);
}

export interface ReliabilityBin {
  from: number;
  to: number;
  count: number;
  /** Mean predicted probability in the bin. */
  confidence: number;
  /** Fraction right in the bin. */
  accuracy: number;
}

/** Equal-width bins of the predicted probability, with how often each bin's matches were right. */
export function reliability(probabilities: readonly number[], right: readonly boolean[], bins = 10): ReliabilityBin[] {
  const table = Array.from({ length: bins }, (_, b) => ({ from: b / bins, to: (b + 1) / bins, count: 0, confidence: 0, accuracy: 0 }));
  probabilities.forEach((p, k) => {
    const bin = table[Math.min(Math.floor(p * bins), bins - 1)];
    bin.count++;
    bin.confidence += p;
    bin.accuracy += right[k] ? 1 : 0;
  });
  for (const bin of table) {
    if (bin.count === 0) continue;
    bin.confidence /= bin.count;
    bin.accuracy /= bin.count;
  }
  return table;
}

/** Expected calibration error: the count-weighted mean gap between confidence and accuracy over the bins. */
export function ece(probabilities: readonly number[], right: readonly boolean[], bins = 10): number {
  return reliability(probabilities, right, bins).reduce((s, b) => s + (b.count * Math.abs(b.confidence - b.accuracy)) / probabilities.length, 0);
}
