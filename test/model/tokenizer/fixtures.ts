// Shared by the tokenizer tests: the real LLM-jp-4 model and golden data in test/fixtures/tokenizer,
// loaded once per test file.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Tokenizer } from '../../../model/tokenizer/index.js';

export const FIXTURES = resolve(import.meta.dirname, '../../fixtures/tokenizer');
export const MODEL_PATH = join(FIXTURES, 'llm-jp-tokenizer_ver4.0_alpha1.0.model');

export interface EncodeCase {
  id: string;
  category: string;
  text: string;
  ids: number[];
  pieces: string[];
  decoded: string;
}

export interface Golden {
  encode_cases: EncodeCase[];
  decode_cases: { id: string; ids: number[]; decoded: string }[];
}

export const golden = (): Golden => JSON.parse(readFileSync(join(FIXTURES, 'golden_public.json'), 'utf8'));

let cached: Tokenizer | undefined;
export const llmjp4 = (): Tokenizer => (cached ??= Tokenizer.fromFile(MODEL_PATH));
