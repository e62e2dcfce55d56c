// The SentencePiece Unigram model: the piece table of a ModelProto and encoding by Viterbi, exactly as
// SentencePiece's `Model::EncodeOptimized` (unigram_model.cc) does, then byte fallback as
// `SentencePieceProcessor::Encode` does. Float rounding, tie-breaking and the special scores of
// user-defined and unknown nodes follow the C++ line by line. No sampling, no n-best; decoding is decode.ts.

import { ByteTrie, utf8CharLength } from './trie.js';
import {
  byteOfPiece,
  parseModelProto,
  PieceType,
  readModelProto,
  resolveOptions,
  type ModelProto,
  type ResolvedOptions,
} from './model_proto.js';
import { normalize } from './normalizer.js';

/** SentencePiece's kUnkPenalty: an unknown character costs this much below the worst piece. */
const UNK_PENALTY = 10;
/** FLT_MIN and FLT_MAX, the starting points of SentencePiece's max_score_ and min_score_. */
const FLT_MIN = 1.1754943508222875e-38;
const FLT_MAX = 3.4028234663852886e38;

export interface Encoding {
  ids: number[];
  pieces: string[];
}

/** Pieces that may not be matched in text, made by `SentencePieceModel.excluding` (opaque). */
export interface PieceExclusion {
  /** The trie's node → id table with the excluded ids removed. */
  readonly value: Int32Array;
}

export class SentencePieceModel {
  readonly options: ResolvedOptions;
  /** Piece strings, scores (float32) and types, by id. */
  readonly pieces: readonly string[];
  readonly scores: Float32Array;
  readonly types: Uint8Array;
  readonly unkId: number;
  /** Id of `<0xNN>` for each byte value, or -1 when the model has no byte pieces. */
  readonly byteIds: Int32Array;
  private readonly trie: ByteTrie;
  /** The score the Viterbi gives the piece ending at each trie node (user-defined bonus included). */
  private readonly nodeScore: Float64Array;
  private readonly unkScore: number;
  private readonly maxScore: number;
  private pieceIds: Map<string, number> | undefined;
  // Scratch buffers reused across calls (encoding is synchronous), grown on demand.
  private bytes = new Uint8Array(0);
  private best = new Float32Array(0);
  private from = new Int32Array(0);
  private nodeId = new Int32Array(0);

  constructor(readonly proto: ModelProto) {
    const list = proto.pieces ?? [];
    this.options = resolveOptions(proto);
    this.pieces = list.map((p) => p.piece ?? '');
    this.scores = Float32Array.from(list, (p) => p.score ?? 0);
    this.types = Uint8Array.from(list, (p) => p.type ?? PieceType.NORMAL);
    this.unkId = this.types.indexOf(PieceType.UNKNOWN);
    this.byteIds = new Int32Array(256).fill(-1);
    // min/max over NORMAL pieces only, reset to 0 when there are none (unigram_model.cc).
    let min = FLT_MAX;
    let max = FLT_MIN;
    const keyIds: number[] = [];
    this.types.forEach((t, id) => {
      if (t === PieceType.NORMAL) {
        min = Math.min(min, this.scores[id]!);
        max = Math.max(max, this.scores[id]!);
      }
      if (t === PieceType.BYTE) this.byteIds[byteOfPiece(this.pieces[id]!)] = id;
      // The trie holds what SentencePiece calls pieces_: NORMAL, USER_DEFINED and UNUSED.
      if (t === PieceType.NORMAL || t === PieceType.USER_DEFINED || t === PieceType.UNUSED) {
        keyIds.push(id);
      }
    });
    if (min === FLT_MAX) min = 0;
    if (max === FLT_MIN) max = 0;
    this.maxScore = max;
    this.unkScore = Math.fround(min - UNK_PENALTY);
    // All keys are encoded to UTF-8 in one call (one per piece costs ~0.3 s at this vocabulary size).
    const keyStrings = keyIds.map((id) => this.pieces[id]!);
    const offsets = new Int32Array(keyIds.length + 1);
    keyStrings.forEach((k, i) => (offsets[i + 1] = offsets[i]! + utf8Length(k)));
    this.trie = new ByteTrie(new TextEncoder().encode(keyStrings.join('')), offsets, keyIds);
    this.nodeScore = new Float64Array(this.trie.nodeCount);
    keyIds.forEach((id, i) => {
      const node = this.trie.keyNode[i]!;
      const type = this.types[id]!;
      const length = offsets[i + 1]! - offsets[i]!;
      // A user-defined piece scores length·max_score − 0.1 (≈ −0.1 here), so it always wins; the C++
      // computes this in double (float product minus a double constant).
      this.nodeScore[node] = type === PieceType.USER_DEFINED ? Math.fround(length * this.maxScore) - 0.1 : this.scores[id]!;
      // UNUSED pieces sit in SentencePiece's trie but are skipped when matched: leave them out.
      if (type === PieceType.UNUSED) this.trie.value[node] = -1;
    });
  }

  static fromFile(path: string): SentencePieceModel {
    return new SentencePieceModel(readModelProto(path));
  }

  static fromBytes(bytes: Uint8Array, where = '<bytes>'): SentencePieceModel {
    return new SentencePieceModel(parseModelProto(bytes, where));
  }

  get vocabSize(): number {
    return this.pieces.length;
  }

  /** The id of a piece string, or the unknown id when the model has no such piece (as SentencePiece). */
  pieceToId(piece: string): number {
    this.pieceIds ??= new Map(this.pieces.map((p, i) => [p, i]));
    return this.pieceIds.get(piece) ?? this.unkId;
  }

  idToPiece(id: number): string {
    this.checkId(id, 'idToPiece');
    return this.pieces[id]!;
  }

  checkId(id: number, op: string): void {
    if (!Number.isInteger(id) || id < 0 || id >= this.pieces.length) {
      throw new Error(`${op}: piece id ${id} is out of range [0, ${this.pieces.length})`);
    }
  }

  /**
   * A set of pieces the encoder will not match in text: the HF tokenizer does not know LLM-jp-4's old
   * user-defined names (`<mask>`, `<RESERVED_000>`), so its text must not turn into ids 3–351.
   */
  excluding(ids: Iterable<number>): PieceExclusion {
    const value = this.trie.value.slice();
    const drop = new Set(ids);
    value.forEach((id, node) => drop.has(id) && (value[node] = -1));
    return { value };
  }

  /** `sp.encode(text)`: ids, no BOS/EOS (with `exclude`, those pieces are left out of the match). */
  encodeIds(text: string, exclude?: PieceExclusion): number[] {
    const n = this.viterbi(normalize(text, this.options), exclude?.value ?? this.trie.value);
    const ids: number[] = [];
    this.emit(
      n,
      (id) => ids.push(id),
      () => ids.push(this.unkId),
    );
    return ids;
  }

  /** `sp.encode(text)` and `sp.encode(text, out_type=str)` together. */
  encode(text: string): Encoding {
    const n = this.viterbi(normalize(text, this.options), this.trie.value);
    const ids: number[] = [];
    const pieces: string[] = [];
    const dec = new TextDecoder();
    this.emit(
      n,
      (id) => {
        ids.push(id);
        pieces.push(this.pieces[id]!);
      },
      (start, end) => {
        // Without byte fallback an unknown span keeps its own text as its piece (and id unk).
        ids.push(this.unkId);
        pieces.push(dec.decode(this.bytes.subarray(start, end)));
      },
    );
    return { ids, pieces };
  }

  /**
   * Fills best/from/nodeId for the UTF-8 bytes of `normalized` and returns its byte length. For each
   * end position: the best path score (float32, as the C++ stores it), where its last node starts,
   * and that node's id.
   */
  private viterbi(normalized: string, value: Int32Array): number {
    this.ensureCapacity(normalized.length * 3 + 1);
    // A lone surrogate (not valid Unicode, so SentencePiece never sees one) is encoded as U+FFFD.
    const size = new TextEncoder().encodeInto(normalized, this.bytes).written;
    const { bytes, best, from, nodeId, trie, nodeScore } = this;
    from.fill(-1, 0, size + 1);
    best[0] = 0;
    from[0] = 0;
    for (let start = 0; start < size;) {
      const tillHere = best[start]!;
      const lead = bytes[start]!;
      const mblen = Math.min(utf8CharLength(lead), size - start);
      let hasSingleNode = false;
      let node = 0;
      for (let pos = start; pos < size;) {
        node = trie.next(node, bytes[pos++]!);
        if (node < 0) break;
        const id = value[node]!;
        if (id < 0) continue;
        // The C++ adds the float path score to the (double) piece score in double.
        const candidate = nodeScore[node]! + tillHere;
        if (from[pos] === -1 || candidate > best[pos]!) {
          best[pos] = candidate; // stored as float32, as target_node.best_path_score is a float
          from[pos] = start;
          nodeId[pos] = id;
        }
        if (pos - start === mblen) hasSingleNode = true;
      }
      if (!hasSingleNode) {
        // No piece covers this one character: an unknown node (float + float, rounded to float).
        const end = start + mblen;
        const candidate = Math.fround(this.unkScore + tillHere);
        if (from[end] === -1 || candidate > best[end]!) {
          best[end] = candidate;
          from[end] = start;
          nodeId[end] = this.unkId;
        }
      }
      start += mblen;
    }
    return size;
  }

  /** Walks the best path back from `size` and reports nodes front to back, expanding unknowns. */
  private emit(size: number, onId: (id: number) => void, onUnknownSpan: (start: number, end: number) => void): void {
    const ends: number[] = [];
    for (let end = size; end > 0; end = this.from[end]!) ends.push(end);
    const fallback = this.options.byteFallback;
    let unknownStart = -1;
    for (let i = ends.length - 1; i >= 0; i--) {
      const end = ends[i]!;
      const start = this.from[end]!;
      const id = this.nodeId[end]!;
      if (id !== this.unkId) {
        if (unknownStart >= 0) onUnknownSpan(unknownStart, start);
        unknownStart = -1;
        onId(id);
      } else if (fallback) {
        // Byte fallback: an unknown character becomes its UTF-8 bytes, <0xNN> each.
        for (let p = start; p < end; p++) onId(this.byteIds[this.bytes[p]!]!);
      } else if (unknownStart < 0) {
        // Consecutive unknown nodes merge into one unknown piece (SentencePieceProcessor::Encode).
        unknownStart = start;
      }
    }
    if (unknownStart >= 0) onUnknownSpan(unknownStart, size);
  }

  private ensureCapacity(n: number): void {
    if (this.bytes.length >= n) return;
    const size = Math.max(n, 2 * this.bytes.length, 1024);
    this.bytes = new Uint8Array(size);
    this.best = new Float32Array(size + 1);
    this.from = new Int32Array(size + 1);
    this.nodeId = new Int32Array(size + 1);
  }
}

/** The UTF-8 byte length of a string without lone surrogates. */
function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c < 0xdc00) {
      n += 4; // a surrogate pair: one 4-byte sequence
      i++;
    } else n += 3;
  }
  return n;
}
