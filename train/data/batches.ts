// Batches for the three stages, as int32 Tensors inputIds/labels [B, T] (labels = ids, −100 where no
// loss is taken; the model shifts them): pre-training on the weighted mixture, mid-training on that
// mixture ~50/50 with chat-format instruction text, and SFT on chat records with the loss on assistant
// tokens only (packed, or one padded record per row). Each stream's `state()` is JSON and `restore`
// continues it exactly, so a checkpoint can carry it.

import { tensor, type Tensor } from '../../core/index.js';
import { LLMJP4_SHARES, midtrainWeights, Mixture, MIDTRAIN_INSTRUCT_SHARE, type MixtureState } from './mixture.js';
import { epochOrder, PackedStream, type PackedState, type Row } from './packing.js';
import { subCorpus, type PreparedData } from './prepare.js';
import { maskedLabels, padRows } from './sft.js';
import { docCount, docIds, type TokenDocs } from './token_cache.js';

export interface Batch {
  /** [B, T] int32. */
  inputIds: Tensor;
  /** [B, T] int32, −100 where ignored. */
  labels: Tensor;
  /** [B, T] int32, 1 for real tokens and 0 for padding (padded SFT only). */
  attentionMask?: Tensor;
  /** The sub-corpus of each row. */
  sources: string[];
  /** Tokens the loss counts (labels ≠ −100 after the shift). */
  targets: number;
}

export interface BatchStream {
  readonly batchSize: number;
  readonly seqLen: number;
  next(): Batch;
  /** JSON-serialisable cursor. */
  state(): unknown;
  restore(state: unknown): void;
}

export interface StreamOptions {
  batchSize: number;
  seqLen: number;
  /** Seeds the document order of every sub-corpus (default 0). */
  seed?: number;
}

/** Pre-training: rows from the text sub-corpora in proportion to `weights` (default LLM-jp-4's shares). */
export function pretrainBatches(
  data: PreparedData,
  opts: StreamOptions & { weights?: Readonly<Record<string, number>> },
): BatchStream {
  return mixtureBatches(data, opts, opts.weights ?? availableShares(data, LLMJP4_SHARES));
}

/** Mid-training: the pre-training mixture at 1 − share, and chat-format instruction text (all tokens trained) at `instructShare`. */
export function midtrainBatches(
  data: PreparedData,
  opts: StreamOptions & { weights?: Readonly<Record<string, number>>; instruct?: string; instructShare?: number },
): BatchStream {
  const instruct = opts.instruct ?? 'sft';
  const pretrain = opts.weights ?? availableShares(data, LLMJP4_SHARES);
  return mixtureBatches(data, opts, midtrainWeights(pretrain, instruct, opts.instructShare ?? MIDTRAIN_INSTRUCT_SHARE));
}

/** The LLM-jp-4 shares of the sub-corpora this data has (the code share is dropped when code is off). */
function availableShares(data: PreparedData, shares: Readonly<Record<string, number>>): Record<string, number> {
  return Object.fromEntries(Object.entries(shares).filter(([n]) => data.subCorpora.some((s) => s.name === n)));
}

function mixtureBatches(data: PreparedData, opts: StreamOptions, weights: Readonly<Record<string, number>>): BatchStream {
  checkShape(opts);
  const eos = data.tokenizer.eosId;
  // Text documents are followed by EOS; chat records already end in <|return|> and train on every token here.
  const streams = Object.entries(weights)
    .filter(([, w]) => w > 0)
    .map(([name]) => {
      const s = subCorpus(data, name);
      return new PackedStream(s.train, {
        seqLen: opts.seqLen,
        separator: s.kind === 'text' ? eos : null,
        useMask: false,
        seed: opts.seed ?? 0,
        name,
      });
    });
  const mixture = new Mixture(streams, weights);
  return {
    batchSize: opts.batchSize,
    seqLen: opts.seqLen,
    next: () =>
      toBatch(
        Array.from({ length: opts.batchSize }, () => mixture.next()),
        opts.seqLen,
      ),
    state: () => mixture.state(),
    restore: (s) => mixture.restore(s as MixtureState),
  };
}

export interface SftOptions extends StreamOptions {
  /** `pack` (default): records end to end in full rows; `pad`: one record per row, right-padded. */
  mode?: 'pack' | 'pad';
  /** The instruction sub-corpus (default 'sft'). */
  source?: string;
}

/** SFT: chat-format records, the loss on the assistant's tokens (and its closing `<|return|>`) only. */
export function sftBatches(data: PreparedData, opts: SftOptions): BatchStream {
  checkShape(opts);
  const source = opts.source ?? 'sft';
  const s = subCorpus(data, source);
  if (s.kind !== 'instruct' || !s.train.mask) throw new Error(`sftBatches: sub-corpus '${source}' is not instruction records`);
  if ((opts.mode ?? 'pack') === 'pack') {
    const stream = new PackedStream(s.train, {
      seqLen: opts.seqLen,
      separator: null,
      useMask: true,
      seed: opts.seed ?? 0,
      name: source,
    });
    return {
      batchSize: opts.batchSize,
      seqLen: opts.seqLen,
      next: () =>
        toBatch(
          Array.from({ length: opts.batchSize }, () => ({ ...stream.next(), source })),
          opts.seqLen,
        ),
      state: () => stream.state(),
      restore: (st) => stream.restore(st as PackedState),
    };
  }
  return paddedSft(s.train, source, opts, data.tokenizer.padId);
}

/** One record per row; records longer than seqLen are left out (an answer is never cut), and counted. */
function paddedSft(docs: TokenDocs, source: string, opts: StreamOptions, padId: number): BatchStream & { skipped: number } {
  const fits = Array.from({ length: docCount(docs) }, (_, d) => d).filter((d) => docIds(docs, d).length <= opts.seqLen);
  if (fits.length === 0)
    throw new Error(`sftBatches: no record of '${source}' fits in ${opts.seqLen} tokens; raise seqLen or use mode 'pack'`);
  const seed = opts.seed ?? 0;
  let cursor = { epoch: 0, position: 0 };
  let order = epochOrder(fits.length, seed, source, 0);
  const take = () => {
    const d = fits[order[cursor.position]!]!;
    if (++cursor.position === fits.length) {
      cursor = { epoch: cursor.epoch + 1, position: 0 };
      order = epochOrder(fits.length, seed, source, cursor.epoch);
    }
    const ids = docIds(docs, d);
    return { ids, labels: maskedLabels(ids, docs.mask!.subarray(docs.offsets[d]!, docs.offsets[d + 1]!)) };
  };
  return {
    batchSize: opts.batchSize,
    seqLen: opts.seqLen,
    skipped: docCount(docs) - fits.length,
    next: () => {
      const rows = padRows(Array.from({ length: opts.batchSize }, take), opts.seqLen, padId);
      const shape = [opts.batchSize, opts.seqLen];
      return {
        inputIds: tensor(rows.ids, { shape, dtype: 'int32' }),
        labels: tensor(rows.labels, { shape, dtype: 'int32' }),
        attentionMask: tensor(rows.attention, { shape, dtype: 'int32' }),
        sources: Array(opts.batchSize).fill(source),
        targets: countTargets(rows.labels, opts.seqLen),
      };
    },
    state: () => ({ ...cursor }),
    restore: (st) => {
      const c = st as { epoch?: unknown; position?: unknown };
      if (
        !Number.isInteger(c?.epoch) ||
        (c.epoch as number) < 0 ||
        !Number.isInteger(c.position) ||
        (c.position as number) < 0 ||
        (c.position as number) >= fits.length
      ) {
        throw new Error(`sftBatches: bad state ${JSON.stringify(st)} (${fits.length} records)`);
      }
      cursor = { epoch: c.epoch as number, position: c.position as number };
      order = epochOrder(fits.length, seed, source, cursor.epoch);
    },
  };
}

/** Stacks full rows into a batch. */
export function toBatch(rows: readonly (Row & { source: string })[], seqLen: number): Batch {
  const ids = new Int32Array(rows.length * seqLen);
  const labels = new Int32Array(rows.length * seqLen);
  rows.forEach((r, i) => {
    if (r.ids.length !== seqLen) throw new Error(`toBatch: row ${i} has ${r.ids.length} tokens, expected ${seqLen}`);
    ids.set(r.ids, i * seqLen);
    labels.set(r.labels, i * seqLen);
  });
  const shape = [rows.length, seqLen];
  return {
    inputIds: tensor(ids, { shape, dtype: 'int32' }),
    labels: tensor(labels, { shape, dtype: 'int32' }),
    sources: rows.map((r) => r.source),
    targets: countTargets(labels, seqLen),
  };
}

/** Labels that count after the shift: every row's positions 1..T−1 that are not −100. */
export function countTargets(labels: Int32Array, seqLen: number): number {
  let n = 0;
  for (let i = 0; i < labels.length; i++) if (i % seqLen !== 0 && labels[i] !== -100) n++;
  return n;
}

function checkShape(opts: StreamOptions): void {
  if (!Number.isInteger(opts.batchSize) || opts.batchSize < 1)
    throw new Error(`batches: batchSize must be a positive integer, got ${opts.batchSize}`);
  if (!Number.isInteger(opts.seqLen) || opts.seqLen < 2)
    throw new Error(`batches: seqLen must be an integer ≥ 2, got ${opts.seqLen}`);
  if (opts.seed !== undefined && (!Number.isInteger(opts.seed) || opts.seed < 0))
    throw new Error(`batches: seed must be an integer ≥ 0, got ${opts.seed}`);
}
