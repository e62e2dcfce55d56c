// The MoE row work on every thread (kernels/cpu/moe_rows.ts) equals the plain serial loops bit for bit
// — forward: gather, SwiGLU, the weighted combine in expert order; backward: w·dy and ⟨dy, Y⟩ per row,
// the SwiGLU gradient, the scatter of token gradients in expert order — for random routings with and
// without capacity drops, run through the pool as tasks (whichever threads claim them).
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { fcParams } from '../../../core/testing/index.js';
import { sigmoid } from '../../../kernels/cpu/math.js';
import { planAssignments } from '../../../kernels/cpu/moe_plan.js';
import { combineRows, gatherRows, rowGrads, scatterRows, swigluAll, swigluGradAll } from '../../../kernels/cpu/moe_rows.js';
import { allocShared } from '../../../kernels/cpu/shared.js';
import { getNumThreads, poolStats, setNumThreads } from '../../../kernels/cpu/threads/pool.js';

const saved = getNumThreads();
afterAll(() => setNumThreads(saved));

const random = (n: number, seed: number) => {
  const a = allocShared('float32', n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) a[i] = ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32) * 4 - 2;
  return a;
};
const same = (a: ArrayLike<number>, b: ArrayLike<number>) =>
  a.length === b.length && Array.prototype.every.call(a, (v: number, i: number) => Object.is(v, b[i]));

describe('MoE row work on the pool', () => {
  it('forward and backward row work equal the serial loops exactly, run as pool tasks', () => {
    setNumThreads(2);
    const jobs = poolStats().jobs;
    const arb = fc.record({
      N: fc.integer({ min: 1, max: 400 }),
      E: fc.integer({ min: 1, max: 9 }),
      K: fc.integer({ min: 1, max: 3 }),
      H: fc.integer({ min: 1, max: 300 }),
      cap: fc.integer({ min: -1, max: 60 }),
      seed: fc.nat(),
    });
    fc.assert(
      fc.property(arb, ({ N, E, K: k, H, cap, seed }) => {
        const K = Math.min(k, E);
        // A deterministic routing from the seed (the plan accepts any expert ids in range).
        const idx = new Int32Array(N * K).map((_, a) => (Math.floor(a / K) * 7 + (a % K) * 3 + seed) % E);
        const plan = planAssignments(idx, N, K, E, cap);
        const x = random(N * H, seed);
        const xs = gatherRows({ data: x, shape: [N, H], dtype: 'float32' }, plan, H);
        const want = new Float32Array(plan.A * H);
        for (let r = 0; r < plan.A; r++) want.set(x.subarray(plan.rowToken[r]! * H, (plan.rowToken[r]! + 1) * H), r * H);
        expect(same(xs, want)).toBe(true);

        const n = plan.A * H;
        const [G, U, h] = [random(n, seed + 1), random(n, seed + 2), allocShared('float32', n)];
        swigluAll(G, U, h, n);
        expect(
          same(
            h,
            Float32Array.from(G, (g, i) => g * sigmoid(g) * U[i]!),
          ),
        ).toBe(true);

        const weights = random(N * K, seed + 3);
        const y = allocShared('float32', N * H);
        combineRows(G.subarray(0, plan.A * H), weights, plan, N, H, K, y);
        const serial = new Float32Array(N * H);
        for (let r = 0; r < plan.A; r++) {
          const t = plan.rowToken[r]!;
          const w = weights[t * K + plan.rowSlot[r]!]!;
          for (let d = 0; d < H; d++) serial[t * H + d] += w * G[r * H + d]!;
        }
        expect(same(y, serial)).toBe(true);

        // Backward: dYw[r] = w·dy[t], dw[t, slot] = ⟨dy[t], Y[r]⟩; dG, dU; dx[t] += Σ its rows' dXs.
        const [dy, Y] = [random(N * H, seed + 4), random(plan.A * H, seed + 5)];
        const [dYw, dw] = [allocShared('float32', plan.A * H), allocShared('float32', N * K)];
        rowGrads(dy, Y, weights, plan, H, K, dYw, dw);
        const [wantDYw, wantDw] = [new Float32Array(plan.A * H), new Float32Array(N * K)];
        for (let r = 0; r < plan.A; r++) {
          const t = plan.rowToken[r]!;
          const w = weights[t * K + plan.rowSlot[r]!]!;
          let dot = 0;
          for (let d = 0; d < H; d++) {
            wantDYw[r * H + d] = w * dy[t * H + d]!;
            dot += dy[t * H + d]! * Y[r * H + d]!;
          }
          wantDw[t * K + plan.rowSlot[r]!] = dot;
        }
        expect(same(dYw, wantDYw)).toBe(true);
        expect(same(dw, wantDw)).toBe(true);
        const [dG, dU] = [allocShared('float32', n), allocShared('float32', n)];
        const dH = random(n, seed + 6);
        swigluGradAll(G, U, dH, dG, dU, n);
        const s = (i: number) => sigmoid(G[i]!);
        expect(
          same(
            dG,
            Float32Array.from(G, (g, i) => dH[i]! * U[i]! * s(i) * (1 + g * (1 - s(i)))),
          ),
        ).toBe(true);
        expect(
          same(
            dU,
            Float32Array.from(G, (g, i) => dH[i]! * g * s(i)),
          ),
        ).toBe(true);
        const dx = allocShared('float32', N * H);
        scatterRows(Y, plan, N, H, dx);
        const wantDx = new Float32Array(N * H);
        for (let r = 0; r < plan.A; r++) for (let d = 0; d < H; d++) wantDx[plan.rowToken[r]! * H + d] += Y[r * H + d]!;
        expect(same(dx, wantDx)).toBe(true);
      }),
      fcParams(40),
    );
    expect(poolStats().jobs).toBeGreaterThan(jobs); // the parallel path ran, not the inline loops
  });
});
