// The lattice computations of Unigram training over a set of words: the E-step (forward–backward
// expected piece counts), Viterbi segmentation, and each piece's best alternative segmentation, all
// over a ByteTrie of the current pieces. A character no piece covers gets an unknown edge scored
// below every piece (min − 10), as SentencePiece's lattice does. The training loop is trainer.ts.

import { ByteTrie, utf8CharLength } from './trie.js';

/** Words as one UTF-8 byte array: word i spans bytes[offsets[i], offsets[i+1]) and occurs freq[i] times. */
export interface WordSet {
  bytes: Uint8Array;
  offsets: Int32Array;
  freq: Float64Array;
}

/** Current pieces: strings, log-probability scores, and their trie (node → piece index). */
export class PieceLattice {
  readonly trie: ByteTrie;
  readonly unkScore: number;
  private readonly offsets: Int32Array;
  private readonly keyBytes: Uint8Array;

  constructor(
    readonly pieces: readonly string[],
    readonly scores: Float64Array,
  ) {
    const offsets = new Int32Array(pieces.length + 1);
    pieces.forEach((p, i) => (offsets[i + 1] = offsets[i]! + Buffer.byteLength(p)));
    this.offsets = offsets;
    this.keyBytes = Buffer.from(pieces.join(''), 'utf8');
    this.trie = new ByteTrie(
      this.keyBytes,
      offsets,
      Int32Array.from(pieces, (_, i) => i),
    );
    let min = 0;
    for (const s of scores) min = Math.min(min, s);
    this.unkScore = min - 10;
  }

  /**
   * Visits the edges of the lattice of bytes[a, b): (start, end, piece or −1 for unknown, score), with
   * starts in increasing order. `skip` leaves out one edge: the whole span as piece `skip`.
   */
  edges(
    bytes: Uint8Array,
    a: number,
    b: number,
    visit: (s: number, e: number, piece: number, score: number) => void,
    skip = -1,
  ): void {
    const { trie, scores } = this;
    const value = trie.value;
    for (let s = a; s < b;) {
      const lead = bytes[s]!;
      const mblen = Math.min(utf8CharLength(lead), b - s);
      let single = false;
      let node = 0;
      for (let pos = s; pos < b;) {
        node = trie.next(node, bytes[pos++]!);
        if (node < 0) break;
        const piece = value[node]!;
        if (piece < 0 || (piece === skip && s === a && pos === b)) continue;
        visit(s, pos, piece, scores[piece]!);
        if (pos - s === mblen) single = true;
      }
      if (!single) visit(s, s + mblen, -1, this.unkScore);
      s += mblen;
    }
  }

  /** Adds each piece's expected count (× word frequency) to `expected`; returns Σ freq · log Z. */
  eStep(words: WordSet, expected: Float64Array): number {
    let objective = 0;
    const es: number[] = [];
    const ee: number[] = [];
    const ep: number[] = [];
    const esc: number[] = [];
    let alpha = new Float64Array(0);
    let beta = new Float64Array(0);
    for (let w = 0; w < words.freq.length; w++) {
      const a = words.offsets[w]!;
      const n = words.offsets[w + 1]! - a;
      if (alpha.length < n + 1) [alpha, beta] = [new Float64Array(2 * n + 2), new Float64Array(2 * n + 2)];
      alpha.fill(-Infinity, 0, n + 1);
      beta.fill(-Infinity, 0, n + 1);
      alpha[0] = 0;
      es.length = ee.length = ep.length = esc.length = 0;
      // Forward: alpha[e] = log Σ over paths to e; edges come in increasing start order.
      this.edges(words.bytes, a, a + n, (s, e, piece, score) => {
        es.push(s - a);
        ee.push(e - a);
        ep.push(piece);
        esc.push(score);
        alpha[e - a] = logAdd(alpha[e - a]!, alpha[s - a]! + score);
      });
      const z = alpha[n]!;
      const f = words.freq[w]!;
      objective += f * z;
      // Backward, edges in reverse: every edge out of e is done before an edge into e is read.
      beta[n] = 0;
      for (let i = es.length - 1; i >= 0; i--) {
        const [s, e, score] = [es[i]!, ee[i]!, esc[i]!];
        beta[s] = logAdd(beta[s]!, score + beta[e]!);
        if (ep[i]! >= 0) expected[ep[i]!] += f * Math.exp(alpha[s]! + score + beta[e]! - z);
      }
    }
    return objective;
  }

  /** The best segmentation of bytes[a, b) as piece indices (−1 for an unknown character). */
  viterbi(bytes: Uint8Array, a: number, b: number, skip = -1): number[] {
    const n = b - a;
    const best = new Float64Array(n + 1).fill(-Infinity);
    const from = new Int32Array(n + 1);
    const via = new Int32Array(n + 1);
    best[0] = 0;
    this.edges(
      bytes,
      a,
      b,
      (s, e, piece, score) => {
        const c = best[s - a]! + score;
        if (c > best[e - a]!) [best[e - a], from[e - a], via[e - a]] = [c, s - a, piece];
      },
      skip,
    );
    const path: number[] = [];
    for (let e = n; e > 0; e = from[e]!) path.push(via[e]!);
    return path.reverse();
  }

  /**
   * How piece i would be segmented without it (SentencePiece's NBest(2) on the piece's own string):
   * null when its best segmentation is already something else (it can go), [] when there is no
   * other way (a single character: keep it), else the pieces of the best other way.
   */
  alternative(i: number): number[] | null {
    const [a, b] = [this.offsets[i]!, this.offsets[i + 1]!];
    const best = this.viterbi(this.keyBytes, a, b);
    if (best.length !== 1 || best[0] !== i) return null;
    const other = this.viterbi(this.keyBytes, a, b, i);
    return other.length === 1 && other[0] === -1 ? [] : other;
  }
}

/** log(e^x + e^y), stable; −∞ is the identity. */
export function logAdd(x: number, y: number): number {
  if (x === -Infinity) return y;
  if (y === -Infinity) return x;
  return x > y ? x + Math.log1p(Math.exp(y - x)) : y + Math.log1p(Math.exp(x - y));
}

/** SentencePiece's digamma approximation (unigram_model_trainer.cc), for the Bayesian M-step. */
export function digamma(x: number): number {
  let result = 0;
  for (; x < 7; ++x) result -= 1 / x;
  x -= 0.5;
  const xx = 1 / x;
  const xx2 = xx * xx;
  const xx4 = xx2 * xx2;
  return result + Math.log(x) + xx2 / 24 - (7 / 960) * xx4 + (31 / 8064) * xx4 * xx2 - (127 / 30720) * xx4 * xx4;
}
