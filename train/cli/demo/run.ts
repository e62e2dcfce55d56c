// `llmjp4 demo`: train the character-level MLP on Japanese + English text with this repo's tensor
// core and autograd, then sample from it in both languages. It stands in for the main job (the tiny
// LLM-jp-4 through all three stages) until the training layer lands; see the README status table.

import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Generator, noGrad, tensor } from '../../../core/index.js';
import { writeFileAtomic } from '../../../model/io/atomic_write.js';
import { backendOption, useBackend } from '../commands/backend_flag.js';
import { lineChartSvg } from '../../plot.js';
import { ProgressBar } from '../../progress.js';
import { adamInit, adamStep, initParams, loss, sample, type CharMlpConfig, type Params } from './char_mlp.js';
import { loadCharCorpus, type CharCorpus, type Lang } from './corpus.js';

const LANGS: Lang[] = ['ja', 'en'];

/** A batch of `size` windows, half from each language: ids [B, context] and next-character targets [B]. */
function batch(data: Record<Lang, Int32Array>, size: number, context: number, g: Generator) {
  const ids = new Int32Array(size * context);
  const targets = new Int32Array(size);
  for (let b = 0; b < size; b++) {
    const text = data[LANGS[b % 2]];
    const start = g.nextInt(text.length - context);
    ids.set(text.subarray(start, start + context), b * context);
    targets[b] = text[start + context];
  }
  return { ids: tensor(ids, { shape: [size, context] }), targets: tensor(targets) };
}

/** Mean validation loss per language over `batches` fixed batches. */
function validate(p: Params, c: CharCorpus, cfg: CharMlpConfig, batches: number): Record<Lang, number> {
  const g = new Generator(12345);
  const out = {} as Record<Lang, number>;
  for (const lang of LANGS) {
    const only = { ja: c.valid[lang], en: c.valid[lang] };
    let total = 0;
    for (let i = 0; i < batches; i++) {
      const { ids, targets } = batch(only, 256, cfg.context, g);
      total += noGrad(() => loss(p, ids, targets).itemSync());
    }
    out[lang] = total / batches;
  }
  return out;
}

export async function demo(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      steps: { type: 'string', default: '2000' },
      batch: { type: 'string', default: '64' },
      lr: { type: 'string', default: '3e-3' },
      seed: { type: 'string', default: '0' },
      out: { type: 'string', default: 'runs/demo' },
      ...backendOption,
    },
  });
  return useBackend(values, async () => {
    const steps = Number(values.steps);
    const batchSize = Number(values.batch);
    const lr = Number(values.lr);
    const corpus = loadCharCorpus();
    const cfg: CharMlpConfig = { vocab: corpus.chars.length, context: 8, embed: 24, hidden: 192 };
    const g = new Generator(Number(values.seed));
    let params = initParams(cfg, g);
    const adam = adamInit(params);
    console.log(`char-level MLP: vocab ${cfg.vocab}, context ${cfg.context}, embed ${cfg.embed}, hidden ${cfg.hidden}`);
    console.log(`train chars: ja ${corpus.train.ja.length}, en ${corpus.train.en.length}; ${steps} steps of ${batchSize}`);
    const before = validate(params, corpus, cfg, 4);

    const curve: [number, number][] = [];
    const validCurve: Record<Lang, [number, number][]> = { ja: [[0, before.ja]], en: [[0, before.en]] };
    const bar = new ProgressBar(steps, 'train');
    let smooth = NaN;
    for (let step = 1; step <= steps; step++) {
      const { ids, targets } = batch(corpus.train, batchSize, cfg.context, g);
      const l = loss(params, ids, targets);
      l.backward();
      // Linear decay to 10% of the peak over the run.
      params = adamStep(params, adam, lr * (1 - (0.9 * (step - 1)) / steps));
      const v = l.itemSync();
      smooth = Number.isNaN(smooth) ? v : 0.95 * smooth + 0.05 * v;
      curve.push([step, v]);
      if (step % Math.max(1, Math.floor(steps / 6)) === 0 || step === steps) {
        const val = validate(params, corpus, cfg, 2);
        for (const lang of LANGS) validCurve[lang].push([step, val[lang]]);
      }
      bar.tick(1, { loss: smooth });
    }
    bar.done();
    const after = validate(params, corpus, cfg, 4);
    for (const lang of LANGS)
      console.log(`validation loss ${lang}: ${before[lang].toFixed(3)} → ${after[lang].toFixed(3)} nats/char`);

    const svg = lineChartSvg(
      [{ name: 'train (per step)', points: curve }, ...LANGS.map((l) => ({ name: `validation ${l}`, points: validCurve[l] }))],
      { title: 'char-level MLP: cross-entropy', xLabel: 'step', yLabel: 'nats / character' },
    );
    const plotPath = join(values.out, 'loss.svg');
    writeFileAtomic(plotPath, svg);

    const gen = new Generator(Number(values.seed) + 1);
    for (const prompt of ['おれは', 'Scrooge ']) {
      const ids = [...prompt].map((ch) => corpus.ids.get(ch) ?? 0);
      const text = sample(params, ids, 120, cfg.context, 0.8, gen)
        .map((i) => corpus.chars[i])
        .join('');
      console.log(`\n--- sample after "${prompt}" ---\n${prompt}${text}`);
    }
    console.log(`\nloss curve: ${plotPath}`);
    return 0;
  });
}
