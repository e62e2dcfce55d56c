// The LLM-jp-4 tokenizer: loading the 196,608-piece model (protobuf parse + trie build) and encoding
// text, as MB/s of UTF-8 input, single-threaded. Runs from a clone: the model comes from
// test/fixtures/tokenizer, the text from train/data (Botchan, A Christmas Carol) and the golden strings.

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SentencePieceModel, Tokenizer } from '../../model/tokenizer/index.js';
import type { BenchCase, SuiteOptions } from './types.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const MODEL = join(ROOT, 'test/fixtures/tokenizer/llm-jp-tokenizer_ver4.0_alpha1.0.model');

export function tokenizerCases(opts: SuiteOptions): BenchCase[] {
  const tok = Tokenizer.fromFile(MODEL);
  // Quick mode: a 20 KB slice of each text, enough to check that the cases run.
  const cut = (s: string) => (opts.quick ? s.slice(0, 20_000) : s);
  const ja = cut(readFileSync(join(ROOT, 'train/data/corpus/ja/soseki_botchan.txt'), 'utf8'));
  const en = cut(readFileSync(join(ROOT, 'train/data/corpus/en/dickens_a_christmas_carol.txt'), 'utf8'));
  const golden = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/tokenizer/golden_public.json'), 'utf8')) as {
    encode_cases: { text: string }[];
  };
  const lines = golden.encode_cases.map((c) => c.text);
  const bytes = (s: string) => Buffer.byteLength(s, 'utf8');
  const jaIds = tok.encodeIds(ja);
  return [
    { label: 'load model (196,608 pieces)', run: () => SentencePieceModel.fromFile(MODEL) },
    { label: `encode ja, whole text (${(bytes(ja) / 1e3).toFixed(0)} KB)`, run: () => tok.encodeIds(ja), textBytes: bytes(ja) },
    { label: `encode en, whole text (${(bytes(en) / 1e3).toFixed(0)} KB)`, run: () => tok.encodeIds(en), textBytes: bytes(en) },
    { label: 'encode ja, line by line', run: () => ja.split('\n').map((l) => tok.encodeIds(l)), textBytes: bytes(ja) },
    {
      label: `encode ${lines.length} golden strings`,
      run: () => lines.map((l) => tok.encodeIds(l)),
      textBytes: bytes(lines.join('')),
    },
    { label: 'decode ja', run: () => tok.decode(jaIds), textBytes: bytes(ja) },
  ];
}
