// The demo's character MLP: shapes, that Adam steps on one batch reduce its loss (they would not
// with a wrong gradient sign or scale), and that sampling stays in the vocabulary and never emits UNK.
import { describe, expect, it } from 'vitest';
import { Generator, randint } from '../../core/index.js';
import { adamInit, adamStep, forward, initParams, loss, sample } from '../../train/cli/demo/char_mlp.js';
import { loadCharCorpus, UNK } from '../../train/cli/demo/corpus.js';

const cfg = { vocab: 30, context: 4, embed: 6, hidden: 16 };

describe('char MLP', () => {
  it('maps [B, context] ids to [B, V] logits', () => {
    const p = initParams(cfg, new Generator(1));
    expect(forward(p, randint(0, 30, [5, 4], { generator: new Generator(2) })).shape).toEqual([5, 30]);
  });

  it('Adam steps on one batch drive its loss down', () => {
    let p = initParams(cfg, new Generator(1));
    const g = new Generator(3);
    const ids = randint(0, 30, [16, 4], { generator: g });
    const targets = randint(0, 30, [16], { generator: g });
    const state = adamInit(p);
    const first = loss(p, ids, targets).itemSync();
    for (let i = 0; i < 30; i++) {
      loss(p, ids, targets).backward();
      p = adamStep(p, state, 1e-2);
    }
    expect(loss(p, ids, targets).itemSync()).toBeLessThan(0.5 * first);
  });

  it('samples ids in range, never the unknown id 0, reproducibly', () => {
    const p = initParams(cfg, new Generator(1));
    const a = sample(p, [1, 2], 50, cfg.context, 1, new Generator(9));
    expect(a.length).toBe(50);
    expect(a.every((i) => i >= 1 && i < 30)).toBe(true);
    expect(sample(p, [1, 2], 50, cfg.context, 1, new Generator(9))).toEqual(a);
  });

  it('the corpus loads both languages with a shared vocabulary and held-out tails', () => {
    const c = loadCharCorpus();
    expect(c.chars[0]).toBe(UNK);
    expect(c.ids.get('の')).toBeGreaterThan(0);
    expect(c.ids.get('e')).toBeGreaterThan(0);
    expect(c.valid.ja.length).toBeGreaterThan(1000);
    expect(c.train.en.length).toBeGreaterThan(10 * c.valid.en.length);
  });
});
