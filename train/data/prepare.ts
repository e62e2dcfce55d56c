// The data a training stage or an evaluation starts from: the corpus read and split (corpus.ts,
// split.ts), the tokenizer chosen (tokenizer_choice.ts), and every split of every sub-corpus tokenized
// through the on-disk cache (token_cache.ts). Text documents are `<|startoftext|> text`; packing adds
// the end-of-document `<|return|>`. Instruction records are rendered in the chat format with their mask.

import { join, resolve } from 'node:path';
import type { Tokenizer } from '../../model/tokenizer/index.js';
import { ProgressBar } from '../progress.js';
import { DEFAULT_CORPUS_DIR, DEFAULT_DOC_CHARS, loadCorpus, type SubCorpus } from './corpus.js';
import { SFT_CHAT_OPTIONS, renderInstruction } from './sft.js';
import { DEFAULT_SPLIT_SALT, DEFAULT_VALID_FRACTION, splitHeldOut } from './split.js';
import { cacheKey, cachedTokenDocs, fromDocs, type TokenDocs } from './token_cache.js';
import { smallTokenizer, tokenizerFromFile, type TokenizerChoice } from './tokenizer_choice.js';

export type SplitName = 'train' | 'valid';

export interface DataOptions {
  /** Folder of sub-corpus folders (default: the corpus kept in this repository). */
  corpusDir?: string;
  /** Where tokenizers and tokens are cached (default `runs/cache`, relative to the working directory). */
  cacheDir?: string;
  /** A SentencePiece .model file (or one already loaded); default: the small Unigram tokenizer trained on the corpus. */
  tokenizer?: string | TokenizerChoice;
  /** Size of the small tokenizer (default 8000). */
  vocabSize?: number;
  docChars?: number;
  validFraction?: number;
  /** Keep only these sub-corpora (default all, `code` included). */
  only?: readonly string[];
  /** Add the project's source as `code` (default true). */
  code?: boolean;
  /** Which splits to tokenize (default both). */
  splits?: readonly SplitName[];
  /** Show a progress bar while tokenizing (default false). */
  progress?: boolean;
  log?: (line: string) => void;
}

export interface TokenizedSubCorpus {
  name: string;
  /** `text`: labels are the ids; `instruct`: chat-format records with the assistant mask. */
  kind: 'text' | 'instruct';
  /** Empty when that split was not asked for. */
  train: TokenDocs;
  valid: TokenDocs;
}

export interface PreparedData {
  tokenizer: Tokenizer;
  tokenizerPath: string;
  subCorpora: TokenizedSubCorpus[];
  /** Seconds spent tokenizing (0 when everything came from the cache) and tokens tokenized. */
  tokenizeSeconds: number;
  tokenizedTokens: number;
}

export const DEFAULT_CACHE_DIR = 'runs/cache';

const EMPTY: TokenDocs = { ids: new Int32Array(0), offsets: new Int32Array(1) };

/** Reads, splits and tokenizes the corpus (training the small tokenizer first if needed and not cached). */
export function prepareData(opts: DataOptions = {}): PreparedData {
  const cacheDir = resolve(opts.cacheDir ?? DEFAULT_CACHE_DIR);
  const corpus = loadCorpus(opts.corpusDir ?? DEFAULT_CORPUS_DIR, {
    docChars: opts.docChars ?? DEFAULT_DOC_CHARS,
    code: opts.code,
    only: opts.only,
  });
  const splits = corpus.map((s) => ({ sub: s, ...splitSub(s, opts.validFraction ?? DEFAULT_VALID_FRACTION) }));
  const choice: TokenizerChoice = opts.tokenizer
    ? typeof opts.tokenizer === 'string'
      ? tokenizerFromFile(opts.tokenizer)
      : opts.tokenizer
    : smallTokenizer(
        splits.map((s) => s.train),
        join(cacheDir, 'tokenizer'),
        { vocabSize: opts.vocabSize, log: opts.log },
      );
  const wanted = new Set(opts.splits ?? ['train', 'valid']);
  const jobs = splits.flatMap((s) =>
    (['train', 'valid'] as const).filter((w) => wanted.has(w)).map((w) => ({ name: s.sub.name, split: w, sub: s[w] })),
  );
  const bar = opts.progress
    ? new ProgressBar(
        jobs.reduce((n, j) => n + j.sub.docs.length, 0),
        'tokenize',
      )
    : undefined;
  let seconds = 0;
  let tokens = 0;
  const done = new Map<string, TokenDocs>();
  for (const job of jobs) {
    const key = tokensKey(job.sub, choice);
    // One entry per sub-corpus, split and tokenizer: a stale one (edited text) is replaced, another tokenizer's is kept.
    const entry = `${job.name}.${job.split}.${choice.fingerprint.slice(0, 8)}`;
    const { docs, hit } = cachedTokenDocs(join(cacheDir, 'tokens'), entry, key, () => {
      const start = performance.now();
      const out = tokenizeDocs(job.sub, choice.tokenizer, (n) => bar?.tick(n));
      seconds += (performance.now() - start) / 1000;
      tokens += out.ids.length;
      return out;
    });
    if (hit) bar?.tick(job.sub.docs.length, { cached: job.name });
    done.set(`${job.name}.${job.split}`, docs);
  }
  bar?.done();
  if (tokens > 0) opts.log?.(`tokenized ${tokens} tokens in ${seconds.toFixed(1)} s (${Math.round(tokens / seconds)} tokens/s)`);
  const subCorpora = corpus.map((s) => ({
    name: s.name,
    kind: s.kind,
    train: done.get(`${s.name}.train`) ?? EMPTY,
    valid: done.get(`${s.name}.valid`) ?? EMPTY,
  }));
  return {
    tokenizer: choice.tokenizer,
    tokenizerPath: choice.path,
    subCorpora,
    tokenizeSeconds: seconds,
    tokenizedTokens: tokens,
  };
}

/** One sub-corpus by name, with a clear error when it is not there. */
export function subCorpus(data: PreparedData, name: string): TokenizedSubCorpus {
  const s = data.subCorpora.find((c) => c.name === name);
  if (!s) throw new Error(`data: no sub-corpus '${name}' (have ${data.subCorpora.map((c) => c.name).join(', ')})`);
  return s;
}

/** Splits a sub-corpus into its train and valid halves, each still a SubCorpus. */
function splitSub(s: SubCorpus, validFraction: number): { train: SubCorpus; valid: SubCorpus } {
  if (s.kind === 'text') {
    const { train, valid } = splitHeldOut(s.docs, { validFraction, salt: DEFAULT_SPLIT_SALT });
    return { train: { ...s, docs: train }, valid: { ...s, docs: valid } };
  }
  const { train, valid } = splitHeldOut(s.docs, { validFraction, salt: DEFAULT_SPLIT_SALT });
  return { train: { ...s, docs: train }, valid: { ...s, docs: valid } };
}

/** What the tokens depend on: the format, the tokenizer file, the rendering, and every document. */
function tokensKey(s: SubCorpus, choice: TokenizerChoice): string {
  const render = s.kind === 'text' ? 'text: <|startoftext|> + encodeText' : `chat ${JSON.stringify(SFT_CHAT_OPTIONS)}`;
  const parts =
    s.kind === 'text' ? s.docs.flatMap((d) => [d.id, d.text]) : s.docs.flatMap((d) => [d.id, d.instruction, d.input, d.output]);
  return cacheKey(['tokens v1', choice.fingerprint, render, ...parts]);
}

/** Tokenizes one split: BOS + text for text, the chat render with its mask for instructions. */
export function tokenizeDocs(s: SubCorpus, tok: Tokenizer, tick: (n: number) => void = () => {}): TokenDocs {
  if (s.kind === 'text') {
    const docs = s.docs.map((d) => {
      tick(1);
      return { ids: [tok.bosId, ...tok.encodeText(d.text)] };
    });
    return fromDocs(docs, false);
  }
  const docs = s.docs.map((d) => {
    tick(1);
    return renderInstruction(tok, d);
  });
  return fromDocs(docs, true);
}
