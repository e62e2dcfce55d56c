// A Unigram tokenizer trainer after SentencePiece's (unigram_model_trainer.cc): seed pieces from
// substring counts, EM with the Bayesian (digamma) M-step, pruning to 3/4 by the likelihood lost
// without each piece, until 1.1 × the target size; then the required characters plus the best pieces.
// The output is a ModelProto in LLM-jp-4's layout (ids 0–351 special, 256 byte pieces, byte fallback on).

import { writeFileAtomic } from '../io/atomic_write.js';
import { PieceType, ModelType, pieceOfByte, serializeModelProto, type ModelProto, type SentencePiece } from './model_proto.js';
import { llmjp4ReservedPieces } from './special_tokens.js';
import { corpusFiles, countWords, readCorpusLines, sampleLines } from './trainer_corpus.js';
import { PieceLattice, digamma, type WordSet } from './trainer_lattice.js';
import { seedPieces } from './trainer_seed.js';

export interface TrainOptions {
  /** Total pieces, the 608 special and byte pieces included (e.g. 8000). */
  vocabSize: number;
  /** Characters kept as pieces: the most frequent ones covering this share of the text (default 0.995). */
  characterCoverage?: number;
  /** Longest piece, in characters (default 16, as LLM-jp-4). */
  maxPieceLength?: number;
  /** Seed pieces before EM (default max(10 × vocabSize, 20,000)). */
  seedSize?: number;
  /** EM iterations between prunings (default 2, SentencePiece's num_sub_iterations). */
  subIterations?: number;
  /** Where the text came from, recorded in trainer_spec.input. */
  inputs?: string[];
  /** Called with a line of progress now and then. */
  log?: (line: string) => void;
}

/** The number of ids before the first NORMAL piece: 352 special pieces and 256 byte pieces. */
export const META_PIECES = 352 + 256;

/** Trains on lines of text and returns the model (ModelProto) in LLM-jp-4's layout. */
export function trainUnigram(lines: readonly string[], opts: TrainOptions): ModelProto {
  const log = opts.log ?? (() => {});
  const target = opts.vocabSize - META_PIECES;
  if (!Number.isInteger(opts.vocabSize) || target < 1)
    throw new Error(
      `train-tokenizer: vocab size must be an integer above ${META_PIECES} (the special and byte pieces), got ${opts.vocabSize}`,
    );
  const maxLength = opts.maxPieceLength ?? 16;
  const words = countWords(lines);
  if (words.size === 0) throw new Error('train-tokenizer: the input has no text');
  const required = requiredChars(words, opts.characterCoverage ?? 0.995);
  const seeds = seedPieces(words, new Set(required.keys()), {
    seedSize: opts.seedSize ?? Math.max(10 * opts.vocabSize, 20000),
    maxLength,
  });
  log(`${lines.length} lines, ${words.size} distinct words, ${required.size} required characters, ${seeds.size} seed pieces`);
  const data = wordSet(words);
  // Scores start as log relative frequencies of the seeds.
  let pieces = [...seeds.keys()];
  const total = [...seeds.values()].reduce((a, b) => a + b, 0);
  let scores: Float64Array = Float64Array.from(seeds.values(), (c) => Math.log(c) - Math.log(total));
  const desired = Math.floor(target * 1.1);
  for (let round = 1; ; round++) {
    for (let it = 0; it < (opts.subIterations ?? 2); it++) {
      const lattice = new PieceLattice(pieces, scores);
      const expected = new Float64Array(pieces.length);
      const objective = lattice.eStep(data, expected);
      [pieces, scores] = mStep(pieces, expected);
      log(
        `round ${round}.${it + 1}: ${pieces.length} pieces, log-likelihood per word ${(objective / sum(data.freq)).toFixed(3)}`,
      );
    }
    if (pieces.length <= desired) break;
    const before = pieces.length;
    [pieces, scores] = prune(new PieceLattice(pieces, scores), data, desired);
    // Single characters are never pruned; when they alone exceed the target, stop here and let
    // finalPieces keep the most frequent ones.
    if (pieces.length === before) break;
  }
  return buildModel(finalPieces(pieces, scores, required, target), opts, maxLength);
}

/** Reads a folder (or file) of text, keeps about `maxBytes` of it, and trains. */
export function trainFromDir(input: string, opts: TrainOptions & { maxBytes?: number }): ModelProto {
  const files = corpusFiles(input);
  if (files.length === 0) throw new Error(`train-tokenizer: no .txt or .jsonl files under ${input}`);
  const lines = sampleLines(readCorpusLines(files), opts.maxBytes ?? Infinity);
  return trainUnigram(lines, { ...opts, inputs: opts.inputs ?? files });
}

export function writeModel(path: string, model: ModelProto): void {
  writeFileAtomic(path, serializeModelProto(model));
}

function sum(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]!;
  return s;
}

/** The most frequent characters covering `coverage` of all characters, with their counts (SentencePiece's required_chars). */
function requiredChars(words: ReadonlyMap<string, number>, coverage: number): Map<number, number> {
  const counts = new Map<number, number>();
  for (const [w, f] of words) for (const ch of w) counts.set(ch.codePointAt(0)!, (counts.get(ch.codePointAt(0)!) ?? 0) + f);
  const sorted = [...counts].filter(([c]) => c !== 0).sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  const all = sum(sorted.map(([, n]) => n));
  const out = new Map<number, number>();
  let covered = 0;
  for (const [c, n] of sorted) {
    if (covered >= coverage * all) break;
    out.set(c, n);
    covered += n;
  }
  return out;
}

function wordSet(words: ReadonlyMap<string, number>): WordSet {
  const list = [...words.keys()];
  const offsets = new Int32Array(list.length + 1);
  list.forEach((w, i) => (offsets[i + 1] = offsets[i]! + Buffer.byteLength(w)));
  return { bytes: Buffer.from(list.join(''), 'utf8'), offsets, freq: Float64Array.from(words.values()) };
}

/** Drops pieces expected fewer than 0.5 times; scores become digamma(count) − digamma(total). */
function mStep(pieces: readonly string[], expected: Float64Array): [string[], Float64Array] {
  const keep = pieces.map((_, i) => i).filter((i) => expected[i]! >= 0.5);
  const logTotal = digamma(sum(keep.map((i) => expected[i]!)));
  return [keep.map((i) => pieces[i]!), Float64Array.from(keep, (i) => digamma(expected[i]!) - logTotal)];
}

/**
 * Keeps max(desired, 3/4 of the pieces): pieces with no other segmentation first, then the ones whose
 * removal would cost the most likelihood (Viterbi counts moved onto their best alternative).
 */
function prune(lattice: PieceLattice, data: WordSet, desired: number): [string[], Float64Array] {
  const n = lattice.pieces.length;
  const freq = new Float64Array(n);
  let total = 0;
  for (let w = 0; w < data.freq.length; w++) {
    total += data.freq[w]!;
    for (const p of lattice.viterbi(data.bytes, data.offsets[w]!, data.offsets[w + 1]!)) if (p >= 0) freq[p] += data.freq[w]!;
  }
  const pieceSum = sum(freq);
  const kept: number[] = [];
  const candidates: [number, number][] = [];
  for (let i = 0; i < n; i++) {
    if (freq[i] === 0) continue;
    const alt = lattice.alternative(i);
    if (alt === null) continue;
    if (alt.length === 0) {
      kept.push(i);
      continue;
    }
    // loss = F · (log p(piece) − Σ log p'(alternatives)), with the piece's count moved to its alternatives.
    const logSumAlt = Math.log(pieceSum + freq[i]! * (alt.length - 1));
    let logProbAlt = 0;
    for (const a of alt) logProbAlt += Math.log((a >= 0 ? freq[a]! : 0) + freq[i]!) - logSumAlt;
    const loss = (freq[i]! / total) * (Math.log(freq[i]!) - Math.log(pieceSum) - logProbAlt);
    candidates.push([i, loss]);
  }
  const size = Math.max(desired, Math.floor(0.75 * n));
  candidates.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  for (const [i] of candidates) {
    if (kept.length >= size) break;
    kept.push(i);
  }
  kept.sort((a, b) => a - b);
  return [kept.map((i) => lattice.pieces[i]!), Float64Array.from(kept, (i) => lattice.scores[i]!)];
}

/** Required characters (with their score, or just under the lowest), then the best-scoring pieces. */
function finalPieces(
  pieces: readonly string[],
  scores: Float64Array,
  required: ReadonlyMap<number, number>,
  target: number,
): [string, number][] {
  const score = new Map(pieces.map((p, i) => [p, scores[i]!]));
  const min = Math.min(0, ...scores);
  const out = new Map<string, number>();
  let penalty = 0;
  for (const c of [...required.keys()].slice(0, target)) {
    const s = String.fromCodePoint(c);
    out.set(s, score.get(s) ?? min - (penalty += 1e-4)); // frequent characters get the smaller penalty
  }
  const byScore = pieces.map((p, i) => [p, scores[i]!] as [string, number]).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  for (const [p, s] of byScore) {
    if (out.size >= target) break;
    if (!out.has(p)) out.set(p, s);
  }
  return [...out].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
}

/** The ModelProto: LLM-jp-4's special and byte pieces, the trained pieces, and its options. */
function buildModel(trained: [string, number][], opts: TrainOptions, maxLength: number): ModelProto {
  const reserved = llmjp4ReservedPieces();
  const type = (i: number) => (i === 0 ? PieceType.UNKNOWN : i <= 2 ? PieceType.CONTROL : PieceType.USER_DEFINED);
  const pieces: SentencePiece[] = [
    ...reserved.map((piece, i) => ({ piece, score: 0, type: type(i) })),
    ...Array.from({ length: 256 }, (_, b) => ({ piece: pieceOfByte(b), score: 0, type: PieceType.BYTE })),
    ...trained.map(([piece, score]) => ({ piece, score: Math.fround(score) })),
  ];
  return {
    pieces,
    trainer_spec: {
      input: opts.inputs ?? [],
      model_type: ModelType.UNIGRAM,
      vocab_size: pieces.length,
      character_coverage: opts.characterCoverage ?? 0.995,
      num_sub_iterations: opts.subIterations ?? 2,
      max_sentencepiece_length: maxLength,
      split_by_whitespace: true,
      split_digits: true,
      allow_whitespace_only_pieces: true,
      user_defined_symbols: reserved.slice(3),
      byte_fallback: true,
      hard_vocab_limit: true,
      unk_id: 0,
      bos_id: 1,
      eos_id: 2,
      pad_id: -1,
      bos_piece: '<s>',
      eos_piece: '</s>',
    },
    normalizer_spec: { name: 'identity', precompiled_charsmap: new Uint8Array(0), remove_extra_whitespaces: false },
  };
}
