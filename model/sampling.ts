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
  const out = Float64Array.from(logits);
  for (const id of new Set(seen)) {
    if (!Number.isInteger(id) || id < 0 || id >= out.length) throw new Error(`repetitionPenalty: token ${id} is outside the vocabulary [0, ${out.length})`);
    const x = logits[id]!;
    out[id] = x < 0 ? x * penalty : x / penalty;
  }
  return out;
}

/** logits / T (T > 0). */
export function applyTemperature(logits: ArrayLike<number>, temperature: number): Logits {
  if (!(temperature > 0) || !Number.isFinite(temperature)) throw new Error(`temperature: must be a positive finite number here, got ${temperature}`);
  return Float64Array.from(logits, (x) => x / temperature);
}

/** HF's TopKLogitsWarper: every logit below the k-th largest becomes -Infinity (ties with it stay). */
export function applyTopK(logits: ArrayLike<number>, k: number): Logits {
  if (!Number.isInteger(k) || k < 0) throw new Error(`topK: must be a non-negative integer, got ${k}`);
  const out = Float64Array.from(logits);
  if (k === 0 || k >= out.length) return out;
  const kth = Float64Array.from(out).sort().reverse()[k - 1]!; // typed sort is numeric
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
  const out = Float64Array.from(logits);
  if (p === 1) return out;
  const probs = softmax(out);
  const order = Array.from(out.keys()).sort((a, b) => out[b]! - out[a]! || a - b);
  let before = 0;
  for (const i of order) {
    if (before >= p) out[i] = -Infinity;
    before += probs[i]!;
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

/** Probabilities in float64; subtracting the max first keeps exp from overflowing. */
export function softmax(logits: ArrayLike<number>): Logits {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]!);
  if (max === -Infinity || Number.isNaN(max)) throw new Error(`softmax: no finite logit to sample from (max is ${max})`);
  const out = Float64Array.from(logits, (x) => Math.exp(x - max));
  let sum = 0;
  for (const e of out) sum += e;
  for (let i = 0; i < out.length; i++) out[i] /= sum;
  return out;
}

/** One draw from softmax(logits) with the seeded stream: the first token whose cumulative probability passes u. */
export function sample(logits: ArrayLike<number>, generator: Generator): number {
  const probs = softmax(logits);
  const u = generator.nextFloat64();
  let cum = 0;
  let last = -1;
  for (let i = 0; i < probs.length; i++) {
    if (probs[i] === 0) continue; // a removed token is never drawn, even at rounding edges
    cum += probs[i]!;
    last = i;
    if (u < cum) return i;
  }
  return last; // u landed in the rounding gap below 1: the last possible token
}

/** The full step, in HF's order: repetition penalty, then greedy, or temperature → top-k → top-p → draw. */
export function nextToken(logits: ArrayLike<number>, seen: readonly number[], opts: SamplingOptions, generator: Generator): number {
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
  if (!(temperature >= 0) || !Number.isFinite(temperature)) throw new Error(`generate: temperature must be a finite number ≥ 0, got ${temperature}`);
  if (!Number.isInteger(topK) || topK < 0) throw new Error(`generate: topK must be a non-negative integer, got ${topK}`);
  if (!(topP > 0 && topP <= 1)) throw new Error(`generate: topP must be in (0, 1], got ${topP}`);
  if (!(repetitionPenalty > 0) || !Number.isFinite(repetitionPenalty)) throw new Error(`generate: repetitionPenalty must be a positive number, got ${repetitionPenalty}`);
}
