// Evaluation at small scale, as LLMJP4.md suggests: validation loss and perplexity per sub-corpus (the
// held-out split, packed as in training; for instruction records only the assistant's tokens count), and a
// multiple-choice check where each choice is scored by the summed log-probability of its tokens.

import { noGrad, tensor, type Tensor } from '../core/index.js';
import type { CausalLM } from '../model/causal_lm.js';
import type { Tokenizer } from '../model/tokenizer/index.js';
import { countTargets } from './data/batches.js';
import { packDocuments, type Row } from './data/packing.js';
import type { PreparedData } from './data/prepare.js';
import type { TokenDocs } from './data/token_cache.js';
import { CHOICE_ITEMS, type ChoiceItem } from './eval_items.js';
import { ProgressBar } from './progress.js';

export interface LossResult {
  /** Targets the loss averaged over. */
  tokens: number;
  /** Mean negative log-likelihood in nats per token. */
  loss: number;
  perplexity: number;
}

export interface LossOptions {
  seqLen: number;
  /** Appended after each document (EOS for text, null for chat records). */
  separator: number | null;
  /** Only tokens whose mask is 1 count (chat records). */
  useMask?: boolean;
  /** Stop after the first rows that hold this many targets (tokens the loss counts; default all). */
  maxTokens?: number;
  /** Rows per forward (default: as many as keep the logits near 64 MB, at most 8). */
  batchSize?: number;
  /** Called after each forward with the rows done. */
  onRows?: (rows: number) => void;
}

/** Mean loss over a packed split: Σ(mean CE of a batch × its targets) / Σ targets. */
export async function validationLoss(model: CausalLM, docs: TokenDocs, opts: LossOptions): Promise<LossResult> {
  const rows = validationRows(docs, opts);
  const vocab = model.config.vocab_size;
  const perBatch = opts.batchSize ?? Math.max(1, Math.min(8, Math.floor(16_777_216 / (opts.seqLen * vocab))));
  let nll = 0;
  let tokens = 0;
  for (let i = 0; i < rows.length;) {
    // Rows of one length go together (only the tail is shorter).
    const len = rows[i]!.ids.length;
    let j = i;
    while (j < rows.length && j - i < perBatch && rows[j]!.ids.length === len) j++;
    const { inputIds, labels, targets } = stack(rows.slice(i, j), len);
    if (targets > 0) {
      const loss = noGrad(() => model.forward(inputIds, { labels }).ceLoss!);
      nll += (await loss.item()) * targets;
      tokens += targets;
    }
    opts.onRows?.(j - i);
    i = j;
  }
  const loss = tokens > 0 ? nll / tokens : NaN;
  return { tokens, loss, perplexity: Math.exp(loss) };
}

/** The packed rows of a split, cut once they hold `maxTokens` targets (counted, not all tokens: chat records count only the assistant's). */
export function validationRows(docs: TokenDocs, opts: LossOptions): Row[] {
  const { rows, tail } = packDocuments(docs, { seqLen: opts.seqLen, separator: opts.separator, useMask: opts.useMask ?? false });
  const all = tail && tail.ids.length >= 2 ? [...rows, tail] : rows;
  const max = opts.maxTokens ?? Infinity;
  const out: Row[] = [];
  let n = 0;
  for (const r of all) {
    if (n >= max) break;
    out.push(r);
    n += countTargets(r.labels, r.labels.length);
  }
  return out;
}

function stack(rows: readonly Row[], len: number): { inputIds: Tensor; labels: Tensor; targets: number } {
  const ids = new Int32Array(rows.length * len);
  const labels = new Int32Array(rows.length * len);
  rows.forEach((r, i) => {
    ids.set(r.ids, i * len);
    labels.set(r.labels, i * len);
  });
  const shape = [rows.length, len];
  return {
    inputIds: tensor(ids, { shape, dtype: 'int32' }),
    labels: tensor(labels, { shape, dtype: 'int32' }),
    targets: countTargets(labels, len),
  };
}

export interface ChoiceResult {
  id: string;
  lang: string;
  answer: number;
  predicted: number;
  /** Summed log-probability of each choice's tokens. */
  logProbs: number[];
}

export interface ChoiceSummary {
  accuracy: number;
  /** Accuracy of guessing: the mean of 1 / number of choices. */
  chance: number;
  byLang: Record<string, { accuracy: number; items: number }>;
  items: ChoiceResult[];
}

/**
 * Scores each choice by Σ log p(choice tokens | BOS, context). The choice's tokens are those of
 * encode(context + choice) past its longest common prefix with encode(context), so a choice that merges
 * with the context's last token is still scored whole and every choice sees the same tokenization rules.
 */
export async function multipleChoice(
  model: CausalLM,
  tok: Tokenizer,
  items: readonly ChoiceItem[] = CHOICE_ITEMS,
): Promise<ChoiceSummary> {
  const seqs: { ids: number[]; from: number }[] = [];
  for (const item of items) {
    if (!Number.isInteger(item.answer) || item.answer < 0 || item.answer >= item.choices.length)
      throw new Error(`multipleChoice: item '${item.id}' has answer ${item.answer} but ${item.choices.length} choices`);
    const ctx = tok.encodeText(item.context);
    for (const choice of item.choices) {
      const whole = tok.encodeText(item.context + choice);
      let p = 0;
      while (p < ctx.length && p < whole.length && ctx[p] === whole[p]) p++;
      if (p === whole.length)
        throw new Error(`multipleChoice: choice '${choice}' of item '${item.id}' adds no tokens to its context`);
      // Ids [BOS, whole...]: the choice's tokens are at positions p+1 .. end.
      seqs.push({ ids: [tok.bosId, ...whole], from: p + 1 });
    }
  }
  const scores = await sequenceLogProbs(model, seqs);
  const results: ChoiceResult[] = [];
  let k = 0;
  for (const item of items) {
    const logProbs = scores.slice(k, (k += item.choices.length));
    const predicted = logProbs.indexOf(Math.max(...logProbs));
    results.push({ id: item.id, lang: item.lang, answer: item.answer, predicted, logProbs });
  }
  const acc = (rs: ChoiceResult[]) => rs.filter((r) => r.predicted === r.answer).length / rs.length;
  const byLang: ChoiceSummary['byLang'] = {};
  for (const lang of [...new Set(results.map((r) => r.lang))]) {
    const rs = results.filter((r) => r.lang === lang);
    byLang[lang] = { accuracy: acc(rs), items: rs.length };
  }
  const chance = items.reduce((s, it) => s + 1 / it.choices.length, 0) / items.length;
  return { accuracy: acc(results), chance, byLang, items: results };
}

/**
 * Σ_{t ≥ from} log p(ids[t] | ids[..t]) for each sequence, several per forward: sequences are
 * right-padded to a common length, which leaves every real position unchanged under causal attention.
 */
async function sequenceLogProbs(model: CausalLM, seqs: readonly { ids: number[]; from: number }[]): Promise<number[]> {
  const V = model.config.vocab_size;
  const out: number[] = [];
  for (let i = 0; i < seqs.length;) {
    const L = Math.max(...seqs.slice(i, i + 64).map((s) => s.ids.length));
    const n = Math.max(1, Math.min(64, seqs.length - i, Math.floor(16_777_216 / (L * V))));
    const ids = new Int32Array(n * L);
    for (let r = 0; r < n; r++) ids.set(seqs[i + r]!.ids, r * L);
    const lp = await noGrad(() => model.forward(tensor(ids, { shape: [n, L], dtype: 'int32' })).logits.logSoftmax(-1)).data(); // [n, L, V]
    for (let r = 0; r < n; r++) {
      const s = seqs[i + r]!;
      let sum = 0;
      // Position t − 1 predicts ids[t].
      for (let t = s.from; t < s.ids.length; t++) sum += lp[(r * L + t - 1) * V + s.ids[t]!]!;
      out.push(sum);
    }
    i += n;
  }
  return out;
}

export interface EvalOptions {
  seqLen?: number;
  maxTokens?: number;
  batchSize?: number;
  /** Show a progress bar (default false). */
  progress?: boolean;
  /** Run the multiple-choice check (default true). */
  choices?: boolean;
}

export interface EvalReport {
  subCorpora: Record<string, LossResult & { kind: 'text' | 'instruct' }>;
  multipleChoice?: ChoiceSummary;
}

export const DEFAULT_EVAL_SEQ_LEN = 256;
export const DEFAULT_EVAL_MAX_TOKENS = 4096;

/** Validation loss on every sub-corpus's held-out split, and the multiple-choice check. */
export async function evaluate(model: CausalLM, data: PreparedData, opts: EvalOptions = {}): Promise<EvalReport> {
  const tok = data.tokenizer;
  if (tok.vocabSize > model.config.vocab_size)
    throw new Error(`eval: the tokenizer has ${tok.vocabSize} pieces but the model's vocab_size is ${model.config.vocab_size}`);
  const seqLen = opts.seqLen ?? Math.min(DEFAULT_EVAL_SEQ_LEN, model.config.max_position_embeddings);
  const lossOpts = (kind: 'text' | 'instruct'): LossOptions => ({
    seqLen,
    separator: kind === 'text' ? tok.eosId : null,
    useMask: kind === 'instruct',
    maxTokens: opts.maxTokens ?? DEFAULT_EVAL_MAX_TOKENS,
    batchSize: opts.batchSize,
  });
  const total = data.subCorpora.reduce((n, s) => n + validationRows(s.valid, lossOpts(s.kind)).length, 0);
  const bar = opts.progress ? new ProgressBar(total, 'eval') : undefined;
  const subCorpora: EvalReport['subCorpora'] = {};
  for (const s of data.subCorpora) {
    const r = await validationLoss(model, s.valid, { ...lossOpts(s.kind), onRows: (n) => bar?.tick(n, { corpus: s.name }) });
    subCorpora[s.name] = { kind: s.kind, ...r };
  }
  bar?.done();
  const report: EvalReport = { subCorpora };
  if (opts.choices ?? true) report.multipleChoice = await multipleChoice(model, tok);
  return report;
}
