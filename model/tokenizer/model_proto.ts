// SentencePiece's `ModelProto` (sentencepiece_model.proto): its field table, parsing a `.model` file with
// validation, and writing one back. Messages keep the .proto's snake_case field names and leave unset
// fields out, so a file parses and re-serializes byte for byte; `resolveOptions` applies the .proto
// defaults. Encoding and decoding live in unigram.ts and decode.ts, not here.

import { readFileSync } from 'node:fs';
import { decodeMessage, encodeMessage, type MessageSchema, type ProtoMessage } from './protobuf.js';

/** ModelProto.SentencePiece.Type. */
export const PieceType = { NORMAL: 1, UNKNOWN: 2, CONTROL: 3, USER_DEFINED: 4, UNUSED: 5, BYTE: 6 } as const;
export type PieceType = (typeof PieceType)[keyof typeof PieceType];
export const pieceTypeName = (t: number) =>
  Object.keys(PieceType).find((k) => PieceType[k as keyof typeof PieceType] === t) ?? `type ${t}`;

/** TrainerSpec.ModelType. */
export const ModelType = { UNIGRAM: 1, BPE: 2, WORD: 3, CHAR: 4 } as const;

export interface SentencePiece extends ProtoMessage {
  piece?: string;
  score?: number;
  type?: number;
}

/** The TrainerSpec fields this project reads or writes (the schema below knows them all). */
export interface TrainerSpec extends ProtoMessage {
  input?: string[];
  model_prefix?: string;
  model_type?: number;
  vocab_size?: number;
  character_coverage?: number;
  num_sub_iterations?: number;
  max_sentencepiece_length?: number;
  split_by_unicode_script?: boolean;
  split_by_number?: boolean;
  split_by_whitespace?: boolean;
  treat_whitespace_as_suffix?: boolean;
  allow_whitespace_only_pieces?: boolean;
  split_digits?: boolean;
  control_symbols?: string[];
  user_defined_symbols?: string[];
  byte_fallback?: boolean;
  hard_vocab_limit?: boolean;
  unk_id?: number;
  bos_id?: number;
  eos_id?: number;
  pad_id?: number;
  unk_piece?: string;
  bos_piece?: string;
  eos_piece?: string;
  unk_surface?: string;
}

export interface NormalizerSpec extends ProtoMessage {
  name?: string;
  precompiled_charsmap?: Uint8Array;
  add_dummy_prefix?: boolean;
  remove_extra_whitespaces?: boolean;
  escape_whitespaces?: boolean;
  normalization_rule_tsv?: string;
}

export interface ModelProto extends ProtoMessage {
  pieces?: SentencePiece[];
  trainer_spec?: TrainerSpec;
  normalizer_spec?: NormalizerSpec;
  self_test_data?: ProtoMessage;
  denormalizer_spec?: NormalizerSpec;
}

const PIECE: MessageSchema = {
  name: 'SentencePiece',
  fields: [
    { num: 1, name: 'piece', kind: 'string' },
    { num: 2, name: 'score', kind: 'float' },
    { num: 3, name: 'type', kind: 'enum' },
  ],
};

const TRAINER_SPEC: MessageSchema = {
  name: 'TrainerSpec',
  fields: [
    ...(['input', 'accept_language', 'control_symbols', 'user_defined_symbols'] as const).map((name) => ({
      num: { input: 1, accept_language: 5, control_symbols: 30, user_defined_symbols: 31 }[name],
      name,
      kind: 'string' as const,
      repeated: true,
    })),
    ...(
      [
        [7, 'input_format'],
        [2, 'model_prefix'],
        [36, 'required_chars'],
        [45, 'unk_piece'],
        [46, 'bos_piece'],
        [47, 'eos_piece'],
        [48, 'pad_piece'],
        [44, 'unk_surface'],
        [53, 'pretokenization_delimiter'],
      ] as const
    ).map(([num, name]) => ({ num, name, kind: 'string' as const })),
    ...(
      [
        [4, 'vocab_size'],
        [6, 'self_test_sample_size'],
        [12, 'mining_sentence_size'],
        [13, 'training_sentence_size'],
        [14, 'seed_sentencepiece_size'],
        [18, 'max_sentence_length'],
        [16, 'num_threads'],
        [17, 'num_sub_iterations'],
        [20, 'max_sentencepiece_length'],
        [40, 'unk_id'],
        [41, 'bos_id'],
        [42, 'eos_id'],
        [43, 'pad_id'],
      ] as const
    ).map(([num, name]) => ({ num, name, kind: 'int32' as const })),
    ...(
      [
        [50, 'enable_differential_privacy'],
        [19, 'shuffle_input_sentence'],
        [21, 'split_by_unicode_script'],
        [23, 'split_by_number'],
        [22, 'split_by_whitespace'],
        [24, 'treat_whitespace_as_suffix'],
        [26, 'allow_whitespace_only_pieces'],
        [25, 'split_digits'],
        [35, 'byte_fallback'],
        [32, 'vocabulary_output_piece_score'],
        [33, 'hard_vocab_limit'],
        [34, 'use_all_vocab'],
        [49, 'train_extremely_large_corpus'],
      ] as const
    ).map(([num, name]) => ({ num, name, kind: 'bool' as const })),
    { num: 3, name: 'model_type', kind: 'enum' },
    { num: 51, name: 'differential_privacy_noise_level', kind: 'float' },
    { num: 10, name: 'character_coverage', kind: 'float' },
    { num: 15, name: 'shrinking_factor', kind: 'float' },
    { num: 52, name: 'differential_privacy_clipping_threshold', kind: 'uint64' },
    { num: 11, name: 'input_sentence_size', kind: 'uint64' },
  ],
};

const NORMALIZER_SPEC: MessageSchema = {
  name: 'NormalizerSpec',
  fields: [
    { num: 1, name: 'name', kind: 'string' },
    { num: 2, name: 'precompiled_charsmap', kind: 'bytes' },
    { num: 3, name: 'add_dummy_prefix', kind: 'bool' },
    { num: 4, name: 'remove_extra_whitespaces', kind: 'bool' },
    { num: 5, name: 'escape_whitespaces', kind: 'bool' },
    { num: 6, name: 'normalization_rule_tsv', kind: 'string' },
  ],
};

const SAMPLE: MessageSchema = {
  name: 'Sample',
  fields: [
    { num: 1, name: 'input', kind: 'string' },
    { num: 2, name: 'expected', kind: 'string' },
  ],
};

const MODEL_PROTO: MessageSchema = {
  name: 'ModelProto',
  fields: [
    { num: 1, name: 'pieces', kind: 'message', repeated: true, schema: PIECE },
    { num: 2, name: 'trainer_spec', kind: 'message', schema: TRAINER_SPEC },
    { num: 3, name: 'normalizer_spec', kind: 'message', schema: NORMALIZER_SPEC },
    {
      num: 4,
      name: 'self_test_data',
      kind: 'message',
      schema: { name: 'SelfTestData', fields: [{ num: 1, name: 'samples', kind: 'message', repeated: true, schema: SAMPLE }] },
    },
    { num: 5, name: 'denormalizer_spec', kind: 'message', schema: NORMALIZER_SPEC },
  ],
};

/** The options the encoder and decoder act on, with the .proto defaults filled in. */
export interface ResolvedOptions {
  byteFallback: boolean;
  addDummyPrefix: boolean;
  removeExtraWhitespaces: boolean;
  escapeWhitespaces: boolean;
  unkSurface: string;
}

export function resolveOptions(m: ModelProto): ResolvedOptions {
  const t = m.trainer_spec ?? {};
  const n = m.normalizer_spec ?? {};
  return {
    byteFallback: t.byte_fallback ?? false,
    addDummyPrefix: n.add_dummy_prefix ?? true,
    removeExtraWhitespaces: n.remove_extra_whitespaces ?? true,
    escapeWhitespaces: n.escape_whitespaces ?? true,
    unkSurface: t.unk_surface ?? ' \u2047 ',
  };
}

/** Parses and validates the bytes of a `.model` file; `where` (a path) names it in errors. */
export function parseModelProto(bytes: Uint8Array, where = '<bytes>'): ModelProto {
  if (bytes.length === 0) throw new Error(`${where}: empty file, not a SentencePiece model`);
  const m = decodeMessage(bytes, MODEL_PROTO, where) as ModelProto;
  validateModelProto(m, where);
  return m;
}

export function readModelProto(path: string): ModelProto {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new Error(`cannot read tokenizer model ${path}: ${(e as Error).message}`);
  }
  return parseModelProto(bytes, path);
}

export function serializeModelProto(m: ModelProto): Uint8Array {
  return encodeMessage(m, MODEL_PROTO, 1 << 20);
}

/**
 * The checks SentencePiece makes when it loads a model (model_interface.cc), plus what this
 * implementation needs: one UNKNOWN piece, no empty or duplicate pieces, byte pieces only with
 * byte_fallback and then all 256 of them, finite scores, a Unigram model, and a normalizer we implement;
 * and, against corruption, normal pieces' scores ≤ 0 and non-increasing (zero scores aside).
 */
export function validateModelProto(m: ModelProto, where: string): void {
  const fail = (what: string): never => {
    throw new Error(`${where}: ${what}`);
  };
  const pieces = m.pieces ?? [];
  if (pieces.length === 0) fail('no pieces: not a SentencePiece model (or an empty one)');
  const t = m.trainer_spec ?? {};
  const modelType = t.model_type ?? ModelType.UNIGRAM;
  if (modelType !== ModelType.UNIGRAM) {
    const name = Object.keys(ModelType).find((k) => ModelType[k as keyof typeof ModelType] === modelType) ?? String(modelType);
    fail(`model_type ${name} is not supported (only UNIGRAM)`);
  }
  const opts = resolveOptions(m);
  const seen = new Map<string, number>();
  const bytesSeen = new Set<number>();
  let unk = -1;
  // A flipped byte that still parses mostly lands in a piece's text (undetectable: another valid piece) or
  // its score. Unigram scores are log-probabilities, written sorted (highest first) by every trainer, ours
  // included: a NORMAL piece scoring above 0, or above an earlier negative one, is corruption. Pieces scored
  // exactly 0 (appended by vocabulary extensions) are left out of the order.
  let lastScore = 0;
  let lastAt = -1;
  pieces.forEach((p, i) => {
    const type = p.type ?? PieceType.NORMAL;
    const text = p.piece ?? '';
    if (type < 1 || type > 6) fail(`pieces[${i}] has unknown type ${type}`);
    if (text === '') fail(`pieces[${i}] is empty`);
    if (!Number.isFinite(p.score ?? 0)) fail(`pieces[${i}] ('${text}') has score ${p.score}`);
    if (type === PieceType.NORMAL && (p.score ?? 0) !== 0) {
      const score = p.score!;
      if (score > 0)
        fail(`pieces[${i}] ('${text}') has score ${score}: a Unigram score is a log-probability (≤ 0); corrupt file?`);
      if (lastAt >= 0 && score > lastScore)
        fail(
          `pieces[${i}] ('${text}') has score ${score}, above pieces[${lastAt}]'s ${lastScore}: normal pieces are sorted by score; corrupt file?`,
        );
      [lastScore, lastAt] = [score, i];
    }
    const prev = seen.get(text);
    if (prev !== undefined) fail(`piece '${text}' is defined twice (ids ${prev} and ${i})`);
    seen.set(text, i);
    if (type === PieceType.UNKNOWN) {
      if (unk >= 0) fail(`two UNKNOWN pieces (ids ${unk} and ${i})`);
      unk = i;
    }
    if (type === PieceType.BYTE) {
      if (!opts.byteFallback) fail(`byte piece '${text}' (id ${i}) but trainer_spec.byte_fallback is off`);
      const b = byteOfPiece(text);
      if (b < 0) fail(`pieces[${i}] is a BYTE piece named '${text}', expected <0x00>…<0xFF>`);
      bytesSeen.add(b);
    }
  });
  if (unk < 0) fail('no UNKNOWN piece (every SentencePiece model has one, usually <unk>)');
  if (opts.byteFallback && bytesSeen.size !== 256)
    fail(`byte_fallback is on but only ${bytesSeen.size} of the 256 byte pieces <0x00>…<0xFF> exist`);
  // A file cut at a field boundary parses; these catch it (SentencePiece always writes both specs).
  const n = m.normalizer_spec;
  if (!m.trainer_spec || !n)
    return fail(`no ${m.trainer_spec ? 'normalizer_spec' : 'trainer_spec'}: truncated or not a SentencePiece model`);
  if ((t.hard_vocab_limit ?? true) && t.vocab_size !== undefined && t.vocab_size !== pieces.length) {
    fail(`trainer_spec.vocab_size is ${t.vocab_size} but the file has ${pieces.length} pieces (truncated?)`);
  }
  if ((n.precompiled_charsmap?.length ?? 0) > 0)
    fail(`normalizer '${n.name ?? ''}' has a precompiled charsmap; only the identity normalizer is supported`);
  if ((n.normalization_rule_tsv ?? '') !== '')
    fail('normalizer_spec.normalization_rule_tsv is set; only the identity normalizer is supported');
  if (t.treat_whitespace_as_suffix) fail('trainer_spec.treat_whitespace_as_suffix is not supported');
  if (m.denormalizer_spec && (m.denormalizer_spec.precompiled_charsmap?.length ?? 0) > 0) fail('a denormalizer is not supported');
}

/** `<0x41>` → 0x41; -1 for anything else. */
export function byteOfPiece(piece: string): number {
  if (piece.length !== 6 || !piece.startsWith('<0x') || piece[5] !== '>') return -1;
  const hex = piece.slice(3, 5);
  return /^[0-9A-F]{2}$/.test(hex) ? parseInt(hex, 16) : -1;
}

export const pieceOfByte = (b: number) => `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`;
