// Evaluation: the batched validation loss equals a row-by-row log-softmax oracle, a random tiny model
// scores a perplexity near the vocabulary size, the multiple-choice scores are the summed log-probabilities
// of each choice's tokens, and `llmjp4 eval` reads a checkpoint saved by savePretrained.
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { noGrad, tensor } from '../../core/index.js';
import { createModel, type CausalLM } from '../../model/causal_lm.js';
import { preset } from '../../model/presets.js';
import { savePretrained } from '../../model/pretrained.js';
import { main } from '../../train/cli/main.js';
import { formatReport } from '../../train/cli/commands/eval.js';
import { packDocuments } from '../../train/data/packing.js';
import { prepareData, subCorpus, type PreparedData } from '../../train/data/prepare.js';
import { evaluate, multipleChoice, validationLoss } from '../../train/eval.js';
import { CHOICE_ITEMS } from '../../train/eval_items.js';
import { smallCorpus, SMALL } from './data/fixture.js';

let data: PreparedData;
let dirs: { corpusDir: string; cacheDir: string };
let model: CausalLM;
beforeAll(() => {
  dirs = smallCorpus();
  data = prepareData({ ...dirs, ...SMALL });
  model = createModel(preset('tiny-llama', { vocab_size: data.tokenizer.vocabSize, num_hidden_layers: 2 }), {
    seed: 3,
    dtype: 'float64',
  });
});

/** −log softmax(logits[t])[next] summed over one row's counted targets, in plain JS. */
function rowNll(m: CausalLM, ids: Int32Array, labels: Int32Array): { nll: number; n: number } {
  const V = m.config.vocab_size;
  const logits = noGrad(() => m.forward(tensor(ids, { shape: [1, ids.length], dtype: 'int32' })).logits).dataSync();
  let nll = 0;
  let n = 0;
  for (let t = 0; t + 1 < ids.length; t++) {
    if (labels[t + 1] === -100) continue;
    const row = logits.subarray(t * V, (t + 1) * V) as Float64Array;
    const max = Math.max(...row);
    const lse = max + Math.log(row.reduce((s, x) => s + Math.exp(x - max), 0));
    nll += lse - row[labels[t + 1]!]!;
    n++;
  }
  return { nll, n };
}

describe('validationLoss', () => {
  it('equals the row-by-row oracle (full rows, the short tail, masked chat records)', async () => {
    for (const [name, separator, useMask] of [
      ['ja', data.tokenizer.eosId, false],
      ['sft', null, true],
    ] as const) {
      const docs = subCorpus(data, name).valid;
      const opts = { seqLen: 48, separator, useMask, maxTokens: 400, batchSize: 3 };
      const got = await validationLoss(model, docs, opts);
      const { rows, tail } = packDocuments(docs, opts);
      let [nll, n, taken] = [0, 0, 0];
      for (const r of [...rows, ...(tail ? [tail] : [])]) {
        if (taken >= 400) break;
        const o = rowNll(model, r.ids, r.labels);
        [nll, n, taken] = [nll + o.nll, n + o.n, taken + o.n];
      }
      expect(n).toBeGreaterThanOrEqual(400);
      expect(got.tokens).toBe(n);
      expect(got.loss).toBeCloseTo(nll / n, 9);
    }
  });

  it('a random tiny model scores a perplexity near the vocabulary size on every sub-corpus', async () => {
    const report = await evaluate(model, data, { seqLen: 64, maxTokens: 256, choices: false });
    expect(Object.keys(report.subCorpora)).toEqual(['en', 'ja', 'sft']);
    const V = data.tokenizer.vocabSize;
    for (const r of Object.values(report.subCorpora)) {
      expect(r.tokens).toBeGreaterThan(100);
      expect(Math.abs(r.loss - Math.log(V))).toBeLessThan(0.3); // ppl within ×1.35 of V
    }
  });
});

describe('multipleChoice', () => {
  it('scores each choice by the summed log-probability of its tokens after the context', async () => {
    const items = CHOICE_ITEMS.filter((it) => it.id === 'en-count' || it.id === 'ja-sunset');
    const r = await multipleChoice(model, data.tokenizer, items);
    const tok = data.tokenizer;
    for (const [i, item] of items.entries()) {
      const ctx = tok.encodeText(item.context);
      item.choices.forEach((choice, c) => {
        const whole = tok.encodeText(item.context + choice);
        let p = 0;
        while (p < ctx.length && ctx[p] === whole[p]) p++;
        const ids = Int32Array.from([tok.bosId, ...whole]);
        const labels = ids.map((x, t) => (t > p ? x : -100));
        expect(r.items[i]!.logProbs[c]).toBeCloseTo(-rowNll(model, ids, labels).nll, 9);
      });
      const lp = r.items[i]!.logProbs;
      expect(r.items[i]!.predicted).toBe(lp.indexOf(Math.max(...lp)));
    }
    expect(r.accuracy).toBe(r.items.filter((x) => x.predicted === x.answer).length / 2);
    expect(r.chance).toBeCloseTo(1 / 3, 12);
    await expect(multipleChoice(model, tok, [{ ...items[0]!, answer: 5 }])).rejects.toThrow(/answer 5 but 3 choices/);
  });

  it('the items are well formed: ja and en, distinct choices, the answer in range', () => {
    expect(new Set(CHOICE_ITEMS.map((i) => i.id)).size).toBe(CHOICE_ITEMS.length);
    expect(CHOICE_ITEMS.filter((i) => i.lang === 'ja').length).toBeGreaterThanOrEqual(10);
    expect(CHOICE_ITEMS.filter((i) => i.lang === 'en').length).toBeGreaterThanOrEqual(10);
    for (const i of CHOICE_ITEMS) {
      expect(new Set(i.choices).size).toBe(i.choices.length);
      expect(i.answer).toBeGreaterThanOrEqual(0);
      expect(i.answer).toBeLessThan(i.choices.length);
    }
  });
});

describe('llmjp4 eval', () => {
  it('evaluates a checkpoint saved by savePretrained, and refuses a missing or oversized tokenizer', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'llmjp4-eval-'));
    const small = createModel(preset('tiny-llama', { vocab_size: data.tokenizer.vocabSize, num_hidden_layers: 1 }), { seed: 1 });
    savePretrained(small, dir);
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    const err = vi.spyOn(console, 'error').mockImplementation(() => {});
    const args = [
      'eval',
      '--model',
      dir,
      '--corpus',
      dirs.corpusDir,
      '--cache',
      dirs.cacheDir,
      '--no-code',
      '--seq-len',
      '32',
      '--max-tokens',
      '64',
    ];
    expect(await main(args)).toBe(1);
    expect(err.mock.calls[0]![0]).toMatch(/has no tokenizer\.model; pass --tokenizer FILE/);
    copyFileSync(data.tokenizerPath, join(dir, 'tokenizer.model'));
    expect(await main([...args, '--json'])).toBe(0);
    const report = JSON.parse(log.mock.calls.at(-1)![0] as string);
    expect(Object.keys(report.subCorpora)).toEqual(['en', 'ja', 'sft']);
    expect(report.subCorpora.sft.kind).toBe('instruct');
    expect(report.multipleChoice.items.length).toBe(CHOICE_ITEMS.length);
    expect(report.subCorpora.en.perplexity).toBeGreaterThan(data.tokenizer.vocabSize / 2);
    // The table the command prints without --json.
    expect(formatReport(report)).toMatch(
      /^sub-corpus +tokens +loss +perplexity\nen [\s\S]*multiple choice: [\d.]+% of 24 \(en [\d.]+% of 12, ja [\d.]+% of 12; chance 33\.7%\)/,
    );
    // A tokenizer larger than the model's vocabulary is refused.
    expect(await main([...args, '--tokenizer', 'test/fixtures/tokenizer/llm-jp-tokenizer_ver4.0_alpha1.0.model'])).toBe(1);
    expect(err.mock.calls.at(-1)![0]).toMatch(/the tokenizer has 196608 pieces but the model's vocab_size is 1000/);
    log.mockRestore();
    err.mockRestore();
  });
});
