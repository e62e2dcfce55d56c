// A small corpus for the data tests, cut from the repository's corpus into a temp folder (ja, en: the
// first few thousand characters of two texts each; sft: a few dozen records), and a small Unigram
// tokenizer trained on it, so each test file prepares its data in about a second.

import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_CORPUS_DIR } from '../../../train/data/corpus.js';

const take = (path: string, chars: number) => readFileSync(join(DEFAULT_CORPUS_DIR, path), 'utf8').slice(0, chars);
const records = (path: string, n: number) =>
  readFileSync(join(DEFAULT_CORPUS_DIR, path), 'utf8').split('\n').slice(0, n).join('\n') + '\n';

/** Writes the small corpus under a new temp folder; returns { corpusDir, cacheDir }. */
export function smallCorpus(): { corpusDir: string; cacheDir: string } {
  const root = mkdtempSync(join(tmpdir(), 'llmjp4-data-'));
  const corpusDir = join(root, 'corpus');
  const files: Record<string, string> = {
    'ja/botchan.txt': take('ja/soseki_botchan.txt', 6000),
    'ja/rashomon.txt': take('ja/akutagawa_rashomon.txt', 4000),
    'en/carol.txt': take('en/dickens_a_christmas_carol.txt', 8000),
    'en/shakespeare.txt': take('en/tinyshakespeare_first_half.txt', 6000),
    'sft/en.jsonl': records('sft/en_selfinstruct_seed_and_user_oriented.jsonl', 30),
    'sft/ja.jsonl': records('sft/ja_dolly_15k_ja_first450_CC-BY-SA-3.0.jsonl', 20),
  };
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(corpusDir, path.split('/')[0]!), { recursive: true });
    writeFileSync(join(corpusDir, path), text);
  }
  return { corpusDir, cacheDir: join(root, 'cache') };
}

/** Options for prepareData over the small corpus: a 1,000-piece tokenizer, 500-character documents, 20% held out. */
export const SMALL = { vocabSize: 1000, docChars: 500, validFraction: 0.2, code: false } as const;
