// Learning-rate schedules as pure functions of the step: laws under fast-check (warmup from 0 and linear,
// WSD stable at the peak and ending at the floor, the 1 − sqrt cooldown, cosine never below its floor)
// and the golden trajectories' per-step lrs, exactly.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkProperty } from '../../core/testing/index.js';
import { lrAt, scheduleFromHf, validateSchedule, type Schedule } from '../../train/schedule.js';

const TRAIN = resolve(import.meta.dirname, '..', 'fixtures', 'golden', 'train');

const peak = fc.double({ min: 1e-6, max: 1, noNaN: true });
const count = (max: number) => fc.integer({ min: 0, max });
const ratio = fc.oneof(fc.constant(0), fc.double({ min: 0, max: 1, noNaN: true }));

const constantArb = fc.record({ kind: fc.constant('constant' as const), peakLr: peak, warmupSteps: count(50) });
const wsdArb = fc.record({
  kind: fc.constant('wsd' as const),
  peakLr: peak,
  warmupSteps: count(50),
  stableSteps: count(50),
  decaySteps: count(50),
  decayType: fc.constantFrom('1-sqrt' as const, 'linear' as const, 'cosine' as const),
  minLrRatio: ratio,
});
const cosineArb = fc
  .record({ kind: fc.constant('cosine' as const), peakLr: peak, warmupSteps: count(50), extra: count(100), minLrRatio: ratio })
  .map(({ extra, ...s }) => ({ ...s, totalSteps: s.warmupSteps + extra }));
const anyArb: fc.Arbitrary<Schedule> = fc.oneof(constantArb, wsdArb, cosineArb);

const close = (a: number, b: number) => Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(b));

describe('lrAt', () => {
  it('warmup starts at 0 and rises linearly to the peak', () => {
    checkProperty(
      anyArb,
      (s) => {
        if (s.warmupSteps > 0) expect(lrAt(s, 0)).toBe(0);
        for (let t = 0; t < s.warmupSteps; t++) expect(close(lrAt(s, t), (s.peakLr * t) / s.warmupSteps)).toBe(true);
        // The first step after warmup is at the peak (WSD: unless there is neither a stable nor a decay phase).
        const atPeak = s.kind !== 'wsd' || s.stableSteps + s.decaySteps > 0;
        if (atPeak) expect(lrAt(s, s.warmupSteps)).toBe(s.peakLr);
      },
      200,
    );
  });

  it('every schedule stays within [0, peak], is pure, and never rises after warmup', () => {
    checkProperty(
      fc.tuple(anyArb, fc.integer({ min: 0, max: 400 })),
      ([s, t]) => {
        const lr = lrAt(s, t);
        expect(lr).toBeGreaterThanOrEqual(0);
        expect(lr).toBeLessThanOrEqual(s.peakLr);
        expect(lrAt(s, t)).toBe(lr);
        if (t >= s.warmupSteps) expect(lrAt(s, t + 1)).toBeLessThanOrEqual(lr);
      },
      300,
    );
  });

  it('WSD: the stable phase is exactly the peak, the decay follows its formula, and it ends at the floor', () => {
    checkProperty(
      wsdArb,
      (s) => {
        const [w, st, d] = [s.warmupSteps, s.stableSteps, s.decaySteps];
        for (let t = w; t < w + st; t++) expect(lrAt(s, t)).toBe(s.peakLr);
        const f = {
          '1-sqrt': (p: number) => 1 - Math.sqrt(p),
          linear: (p: number) => 1 - p,
          cosine: (p: number) => 0.5 * (1 + Math.cos(Math.PI * p)),
        }[s.decayType];
        for (let t = w + st; t < w + st + d; t++) {
          const p = (t - w - st) / d;
          expect(close(lrAt(s, t), s.peakLr * (f(p) * (1 - s.minLrRatio) + s.minLrRatio))).toBe(true);
        }
        // The first decay step still has the peak; after the last, the minimum for ever.
        if (d > 0) expect(lrAt(s, w + st)).toBe(s.peakLr);
        for (const t of [w + st + d, w + st + d + 1, w + st + d + 1000]) expect(lrAt(s, t)).toBe(s.peakLr * s.minLrRatio);
      },
      200,
    );
  });

  it('cosine: the midpoint is halfway between peak and floor, and it rests on the floor from totalSteps on', () => {
    checkProperty(
      cosineArb,
      (s) => {
        const floor = s.peakLr * s.minLrRatio;
        for (let t = 0; t < s.totalSteps + 20; t++)
          if (t >= s.warmupSteps) expect(lrAt(s, t)).toBeGreaterThanOrEqual(floor * (1 - 1e-15));
        for (const t of [s.totalSteps, s.totalSteps + 1, s.totalSteps + 500])
          if (s.totalSteps > s.warmupSteps) expect(close(lrAt(s, t), floor)).toBe(true);
        const span = s.totalSteps - s.warmupSteps;
        if (span > 0 && span % 2 === 0) expect(close(lrAt(s, s.warmupSteps + span / 2), (s.peakLr + floor) / 2)).toBe(true);
      },
      200,
    );
  });

  it("gives the golden trajectories' per-step lrs exactly", () => {
    for (const name of ['train_llama_adamw', 'train_qwen3moe_adamw']) {
      const j = JSON.parse(readFileSync(join(TRAIN, name, 'trajectory.json'), 'utf8'));
      const s = scheduleFromHf(j.lr_schedule.params, j.lr_schedule.peak_lr);
      expect(j.lr_schedule.lr.map((_: number, t: number) => lrAt(s, t))).toEqual(j.lr_schedule.lr);
    }
  });

  it('LLM-jp-4 WSD: 1 − sqrt cooldown, e.g. a quarter of the way down is peak·(1 − 1/2)', () => {
    const s: Schedule = { kind: 'wsd', peakLr: 4e-4, warmupSteps: 2000, stableSteps: 6000, decaySteps: 2000 };
    expect(lrAt(s, 1000)).toBe(2e-4);
    expect(lrAt(s, 5000)).toBe(4e-4);
    expect(lrAt(s, 8500)).toBe(4e-4 * (1 - Math.sqrt(0.25)));
    expect(lrAt(s, 10000)).toBe(0);
  });

  it('rejects bad schedules and steps, naming the field', () => {
    expect(() => lrAt({ kind: 'constant', peakLr: 1e-3, warmupSteps: 2 }, -1)).toThrow(
      'lrAt: step must be an integer ≥ 0, got -1',
    );
    expect(() => lrAt({ kind: 'constant', peakLr: 1e-3, warmupSteps: 2 }, 1.5)).toThrow(/lrAt: step/);
    expect(() => validateSchedule({ kind: 'constant', peakLr: -1, warmupSteps: 2 })).toThrow(
      "schedule 'constant': peakLr must be a finite number ≥ 0, got -1",
    );
    expect(() => validateSchedule({ kind: 'wsd', peakLr: 1, warmupSteps: 1, stableSteps: 1.5, decaySteps: 1 })).toThrow(
      "schedule 'wsd': stableSteps must be an integer ≥ 0, got 1.5",
    );
    expect(() =>
      validateSchedule({ kind: 'wsd', peakLr: 1, warmupSteps: 1, stableSteps: 1, decaySteps: 1, minLrRatio: 2 }),
    ).toThrow(/minLrRatio must be in \[0, 1\]/);
    expect(() => validateSchedule({ kind: 'cosine', peakLr: 1, warmupSteps: 5, totalSteps: 3 })).toThrow(
      "schedule 'cosine': totalSteps must be ≥ warmupSteps (5), got 3",
    );
    expect(() => scheduleFromHf({ kind: 'polynomial' }, 1)).toThrow(/unsupported schedule "polynomial"/);
    expect(() => scheduleFromHf({ kind: 'wsd', num_warmup_steps: 1, num_stable_steps: 1 }, 1)).toThrow(
      'lr_schedule.params.num_decay_steps: is required by get_wsd_schedule',
    );
    expect(() => scheduleFromHf({ kind: 'wsd', num_warmup_steps: 1, num_stable_steps: -1, num_decay_steps: 1 }, 1)).toThrow(
      'lr_schedule.params.num_stable_steps: expected an integer ≥ 0, got -1',
    );
  });
});
