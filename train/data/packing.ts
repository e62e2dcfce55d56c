// Sequence packing: documents laid end to end, each followed by the end-of-document separator, and the
// stream cut into rows of exactly `seqLen` tokens (a document may run on into the next row). Labels are
// the ids (the model shifts them), or −100 where a document's mask is 0 (SFT). `packDocuments` packs a
// finite list once, in order (validation); `PackedStream` repeats the documents forever, in a fresh
// seeded order each epoch, and its cursor is three integers, so a resumed run continues identically.

import { createHash } from 'node:crypto';
import { Generator } from '../../core/index.js';
import { docCount, type TokenDocs } from './token_cache.js';

export interface Row {
  ids: Int32Array;
  labels: Int32Array;
}

export interface PackOptions {
  seqLen: number;
  /** Appended after every document (e.g. EOS, id 2), its label itself; null appends nothing (chat records end in `<|return|>`). */
  separator: number | null;
  /** Take labels from the documents' mask (−100 where 0). Default: when the documents have a mask. */
  useMask?: boolean;
}

/** Packs `docs` in order: full rows, and the shorter tail that is left (null when nothing is). */
export function packDocuments(docs: TokenDocs, opts: PackOptions): { rows: Row[]; tail: Row | null } {
  checkPack(docs, opts);
  const rows: Row[] = [];
  const w = new RowWriter(opts.seqLen);
  for (let d = 0; d < docCount(docs); d++) {
    let offset = 0;
    const len = docLength(docs, d, opts);
    while (offset < len) {
      offset += w.fill(docs, d, offset, opts);
      if (w.full()) rows.push(w.take());
    }
  }
  return { rows, tail: w.used > 0 ? w.take() : null };
}

/** Where a PackedStream is: epoch, position in that epoch's document order, tokens of that document done. */
export interface PackedState {
  epoch: number;
  position: number;
  offset: number;
}

/** An endless stream of packed rows over `docs`; each epoch visits every document once in a seeded order. */
export class PackedStream {
  readonly name: string;
  readonly seed: number;
  #docs: TokenDocs;
  #opts: PackOptions;
  #order: Int32Array;
  #state: PackedState = { epoch: 0, position: 0, offset: 0 };

  /** `name` and `seed` pick the document orders: streams of two sub-corpora with one seed differ. */
  constructor(docs: TokenDocs, opts: PackOptions & { seed: number; name: string }) {
    checkPack(docs, opts);
    let tokens = 0;
    for (let d = 0; d < docCount(docs); d++) tokens += docLength(docs, d, opts);
    if (tokens === 0) throw new Error(`PackedStream '${opts.name}': no tokens to pack (${docCount(docs)} documents)`);
    this.name = opts.name;
    this.seed = opts.seed;
    this.#docs = docs;
    this.#opts = opts;
    this.#order = epochOrder(docCount(docs), opts.seed, opts.name, 0);
  }

  /** The next row of exactly seqLen tokens. */
  next(): Row {
    const w = new RowWriter(this.#opts.seqLen);
    const s = this.#state;
    while (!w.full()) {
      const d = this.#order[s.position]!;
      s.offset += w.fill(this.#docs, d, s.offset, this.#opts);
      if (s.offset >= docLength(this.#docs, d, this.#opts)) {
        s.offset = 0;
        s.position++;
        if (s.position === this.#order.length) {
          s.epoch++;
          s.position = 0;
          this.#order = epochOrder(this.#order.length, this.seed, this.name, s.epoch);
        }
      }
    }
    return w.take();
  }

  /** The cursor, as plain JSON. */
  state(): PackedState {
    return { ...this.#state };
  }

  /** Continue from a cursor that `state()` returned (for the same documents and options). */
  restore(state: PackedState): void {
    const ok = (v: unknown, max: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < max;
    const n = docCount(this.#docs);
    if (!state || !ok(state.epoch, Number.MAX_SAFE_INTEGER) || !ok(state.position, n)) {
      throw new Error(`PackedStream '${this.name}': bad state ${JSON.stringify(state)} (this stream has ${n} documents)`);
    }
    const order = epochOrder(n, this.seed, this.name, state.epoch);
    if (!ok(state.offset, Math.max(1, docLength(this.#docs, order[state.position]!, this.#opts)))) {
      throw new Error(`PackedStream '${this.name}': state offset ${state.offset} is past the end of its document`);
    }
    this.#order = order;
    this.#state = { epoch: state.epoch, position: state.position, offset: state.offset };
  }
}

/** The document order of one epoch: a Fisher–Yates shuffle seeded by (seed, name, epoch). */
export function epochOrder(n: number, seed: number, name: string, epoch: number): Int32Array {
  const digest = createHash('sha256').update(`${seed}\0${name}\0${epoch}`).digest();
  const g = new Generator(digest.readUInt32LE(0));
  const order = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = g.nextInt(i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

/** Tokens document d contributes: its ids and the separator. */
function docLength(docs: TokenDocs, d: number, opts: PackOptions): number {
  return docs.offsets[d + 1]! - docs.offsets[d]! + (opts.separator === null ? 0 : 1);
}

function checkPack(docs: TokenDocs, opts: PackOptions): void {
  if (!Number.isInteger(opts.seqLen) || opts.seqLen < 2)
    throw new Error(`pack: seqLen must be an integer ≥ 2, got ${opts.seqLen}`);
  if (opts.useMask && !docs.mask) throw new Error('pack: useMask is set but the documents have no mask');
}

/** Fills one row from documents, token by token ranges. */
class RowWriter {
  ids: Int32Array;
  labels: Int32Array;
  used = 0;

  constructor(readonly seqLen: number) {
    this.ids = new Int32Array(seqLen);
    this.labels = new Int32Array(seqLen);
  }

  full(): boolean {
    return this.used === this.seqLen;
  }

  /** Copies document d from `offset` (separator included) into the row; returns how many tokens it took. */
  fill(docs: TokenDocs, d: number, offset: number, opts: PackOptions): number {
    const start = docs.offsets[d]!;
    const len = docs.offsets[d + 1]! - start;
    const total = len + (opts.separator === null ? 0 : 1);
    const n = Math.min(total - offset, this.seqLen - this.used);
    const masked = (opts.useMask ?? docs.mask !== undefined) && docs.mask !== undefined;
    for (let k = 0; k < n; k++) {
      const i = offset + k;
      const id = i < len ? docs.ids[start + i]! : opts.separator!;
      this.ids[this.used + k] = id;
      // The separator is always a target: the model learns where documents end.
      this.labels[this.used + k] = masked && i < len && docs.mask![start + i] === 0 ? -100 : id;
    }
    this.used += n;
    return n;
  }

  take(): Row {
    const row = { ids: this.ids.slice(0, this.used), labels: this.labels.slice(0, this.used) };
    this.used = 0;
    return row;
  }
}
