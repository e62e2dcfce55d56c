// Seed pieces for the Unigram trainer: every character, plus the frequent substrings of the words,
// ranked by frequency × length as SentencePiece ranks its suffix-array substrings. Substrings are
// grown one character at a time from those already frequent and valid (an invalid or rare string
// has no valid, frequent extension), so the work stays near linear in the corpus. Not the EM itself.

import { isDigit, isValidPiece, scriptOf } from './trainer_corpus.js';
import { SPACE_SYMBOL } from './normalizer.js';

export interface SeedOptions {
  /** How many seed pieces at most (characters included). */
  seedSize: number;
  /** Longest piece, in characters. */
  maxLength: number;
  /** A substring must occur at least this often (weighted by word count) to seed a piece. */
  minCount?: number;
}

const SPACE_CP = SPACE_SYMBOL.codePointAt(0)!;
const INHERITED = scriptOf(0x0301);

/**
 * Seeds as piece → count: the `required` characters first (most frequent first), then substrings of
 * two or more characters by count × length. Characters outside `required` never enter a piece.
 */
export function seedPieces(
  words: ReadonlyMap<string, number>,
  required: ReadonlySet<number>,
  opts: SeedOptions,
): Map<string, number> {
  const minCount = opts.minCount ?? 2;
  // All words in one array of code points, −1 between words and in place of excluded characters.
  const cps: number[] = [];
  const freqOf: number[] = [];
  const charCount = new Map<number, number>();
  for (const [w, f] of words) {
    for (const ch of w) {
      const c = ch.codePointAt(0)!;
      const ok = required.has(c) && c !== 0;
      cps.push(ok ? c : -1);
      freqOf.push(f);
      if (ok) charCount.set(c, (charCount.get(c) ?? 0) + f);
    }
    cps.push(-1);
    freqOf.push(0);
  }
  // Active substrings: start position, with the running hash and the state the validity rule needs.
  let starts: number[] = [];
  for (let p = 0; p < cps.length; p++) if (cps[p]! >= 0 && !isDigit(cps[p]!)) starts.push(p);
  let hashA = new Float64Array(starts.map((p) => cps[p]!));
  let hashB = new Float64Array(hashA);
  // Frequent substrings found so far (first occurrence, length, count), as parallel arrays.
  const foundPos: number[] = [];
  const foundLen: number[] = [];
  const foundCount: number[] = [];
  for (let len = 2; len <= opts.maxLength && starts.length > 0; len++) {
    // Pass 1: count each extended substring under a 52-bit double hash (two 26-bit polynomial hashes).
    const counts = new Map<number, number>();
    const keys = new Float64Array(starts.length);
    const alive = new Uint8Array(starts.length);
    for (let i = 0; i < starts.length; i++) {
      const p = starts[i]!;
      const c = cps[p + len - 1]!;
      if (c < 0 || !extends_(cps, p, len)) continue;
      hashA[i] = (hashA[i]! * 1000003 + c) % 67108859;
      hashB[i] = (hashB[i]! * 999983 + c) % 67108837;
      const key = hashA[i]! * 67108864 + hashB[i]!;
      keys[i] = key;
      alive[i] = 1;
      counts.set(key, (counts.get(key) ?? 0) + freqOf[p]!);
    }
    // Pass 2: keep the frequent ones as candidates (first occurrence) and as starts for the next length.
    const next: number[] = [];
    const nextA: number[] = [];
    const nextB: number[] = [];
    for (let i = 0; i < starts.length; i++) {
      if (!alive[i]) continue;
      const stored = counts.get(keys[i]!)!;
      const count = Math.abs(stored);
      if (count < minCount) continue;
      if (stored > 0) {
        foundPos.push(starts[i]!);
        foundLen.push(len);
        foundCount.push(count);
        counts.set(keys[i]!, -count); // negative: already listed
      }
      next.push(starts[i]!);
      nextA.push(hashA[i]!);
      nextB.push(hashB[i]!);
    }
    [starts, hashA, hashB] = [next, Float64Array.from(nextA), Float64Array.from(nextB)];
  }
  const seeds = new Map<string, number>();
  const byCount = [...charCount].sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  for (const [c, n] of byCount) seeds.set(String.fromCodePoint(c), n);
  const order = Array.from(foundPos, (_, i) => i);
  const score = (i: number) => foundCount[i]! * foundLen[i]!;
  order.sort((a, b) => score(b) - score(a) || foundPos[a]! - foundPos[b]! || foundLen[a]! - foundLen[b]!);
  for (const i of order) {
    if (seeds.size >= opts.seedSize) break;
    const piece = String.fromCodePoint(...cps.slice(foundPos[i]!, foundPos[i]! + foundLen[i]!));
    if (!seeds.has(piece)) seeds.set(piece, foundCount[i]!);
  }
  return seeds;
}

/** Whether the valid piece cps[p, p+len−1) stays valid with cps[p+len−1] appended (cheap checks first). */
function extends_(cps: readonly number[], p: number, len: number): boolean {
  const c = cps[p + len - 1]!;
  if (isDigit(c)) return false;
  const first = cps[p]!;
  if (c === SPACE_CP) return first === SPACE_CP && cps[p + len - 2] === SPACE_CP; // only all-▁ pieces grow with ▁
  if (first === SPACE_CP && len > 2 && cps[p + 1] === SPACE_CP) return false; // ▁▁x: ▁ after the front
  const s = scriptOf(c);
  if (s === INHERITED) return true;
  // The script of the piece so far is that of its last non-inherited, non-▁ character.
  for (let q = p + len - 2; q >= p; q--) {
    const prev = cps[q]!;
    if (prev === SPACE_CP) return true;
    const ps = scriptOf(prev);
    if (ps !== INHERITED) return ps === s;
  }
  return true;
}

/** A check that the fast rule above agrees with the full validity rule (used by the tests). */
export const isValidSeed = (piece: string, maxLength: number) =>
  isValidPiece(
    [...piece].map((c) => c.codePointAt(0)!),
    maxLength,
  );
