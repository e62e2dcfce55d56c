// The mixture: deterministic, every source's rows within the bounds Megatron's blending rule gives at
// every step (ahead by at most 1 − 1/k rows, behind by at most (k − 1)(1 − 1/k); half a row for two
// sources), and a restored cursor continues identically; weights are checked.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkProperty } from '../../../core/testing/index.js';
import { LLMJP4_SHARES, midtrainWeights, Mixture, normalizeWeights } from '../../../train/data/mixture.js';
import { PackedStream } from '../../../train/data/packing.js';
import { fromDocs } from '../../../train/data/token_cache.js';

const NAMES = ['en', 'ja', 'code', 'zh', 'ko'];
/** Small streams whose rows name their source in every id (en → 100s, ja → 200s, ...). */
const streams = (seed: number) =>
  NAMES.map((name, k) => {
    const docs = fromDocs(
      Array.from({ length: 5 + k }, (_, d) => ({ ids: Array.from({ length: 1 + ((d * 7) % 11) }, (_, t) => 100 * (k + 1) + t) })),
      false,
    );
    return new PackedStream(docs, { seqLen: 8, separator: 2, seed, name });
  });
const weightsArb = fc
  .tuple(...NAMES.map(() => fc.oneof(fc.constant(0), fc.double({ min: 0.001, max: 10, noNaN: true }))))
  .filter((w) => w.some((x) => x > 0));

describe('Mixture', () => {
  it("keeps each source within the blending rule's bounds of its share at every step", () => {
    checkProperty(
      fc.tuple(weightsArb, fc.integer({ min: 1, max: 400 })),
      ([w, steps]) => {
        const weights = Object.fromEntries(NAMES.map((n, i) => [n, w[i]!]));
        const m = new Mixture(streams(0), weights);
        const total = w.reduce((a, b) => a + b, 0);
        const k = w.filter((x) => x > 0).length; // sources that can be chosen
        const counts = new Map(NAMES.map((n) => [n, 0]));
        for (let n = 1; n <= steps; n++) {
          const row = m.next();
          counts.set(row.source, counts.get(row.source)! + 1);
          // The row really comes from that source (ids of the source, or the separator).
          const src = NAMES.indexOf(row.source) + 1;
          for (const id of row.ids) expect(id === 2 || Math.floor(id / 100) === src).toBe(true);
          for (const [i, name] of NAMES.entries()) {
            const ahead = counts.get(name)! - (w[i]! / total) * n;
            expect(ahead).toBeLessThanOrEqual(1 - 1 / k + 1e-9);
            expect(-ahead).toBeLessThanOrEqual((k - 1) * (1 - 1 / k) + 1e-9);
          }
        }
        expect(m.counts()).toEqual(Object.fromEntries(NAMES.filter((_, i) => w[i]! > 0).map((n) => [n, counts.get(n)])));
      },
      60,
    );
  });

  it('with two sources stays within half a row of each share; with five, can fall just over a row behind', () => {
    checkProperty(
      fc.tuple(fc.double({ min: 0.001, max: 10, noNaN: true }), fc.double({ min: 0.001, max: 10, noNaN: true })),
      ([a, b]) => {
        const m = new Mixture(streams(0).slice(0, 2), { en: a, ja: b });
        let en = 0;
        for (let n = 1; n <= 300; n++) {
          if (m.next().source === 'en') en++;
          expect(Math.abs(en - (a / (a + b)) * n)).toBeLessThanOrEqual(0.5 + 1e-9);
        }
      },
      60,
    );
    // A case fast-check found: Megatron's rule leaves English 1.0023 rows behind after 239 rows (so the
    // bound "within one row" that this test once claimed does not hold for five sources).
    const w = [0.15935782411480504, 0.0010000000000000005, 0.002524134637134535, 0.19883871701529723, 0.0010000000000000007];
    const m = new Mixture(streams(0), Object.fromEntries(NAMES.map((n, i) => [n, w[i]!])));
    for (let n = 0; n < 239; n++) m.next();
    const behind = (w[0]! / w.reduce((x, y) => x + y, 0)) * 239 - m.counts().en!;
    expect(behind).toBeGreaterThan(1);
    expect(behind).toBeLessThan(1.01);
  });

  it('is deterministic, and restore(state) gives the identical continuation', () => {
    checkProperty(
      fc.tuple(weightsArb, fc.nat(60), fc.nat(100)),
      ([w, k, seed]) => {
        const weights = Object.fromEntries(NAMES.map((n, i) => [n, w[i]!]));
        const a = new Mixture(streams(seed), weights);
        const b = new Mixture(streams(seed), weights);
        for (let i = 0; i < k; i++) expect(a.next()).toEqual(b.next());
        const c = new Mixture(streams(seed), weights);
        c.restore(JSON.parse(JSON.stringify(a.state())));
        for (let i = 0; i < 20; i++) expect(c.next()).toEqual(a.next());
      },
      60,
    );
  });

  it("converges to LLM-jp-4's shares (published to 0.1%, so they sum to 0.999 and are normalised)", () => {
    const m = new Mixture(streams(0), LLMJP4_SHARES);
    for (let i = 0; i < 5000; i++) m.next();
    const c = m.counts();
    const total = Object.values(LLMJP4_SHARES).reduce((a, b) => a + b, 0);
    expect(total).toBeCloseTo(0.999, 12);
    for (const [n, w] of Object.entries(LLMJP4_SHARES)) expect(Math.abs(c[n]! / 5000 - w / total)).toBeLessThan(1 / 5000 + 1e-12);
  });
});

describe('weights', () => {
  it('normalise, and unknown names, negative weights and an all-zero mixture are errors', () => {
    expect([...normalizeWeights({ en: 3, ja: 1, ko: 0 }, NAMES)]).toEqual([
      ['en', 0.75],
      ['ja', 0.25],
    ]);
    expect(() => normalizeWeights({ fr: 1 }, NAMES)).toThrow(/no sub-corpus 'fr'/);
    expect(() => normalizeWeights({ en: -1, ja: 2 }, NAMES)).toThrow(/weight of 'en' must be a finite number ≥ 0/);
    expect(() => normalizeWeights({ en: 0 }, NAMES)).toThrow(/sum to 0/);
    expect(() => new Mixture(streams(0), { en: 1 }).restore({ rows: 1, counts: { en: 1, ja: 0 }, streams: {} })).toThrow(
      /do not fit/,
    );
  });

  it('mid-training is the pre-training mixture at half weight and instructions at the other half', () => {
    const w = midtrainWeights(LLMJP4_SHARES, 'sft');
    expect(w.sft).toBe(0.5);
    expect(Object.values(w).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(w.en! / w.ja!).toBeCloseTo(0.735 / 0.155, 12);
    expect(() => midtrainWeights({ en: 1 }, 'sft', 1)).toThrow(/instruction share must be in \(0, 1\)/);
  });
});
