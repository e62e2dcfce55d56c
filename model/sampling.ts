// Choosing the next token from one row of logits [V]: the logits processors of HF's `generate`, as small
// pure functions (repetition penalty, temperature, top-k, top-p; each returns a new array, -Infinity
// marking a removed token), greedy argmax, and a seeded categorical draw. `nextToken` chains them in
// HF's order. Plain arrays, not tensors: this is V numbers per step, after the model has run.

import type { Generator } from '../core/index.js';

export interface SamplingOptions {
  /** Softmax temperature; 0 (the default) decodes greedily, > 0 samples. */
  temperature?: number;
  /** Keep only the k most likely tokens (and any tied with the k-th); 0 (default) keeps all. */
  topK?: number;
  /** Keep the smallest most-likely set whose probability reaches p (at least one token); 1 (default) keeps all. */
  topP?: number;
  /** > 1 discourages tokens already in the sequence (HF's rule); 1 (default) is off. */
  repetitionPenalty?: number;
}

export type Logits = Float64Array;

/** HF's RepetitionPenaltyLogitsProcessor: for each token seen, a positive logit is divided by θ, a negative one multiplied. */
export function applyRepetitionPenalty(logits: ArrayLike<number>, seen: Iterable<number>, penalty: number): Logits {
  if (!(penalty > 0)) throw new Error(`repetitionPenalty: must be a positive number, got ${penalty}`);
  const out = copy(logits);
  for (const id of new Set(seen)) {
    if (!Number.isInteger(id) || id < 0 || id >= out.length)
      throw new Error(`repetitionPenalty: token ${id} is outside the vocabulary [0, ${out.length})`);
    const x = logits[id]!;
    out[id] = x < 0 ? x * penalty : x / penalty;
  }
  return out;
}

/** logits / T (T > 0). */
export function applyTemperature(logits: ArrayLike<number>, temperature: number): Logits {
  if (!(temperature > 0) || !Number.isFinite(temperature))
    throw new Error(`temperature: must be a positive finite number here, got ${temperature}`);
  const out = copy(logits);
  for (let i = 0; i < out.length; i++) out[i] /= temperature;
  return out;
}

/** HF's TopKLogitsWarper: every logit below the k-th largest becomes -Infinity (ties with it stay). */
export function applyTopK(logits: ArrayLike<number>, k: number): Logits {
  if (!Number.isInteger(k) || k < 0) throw new Error(`topK: must be a non-negative integer, got ${k}`);
  const out = copy(logits);
  if (k === 0 || k >= out.length) return out;
  const kth = kthLargest(out, k);
  for (let i = 0; i < out.length; i++) if (out[i]! < kth) out[i] = -Infinity;
  return out;
}

/**
 * HF's TopPLogitsWarper (nucleus): walking the tokens from most to least likely (lower index first on
 * ties), keep each one while the probability of the tokens before it is still below p — so the token
 * that crosses p is kept, and the most likely token always is.
 */
export function applyTopP(logits: ArrayLike<number>, p: number): Logits {
  if (!(p > 0 && p <= 1)) throw new Error(`topP: must be in (0, 1], got ${p}`);
  const out = copy(logits);
  if (p === 1) return out;
  // Find the last kept logit by walking the logits in falling order (a numeric typed-array sort: an
  // index sort with a comparator is ~20× slower at LLM-jp-4's 196,608 entries), with each
  // probability computed exactly as softmax() computes it.
  const { max, sum } = softmaxNorm(out);
  let n = 0;
  const sorted = new Float64Array(out.length); // the logits still in play (top-k leaves few), falling
  for (let i = 0; i < out.length; i++) if (out[i]! > -Infinity) sorted[n++] = out[i]!;
  sorted.subarray(0, n).sort().reverse();
  let kept = 0;
  let before = 0;
  while (kept < n && before < p) before += Math.exp(sorted[kept++]! - max) / sum;
  const last = sorted[kept - 1]!;
  // Tokens above the last kept logit stay; of those tied with it, the lowest indices fill the count.
  let ties = kept;
  for (let i = 0; i < out.length; i++) if (out[i]! > last) ties--;
  for (let i = 0; i < out.length; i++) {
    if (out[i]! > last) continue;
    if (out[i] === last && ties > 0) ties--;
    else out[i] = -Infinity;
  }
  return out;
}

/** Index of the largest logit, the lowest index on ties (as torch.argmax on CPU). */
export function argmax(logits: ArrayLike<number>): number {
  if (logits.length === 0) throw new Error('argmax: empty logits');
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i]! > logits[best]!) best = i;
  return best;
}

/** Probabilities in float64: exp(x − max) / sum; subtracting the max first keeps exp from overflowing. */
export function softmax(logits: ArrayLike<number>): Logits {
  const { max, sum } = softmaxNorm(logits);
  const out = copy(logits);
  for (let i = 0; i < out.length; i++) out[i] = Math.exp(out[i]! - max) / sum;
  return out;
}

/** A float64 copy. (Float64Array.from walks an iterator and is ~50× slower at 196,608 logits.) */
function copy(logits: ArrayLike<number>): Logits {
  return new Float64Array(logits);
}

/** The max and the normaliser Σ exp(x − max) of softmax. */
function softmaxNorm(logits: ArrayLike<number>): { max: number; sum: number } {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]!);
  if (max === -Infinity || Number.isNaN(max)) throw new Error(`softmax: no finite logit to sample from (max is ${max})`);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i]! - max);
  return { max, sum };
}

/** One draw from softmax(logits) with the seeded stream: the first token whose cumulative probability passes u. */
export function sample(logits: ArrayLike<number>, generator: Generator): number {
  const { max, sum } = softmaxNorm(logits);
  const u = generator.nextFloat64() * sum; // compare unnormalised: one exp per token, no division
  let cum = 0;
  let last = -1;
  for (let i = 0; i < logits.length; i++) {
    const e = Math.exp(logits[i]! - max);
    if (e === 0) continue; // a removed token is never drawn, even at rounding edges
    cum += e;
    last = i;
    if (u < cum) return i;
  }
  return last; // u landed in the rounding gap below the sum: the last possible token
}

/** The k-th largest value (1-based) by quickselect: O(V) on average, where a sort is O(V log V). */
export function kthLargest(values: ArrayLike<number>, k: number): number {
  const a = copy(values);
  const want = a.length - k; // its index in ascending order
  let [lo, hi] = [0, a.length - 1];
  while (lo < hi) {
    const pivot = a[(lo + hi) >>> 1]!;
    let [i, j] = [lo, hi];
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i++] = a[j]!;
        a[j--] = t;
      }
    }
    if (want <= j) hi = j;
    else if (want >= i) lo = i;
    else break; // between j and i every value equals the pivot
  }
  return a[want]!;
}

/** The full step, in HF's order: repetition penalty, then greedy, or temperature → top-k → top-p → draw. */
export function nextToken(
  logits: ArrayLike<number>,
  seen: readonly number[],
  opts: SamplingOptions,
  generator: Generator,
): number {
  const { temperature = 0, topK = 0, topP = 1, repetitionPenalty = 1 } = opts;
  checkSampling(opts);
  let x: ArrayLike<number> = repetitionPenalty === 1 ? logits : applyRepetitionPenalty(logits, seen, repetitionPenalty);
  // top-k and top-p always keep the argmax, so greedy decoding needs neither.
  if (temperature === 0) return argmax(x);
  x = applyTemperature(x, temperature);
  if (topK > 0) x = applyTopK(x, topK);
  if (topP < 1) x = applyTopP(x, topP);
  return sample(x, generator);
}

/** Validate the options once, naming the field. */
export function checkSampling({ temperature = 0, topK = 0, topP = 1, repetitionPenalty = 1 }: SamplingOptions): void {
  if (!(temperature >= 0) || !Number.isFinite(temperature))
    throw new Error(`generate: temperature must be a finite number ≥ 0, got ${temperature}`);
  if (!Number.isInteger(topK) || topK < 0) throw new Error(`generate: topK must be a non-negative integer, got ${topK}`);
  if (!(topP > 0 && topP <= 1)) throw new Error(`generate: topP must be in (0, 1], got ${topP}`);
  if (!(repetitionPenalty > 0) || !Number.isFinite(repetitionPenalty))
    throw new Error(`generate: repetitionPenalty must be a positive number, got ${repetitionPenalty}`);
}
