// The held-out validation split of one sub-corpus: each document's rank is a hash of its id (salted), and
// the lowest-ranked `validFraction` go to validation. It depends on nothing but the ids, so every run,
// every stage and `llmjp4 eval` agree on it, and editing one document never moves another across the line.

import { createHash } from 'node:crypto';

export interface SplitOptions {
  /** Share of the documents held out (default 0.05); at least one when there are two or more. */
  validFraction?: number;
  /** Salt of the hash (default 'llmjp4-valid'): another salt draws another split. */
  salt?: string;
}

export interface Split<T> {
  /** In the input order. */
  train: T[];
  /** In the input order. */
  valid: T[];
}

export const DEFAULT_VALID_FRACTION = 0.05;
export const DEFAULT_SPLIT_SALT = 'llmjp4-valid';

/** Splits documents into train and validation by a hash of their ids; ids must be unique. */
export function splitHeldOut<T extends { id: string }>(docs: readonly T[], opts: SplitOptions = {}): Split<T> {
  const fraction = opts.validFraction ?? DEFAULT_VALID_FRACTION;
  if (!(fraction >= 0 && fraction < 1)) throw new Error(`splitHeldOut: validFraction must be in [0, 1), got ${fraction}`);
  const salt = opts.salt ?? DEFAULT_SPLIT_SALT;
  const seen = new Set<string>();
  for (const d of docs) {
    if (seen.has(d.id)) throw new Error(`splitHeldOut: document id '${d.id}' appears twice`);
    seen.add(d.id);
  }
  // How many to hold out: round(fraction · n), but at least one (a split with an empty validation
  // set measures nothing) and never all of them.
  const n = docs.length;
  const k = fraction === 0 || n < 2 ? 0 : Math.min(n - 1, Math.max(1, Math.round(fraction * n)));
  const ranked = docs.map((d, i) => ({ i, rank: rankOf(salt, d.id) }));
  ranked.sort((a, b) => (a.rank < b.rank ? -1 : a.rank > b.rank ? 1 : a.i - b.i));
  const held = new Set(ranked.slice(0, k).map((r) => r.i));
  return { train: docs.filter((_, i) => !held.has(i)), valid: docs.filter((_, i) => held.has(i)) };
}

/** A document's rank: the first 16 hex digits of sha256(salt NUL id), compared as strings. */
function rankOf(salt: string, id: string): string {
  return createHash('sha256').update(salt).update('\0').update(id).digest('hex').slice(0, 16);
}
