// A tiny checkpoint folder as the main job leaves one (config.json, model.safetensors, tokenizer.model)
// in a second or two: a 700-piece Unigram tokenizer trained on a few thousand characters of the
// repository's ja/en corpus, and a randomly initialised 2-layer model of either architecture.

import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createModel } from '../../model/causal_lm.js';
import { savePretrained } from '../../model/pretrained.js';
import { preset } from '../../model/presets.js';
import { trainUnigram, writeModel } from '../../model/tokenizer/index.js';
import { DEFAULT_CORPUS_DIR } from '../../train/data/corpus.js';

export const TINY_VOCAB = 700;

export function tinyCheckpoint(arch: 'llama' | 'qwen3_moe', seed = 1): string {
  const dir = mkdtempSync(join(tmpdir(), `llmjp4-ckpt-${arch}-`));
  const text = ['ja/soseki_botchan.txt', 'en/dickens_a_christmas_carol.txt']
    .map((f) => readFileSync(join(DEFAULT_CORPUS_DIR, f), 'utf8').slice(0, 6000))
    .join('\n');
  writeModel(
    join(dir, 'tokenizer.model'),
    trainUnigram(
      text.split('\n').filter((l) => l.trim() !== ''),
      { vocabSize: TINY_VOCAB },
    ),
  );
  const config = preset(arch === 'llama' ? 'tiny-llama' : 'tiny-qwen3-moe', {
    vocab_size: TINY_VOCAB,
    hidden_size: 64,
    intermediate_size: 128,
    num_hidden_layers: 2,
    head_dim: 16,
    initializer_range: 0.2,
  });
  savePretrained(createModel(config, { seed }), dir);
  return dir;
}
