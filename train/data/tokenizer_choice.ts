// Which tokenizer the data is cut with: a SentencePiece .model file (the real LLM-jp-4 one, or any
// other), or the small Unigram vocabulary this project trains for tiny models, trained once on the
// corpus's training split and cached on disk under a hash of its input and options.

import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from '../../model/tokenizer/index.js';
import { trainUnigram, writeModel } from '../../model/tokenizer/trainer.js';
import { sampleLines } from '../../model/tokenizer/trainer_corpus.js';
import type { SubCorpus } from './corpus.js';
import { cacheKey } from './token_cache.js';

export interface TokenizerChoice {
  tokenizer: Tokenizer;
  /** The .model file it was read from. */
  path: string;
  /** sha256 of that file: what caches of tokens are keyed by. */
  fingerprint: string;
}

export interface SmallTokenizerOptions {
  /** Pieces in all, the 608 special and byte pieces included (default 8000, the tiny presets' vocab_size). */
  vocabSize?: number;
  /** Train on about this many bytes of text (default 1,000,000; ~5 s on one core). */
  maxBytes?: number;
  /** Sub-corpora left out of the training text (default ['code'], see below). */
  exclude?: readonly string[];
  log?: (line: string) => void;
}

export const DEFAULT_SMALL_VOCAB = 8000;

/** Reads a SentencePiece .model file. */
export function tokenizerFromFile(path: string): TokenizerChoice {
  if (!existsSync(path)) throw new Error(`tokenizer: ${path} does not exist`);
  const bytes = readFileSync(path);
  const tokenizer = Tokenizer.fromBytes(bytes, path);
  return { tokenizer, path, fingerprint: createHash('sha256').update(bytes).digest('hex') };
}

/**
 * The small Unigram tokenizer for `corpus`, from `cacheDir` when one was trained on the same text with
 * the same options, else trained now and written there atomically. The training text is every line of
 * the training split (instruction records: their instruction, input and output), sampled evenly down to
 * `maxBytes`. `code` is left out by default so that editing the project's source does not retrain the
 * tokenizer (and so re-tokenize everything); code characters outside the vocabulary fall back to bytes.
 */
export function smallTokenizer(train: readonly SubCorpus[], cacheDir: string, opts: SmallTokenizerOptions = {}): TokenizerChoice {
  const vocabSize = opts.vocabSize ?? DEFAULT_SMALL_VOCAB;
  const maxBytes = opts.maxBytes ?? 1_000_000;
  const exclude = new Set(opts.exclude ?? ['code']);
  const used = train.filter((s) => !exclude.has(s.name));
  if (used.length === 0) throw new Error(`tokenizer: no sub-corpus left to train on (excluded: ${[...exclude].join(', ')})`);
  const lines = sampleLines(used.flatMap(linesOf), maxBytes);
  const key = cacheKey([`unigram v1 vocab=${vocabSize} maxBytes=${maxBytes}`, ...lines]);
  const path = join(cacheDir, `unigram-${vocabSize}-${key.slice(0, 16)}.model`);
  if (existsSync(path)) {
    try {
      return tokenizerFromFile(path);
    } catch (e) {
      opts.log?.(`tokenizer: cached ${path} does not load (${(e as Error).message}); training it again`);
    }
  }
  const start = performance.now();
  const model = trainUnigram(lines, { vocabSize, inputs: used.map((s) => s.name), log: opts.log });
  writeModel(path, model);
  opts.log?.(
    `tokenizer: trained ${vocabSize} pieces on ${used.map((s) => s.name).join(', ')} in ${((performance.now() - start) / 1000).toFixed(1)} s → ${path}`,
  );
  return tokenizerFromFile(path);
}

/** The non-empty lines of a sub-corpus, as the tokenizer trainer takes them. */
function linesOf(s: SubCorpus): string[] {
  const texts = s.kind === 'text' ? s.docs.map((d) => d.text) : s.docs.flatMap((d) => [d.instruction, d.input, d.output]);
  return texts.flatMap((t) => t.split('\n')).filter((l) => l !== '');
}
