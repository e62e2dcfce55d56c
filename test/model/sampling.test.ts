// The logits processors and the sampler, by their laws: greedy is the lowest-index argmax; top-k = 1 and
// a tiny top-p are greedy; temperature → 0 is greedy; the same seed draws the same tokens; top-k/top-p
// never draw outside their kept set, and top-p's set is the smallest most-likely prefix reaching p;
// HF's repetition-penalty rule; draws follow softmax(logits).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Generator } from '../../core/index.js';
import { checkProperty } from '../../core/testing/index.js';
import {
  applyRepetitionPenalty,
  applyTemperature,
  applyTopK,
  applyTopP,
  argmax,
  kthLargest,
  nextToken,
  sample,
  softmax,
} from '../../model/sampling.js';

// Rounded to 1e-6 so no subnormal collapses to a tie when divided by a temperature.
const logitsArb = (opts: { min?: number; max?: number } = {}) =>
  fc.array(
    fc.double({ min: opts.min ?? -8, max: opts.max ?? 8, noNaN: true }).map((v) => Math.round(v * 1e6) / 1e6),
    { minLength: 1, maxLength: 24 },
  );
/** Logits with one clear maximum (by at least 0.05). */
const peaked = logitsArb()
  .chain((l) => fc.record({ logits: fc.constant(l), at: fc.nat({ max: l.length - 1 }) }))
  .map(({ logits, at }) => {
    const x = [...logits];
    x[at] = Math.max(...x) + 0.05;
    return { logits: x, at };
  });
const seedArb = fc.integer({ min: 0, max: 2 ** 31 });

describe('greedy', () => {
  it('argmax takes the lowest index among ties', () => {
    checkProperty(fc.array(fc.integer({ min: -3, max: 3 }), { minLength: 1, maxLength: 30 }), (x) => {
      const i = argmax(x);
      expect(x[i]).toBe(Math.max(...x));
      expect(x.indexOf(Math.max(...x))).toBe(i);
    });
  });

  it('temperature 0 is greedy; top-k and top-p do not change it', () => {
    checkProperty(
      fc.record({ x: logitsArb(), k: fc.nat(30), p: fc.double({ min: 0.01, max: 1, noNaN: true }), seed: seedArb }),
      ({ x, k, p, seed }) => {
        expect(nextToken(x, [], { temperature: 0, topK: k, topP: p }, new Generator(seed))).toBe(argmax(x));
      },
    );
  });
});

describe('sampling laws', () => {
  it('top-k = 1 is greedy at any temperature and seed', () => {
    checkProperty(fc.record({ c: peaked, t: fc.double({ min: 0.05, max: 5, noNaN: true }), seed: seedArb }), ({ c, t, seed }) => {
      expect(nextToken(c.logits, [], { temperature: t, topK: 1 }, new Generator(seed))).toBe(c.at);
    });
  });

  it('a tiny top-p is greedy (lowest index among tied maxima)', () => {
    checkProperty(
      fc.record({ x: fc.array(fc.integer({ min: -4, max: 4 }), { minLength: 1, maxLength: 20 }), seed: seedArb }),
      ({ x, seed }) => {
        expect(nextToken(x, [], { temperature: 1.3, topP: 1e-9 }, new Generator(seed))).toBe(argmax(x));
      },
    );
  });

  it('temperature → 0 is greedy', () => {
    checkProperty(fc.record({ c: peaked, seed: seedArb }), ({ c, seed }) => {
      expect(nextToken(c.logits, [], { temperature: 1e-4 }, new Generator(seed))).toBe(c.at);
    });
  });

  it('the same seed draws the same tokens', () => {
    checkProperty(
      fc.record({ x: logitsArb(), seed: seedArb, k: fc.nat(10), p: fc.double({ min: 0.1, max: 1, noNaN: true }) }),
      ({ x, seed, k, p }) => {
        const draw = () => {
          const g = new Generator(seed);
          return Array.from({ length: 8 }, () => nextToken(x, [], { temperature: 0.9, topK: k, topP: p }, g));
        };
        expect(draw()).toEqual(draw());
      },
    );
  });

  it('top-k never draws outside the k largest (ties with the k-th kept)', () => {
    checkProperty(
      fc.record({ x: logitsArb({ min: -2, max: 2 }), k: fc.integer({ min: 1, max: 6 }), seed: seedArb }),
      ({ x, k, seed }) => {
        const kth = [...x].sort((a, b) => b - a)[Math.min(k, x.length) - 1]!;
        const kept = applyTopK(x, k);
        x.forEach((v, i) => expect(kept[i]).toBe(v >= kth ? v : -Infinity));
        const g = new Generator(seed);
        for (let n = 0; n < 20; n++) expect(x[nextToken(x, [], { temperature: 2, topK: k }, g)]!).toBeGreaterThanOrEqual(kth);
      },
    );
  });

  it('top-p keeps the smallest most-likely set reaching p, and never draws outside it', () => {
    checkProperty(
      fc.record({
        x: fc.oneof(logitsArb({ min: -3, max: 3 }), fc.array(fc.integer({ min: -2, max: 2 }), { minLength: 1, maxLength: 12 })),
        p: fc.double({ min: 0.05, max: 0.999, noNaN: true }),
        seed: seedArb,
      }),
      ({ x, p, seed }) => {
        const probs = softmax(x);
        const kept = applyTopP(x, p);
        const inSet = x.map((_, i) => kept[i] !== -Infinity);
        // A prefix of the tokens by falling probability: no kept token is less likely than a dropped one.
        const keptMin = Math.min(...x.filter((_, i) => inSet[i]));
        const droppedMax = Math.max(...x.filter((_, i) => !inSet[i]));
        expect(keptMin).toBeGreaterThanOrEqual(droppedMax);
        // It reaches p, and without its least likely member it would not.
        const mass = probs.reduce((s, q, i) => s + (inSet[i] ? q : 0), 0);
        expect(mass).toBeGreaterThanOrEqual(p - 1e-12);
        const least = Math.min(...probs.filter((_, i) => inSet[i]));
        expect(mass - least).toBeLessThan(p + 1e-12);
        kept.forEach((v, i) => inSet[i] && expect(v).toBe(x[i])); // kept logits are untouched
        // Among equal logits, the lower indices are the ones kept.
        x.forEach((v, i) => x.forEach((w, j) => v === w && inSet[j] && !inSet[i] && expect(j).toBeLessThan(i)));
        const g = new Generator(seed);
        for (let n = 0; n < 20; n++) expect(inSet[nextToken(x, [], { temperature: 1, topP: p }, g)]).toBe(true);
      },
    );
  });

  it('draws follow softmax(logits)', () => {
    const x = [1, 0, -1, 2, -Infinity];
    const probs = softmax(x);
    const counts = new Array(x.length).fill(0);
    const g = new Generator(7);
    const N = 20000;
    for (let n = 0; n < N; n++) counts[sample(x, g)]++;
    expect(counts[4]).toBe(0); // a removed token is never drawn
    // Each frequency within 4 standard errors of its probability.
    probs.forEach((q, i) => expect(Math.abs(counts[i] / N - q)).toBeLessThanOrEqual(4 * Math.sqrt((q * (1 - q)) / N) + 1e-12));
  });
});

describe('kthLargest', () => {
  it('is the k-th value of the falling sort, with ties and -Infinity', () => {
    const value = fc.oneof(
      fc.integer({ min: -3, max: 3 }),
      fc.constant(-Infinity),
      fc.double({ min: -1e3, max: 1e3, noNaN: true }),
    );
    const arb = fc
      .array(value, { minLength: 1, maxLength: 60 })
      .chain((x) => fc.record({ x: fc.constant(x), k: fc.integer({ min: 1, max: x.length }) }));
    // + 0 makes −0 and 0 one value: they tie, so which of them the sort puts k-th is not defined.
    checkProperty(arb, ({ x, k }) => expect(kthLargest(x, k) + 0).toBe([...x].sort((a, b) => b - a)[k - 1]! + 0), 300);
  });
});

describe('repetition penalty and temperature', () => {
  it("follows HF's rule: seen positive logits are divided by θ, negative ones multiplied, each token once", () => {
    const arb = logitsArb().chain((x) =>
      fc.record({
        x: fc.constant(x),
        seen: fc.array(fc.nat({ max: x.length - 1 }), { maxLength: 10 }),
        theta: fc.double({ min: 0.5, max: 3, noNaN: true }),
      }),
    );
    checkProperty(arb, ({ x, seen, theta }) => {
      const y = applyRepetitionPenalty(x, seen, theta);
      const s = new Set(seen);
      x.forEach((v, i) => expect(y[i]).toBe(!s.has(i) ? v : v < 0 ? v * theta : v / theta));
      // θ ≥ 1 never makes a seen token more likely relative to unseen ones.
      if (theta >= 1) x.forEach((v, i) => s.has(i) && expect(y[i]).toBeLessThanOrEqual(v));
    });
    // The greedy choice moves off a repeated token when the penalty is strong enough.
    expect(nextToken([2, 1.5, 0], [0], { repetitionPenalty: 2 }, new Generator(0))).toBe(1);
    expect(nextToken([2, 1.5, 0], [0], {}, new Generator(0))).toBe(0);
  });

  it('temperature divides the logits; processors reject bad parameters by name', () => {
    expect(Array.from(applyTemperature([1, -2, 4], 2))).toEqual([0.5, -1, 2]);
    expect(() => applyTemperature([1], 0)).toThrow('temperature: must be a positive finite number here, got 0');
    expect(() => applyTopK([1], -1)).toThrow('topK: must be a non-negative integer, got -1');
    expect(() => applyTopP([1], 0)).toThrow('topP: must be in (0, 1], got 0');
    expect(() => applyRepetitionPenalty([1], [3], 1.2)).toThrow('repetitionPenalty: token 3 is outside the vocabulary [0, 1)');
    expect(() => nextToken([1], [], { temperature: -1 }, new Generator(0))).toThrow(
      'generate: temperature must be a finite number ≥ 0, got -1',
    );
    expect(() => nextToken([1], [], { topP: 1.5 }, new Generator(0))).toThrow('generate: topP must be in (0, 1], got 1.5');
    expect(() => softmax([-Infinity])).toThrow('softmax: no finite logit to sample from');
  });
});
