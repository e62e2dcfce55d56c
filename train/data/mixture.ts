// The weighted mixture over sub-corpora, blended row by row as Megatron-LM's BlendedDataset does
// (helpers.cpp, build_blending_indices): row n comes from the source furthest behind its share, the
// one with the largest weight·(n+1) − rows so far (ties: the first in order). No randomness is needed
// for the choice, and the cursor is the row counts plus each source's PackedStream cursor.
// How close each source stays to its share (k sources with weight > 0, rows_s − w_s·n after n rows):
// the errors sum to 1 before each choice, so the chosen one's is ≥ 1/k and no source gets ahead by
// more than 1 − 1/k rows; the errors sum to 0 after it, so none falls behind by more than
// (k − 1)(1 − 1/k). With two sources that is half a row either way; with five, behind by up to
// 1.12 rows was seen in 20,000 random mixtures (it is not "within one row" in general).

import { PackedStream, type PackedState, type Row } from './packing.js';

/**
 * LLM-jp-4's pre-training mixture, as shares of the weighted pool (../shared/LLMJP4.md): English
 * 73.5%, Japanese 15.5%, code 8.1%, Chinese 2.6%, Korean 0.2%.
 */
export const LLMJP4_SHARES: Readonly<Record<string, number>> = { en: 0.735, ja: 0.155, code: 0.081, zh: 0.026, ko: 0.002 };

/** Mid-training's share of instruction-style text; the rest is the pre-training mixture. */
export const MIDTRAIN_INSTRUCT_SHARE = 0.5;

/**
 * Weights that sum to 1, in the given key order. Each weight is checked before its name, so a negative
 * weight is reported as one (not as a missing sub-corpus: callers drop the streams of weights ≤ 0); a
 * name with a positive weight must be available; weight 0 leaves a source out; an all-zero mixture is an error.
 */
export function normalizeWeights(weights: Readonly<Record<string, number>>, available: readonly string[]): Map<string, number> {
  const entries = Object.entries(weights);
  for (const [name, w] of entries)
    if (typeof w !== 'number' || !Number.isFinite(w) || w < 0)
      throw new Error(`mixture: the weight of '${name}' must be a finite number ≥ 0, got ${JSON.stringify(w)}`);
  for (const [name, w] of entries)
    if (w > 0 && !available.includes(name))
      throw new Error(`mixture: no sub-corpus '${name}' to weight (have ${available.join(', ')})`);
  const total = entries.reduce((s, [, w]) => s + w, 0);
  if (!(total > 0)) throw new Error(`mixture: the weights sum to ${total}; give at least one sub-corpus a positive weight`);
  return new Map(entries.filter(([, w]) => w > 0).map(([n, w]) => [n, w / total]));
}

/** The mid-training mixture: the pre-training weights scaled to 1 − share, plus `instruct` at `share`. */
export function midtrainWeights(
  pretrain: Readonly<Record<string, number>>,
  instruct: string,
  share = MIDTRAIN_INSTRUCT_SHARE,
): Record<string, number> {
  if (!(share > 0 && share < 1)) throw new Error(`mixture: the instruction share must be in (0, 1), got ${share}`);
  const total = Object.values(pretrain).reduce((s, w) => s + w, 0);
  if (!(total > 0)) throw new Error('mixture: the pre-training weights sum to 0');
  if (instruct in pretrain) throw new Error(`mixture: '${instruct}' is already in the pre-training weights`);
  const out: Record<string, number> = {};
  for (const [n, w] of Object.entries(pretrain)) out[n] = (w / total) * (1 - share);
  out[instruct] = share;
  return out;
}

export interface MixtureState {
  rows: number;
  counts: Record<string, number>;
  streams: Record<string, PackedState>;
}

/** Rows drawn from several PackedStreams in proportion to their weights. */
export class Mixture {
  readonly weights: ReadonlyMap<string, number>;
  #streams: Map<string, PackedStream>;
  #counts: Map<string, number>;
  #rows = 0;

  constructor(streams: readonly PackedStream[], weights: Readonly<Record<string, number>>) {
    const names = streams.map((s) => s.name);
    if (new Set(names).size !== names.length) throw new Error(`mixture: two streams share a name (${names.join(', ')})`);
    this.weights = normalizeWeights(weights, names);
    this.#streams = new Map(streams.filter((s) => this.weights.has(s.name)).map((s) => [s.name, s]));
    this.#counts = new Map([...this.weights.keys()].map((n) => [n, 0]));
  }

  /** The next row and the sub-corpus it came from. */
  next(): Row & { source: string } {
    let best = '';
    let bestError = -Infinity;
    for (const [name, w] of this.weights) {
      const error = w * (this.#rows + 1) - this.#counts.get(name)!;
      if (error > bestError) [best, bestError] = [name, error];
    }
    this.#counts.set(best, this.#counts.get(best)! + 1);
    this.#rows++;
    return { ...this.#streams.get(best)!.next(), source: best };
  }

  /** Rows drawn so far from each source. */
  counts(): Record<string, number> {
    return Object.fromEntries(this.#counts);
  }

  state(): MixtureState {
    const streams: Record<string, PackedState> = {};
    for (const [n, s] of this.#streams) streams[n] = s.state();
    return { rows: this.#rows, counts: this.counts(), streams };
  }

  restore(state: MixtureState): void {
    const names = [...this.weights.keys()];
    const counts = state?.counts ?? {};
    const given = Object.keys(counts);
    if (given.length !== names.length || !names.every((n) => Number.isInteger(counts[n]) && counts[n]! >= 0)) {
      throw new Error(`mixture: state counts ${JSON.stringify(counts)} do not fit this mixture of ${names.join(', ')}`);
    }
    if (names.reduce((s, n) => s + counts[n]!, 0) !== state.rows)
      throw new Error(`mixture: state rows ${state.rows} is not the sum of its counts`);
    for (const n of names) {
      const st = state.streams?.[n];
      if (!st) throw new Error(`mixture: state has no cursor for '${n}'`);
      this.#streams.get(n)!.restore(st);
    }
    this.#rows = state.rows;
    this.#counts = new Map(names.map((n) => [n, counts[n]!]));
  }
}
