// RoPE: the fused rotation equals x·cos + rotate_half(x)·sin, its tables equal HF's float32 formula,
// it preserves each (i, i + HS/2) pair's norm, and q·k after rotation depends only on the distance
// between positions — the property RoPE exists for. Scaling variants follow SEMANTICS.md's formulas.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rope, ropeInvFreq, ropeTables, tensor, type Tensor } from '../../core/index.js';
import { Rope } from '../../core/ops/index.js';
import { checkFused, checkOp, checkProperty, tensorSpec } from '../../core/testing/index.js';

const headDims = fc.constantFrom(2, 4, 6, 8);

/** x [B, NH, T, HS], tables for positions offset..offset+T−1 or explicit ids [B, T]. */
const cases = fc
  .record({
    B: fc.integer({ min: 1, max: 2 }),
    NH: fc.integer({ min: 1, max: 3 }),
    T: fc.integer({ min: 1, max: 5 }),
    HS: headDims,
    offset: fc.integer({ min: 0, max: 40 }),
    theta: fc.constantFrom(1e4, 5e5),
    explicit: fc.boolean(),
  })
  .chain((c) =>
    fc
      .tuple(
        tensorSpec([c.B, c.NH, c.T, c.HS]),
        fc.array(fc.integer({ min: 0, max: 100 }), { minLength: c.B * c.T, maxLength: c.B * c.T }),
      )
      .map(([x, ids]) => ({ inputs: [x], attrs: { ...c, ids } })),
  );

type Attrs = { B: number; T: number; HS: number; offset: number; theta: number; explicit: boolean; ids: number[] };

function tables(x: Tensor, a: Attrs) {
  const positions = a.explicit ? tensor(a.ids, { dtype: 'int32', shape: [a.B, a.T] }) : { offset: a.offset, length: a.T };
  return ropeTables(a.HS, a.theta, { type: 'default' }, positions, x.dtype);
}

describe('rope', () => {
  it('fused = x·cos + rotate_half(x)·sin, forward and gradient', () => {
    checkFused({
      name: 'rope',
      cases,
      fused: ([x], a) => {
        const { cos, sin } = tables(x, a);
        return rope(x, cos, sin);
      },
      reference: ([x], a) => {
        const { cos, sin } = tables(x, a);
        return Rope.reference!({ x, cos, sin }, { inverse: false });
      },
    });
  });

  it('forward = the angle formula p·θ^(−2i/d); backward = finite differences', () => {
    checkOp({
      name: 'rope',
      cases,
      fn: ([x], a) => {
        const { cos, sin } = tables(x, a);
        return rope(x, cos, sin);
      },
      reference: ([x], a) => {
        const [B, NH, T, HS] = x.shape;
        const half = HS / 2;
        const out = [...x.data];
        for (let b = 0; b < B; b++)
          for (let h = 0; h < NH; h++)
            for (let t = 0; t < T; t++) {
              const pos = a.explicit ? a.ids[b * T + t] : a.offset + t;
              const base = ((b * NH + h) * T + t) * HS;
              for (let i = 0; i < half; i++) {
                const angle = pos * a.theta ** ((-2 * i) / HS);
                const [x1, x2] = [x.data[base + i], x.data[base + i + half]];
                out[base + i] = x1 * Math.cos(angle) - x2 * Math.sin(angle);
                out[base + i + half] = x2 * Math.cos(angle) + x1 * Math.sin(angle);
              }
            }
        return { shape: x.shape, data: out };
      },
      // The tables are float32 like HF's, so even the float64 forward is float32-accurate.
      forwardTol: { float32: { atol: 1e-5, rtol: 1e-4 }, float64: { atol: 2e-5, rtol: 1e-5 } },
    });
  });

  it('law: q·k after rotation depends only on the position difference', () => {
    checkProperty(
      fc.record({
        HS: headDims,
        p: fc.integer({ min: 0, max: 50 }),
        q: fc.integer({ min: 0, max: 50 }),
        shift: fc.integer({ min: 0, max: 50 }),
      }),
      ({ HS, p, q, shift }) => {
        const a = tensor(
          Array.from({ length: HS }, (_, i) => Math.sin(i + 1)),
          { dtype: 'float64', shape: [1, 1, 1, HS] },
        );
        const b = tensor(
          Array.from({ length: HS }, (_, i) => Math.cos(3 * i)),
          { dtype: 'float64', shape: [1, 1, 1, HS] },
        );
        const at = (x: Tensor, pos: number) => {
          const t = ropeTables(HS, 1e4, { type: 'default' }, { offset: pos, length: 1 }, 'float64');
          return rope(x, t.cos, t.sin);
        };
        const dot = (u: Tensor, v: Tensor) => u.mul(v).sum().itemSync();
        expect(dot(at(a, p), at(b, q))).toBeCloseTo(dot(at(a, p + shift), at(b, q + shift)), 4);
        expect(at(a, p).norm().itemSync()).toBeCloseTo(a.norm().itemSync(), 5);
      },
    );
  });

  it('inverse frequencies: default, llama3 regimes, yarn blend and attention scaling', () => {
    const d = 8;
    const { invFreq } = ropeInvFreq(d, 1e4);
    invFreq.forEach((f, i) => expect(f).toBeCloseTo(1 / 1e4 ** ((2 * i) / d), 6));
    const l3 = ropeInvFreq(d, 1e4, {
      type: 'llama3',
      factor: 8,
      lowFreqFactor: 1,
      highFreqFactor: 4,
      originalMaxPositionEmbeddings: 64,
    }).invFreq;
    invFreq.forEach((f, i) => {
      const wavelen = (2 * Math.PI) / f;
      if (wavelen < 64 / 4)
        expect(l3[i]).toBe(f); // high frequency: kept
      else if (wavelen > 64)
        expect(l3[i]).toBeCloseTo(f / 8, 8); // low frequency: divided by the factor
      else expect(l3[i] < f && l3[i] > f / 8).toBe(true); // in between: a blend
    });
    const yarn = ropeInvFreq(d, 1e4, {
      type: 'yarn',
      factor: 4,
      originalMaxPositionEmbeddings: 32,
      betaFast: 32,
      betaSlow: 1,
      attentionFactor: 0.1 * Math.log(4) + 1,
    });
    expect(yarn.attentionScaling).toBeCloseTo(1.1386, 4);
    expect(yarn.invFreq[0]).toBeCloseTo(invFreq[0], 8); // fastest rotation: extrapolated (unchanged)
    expect(yarn.invFreq[d / 2 - 1]).toBeCloseTo(invFreq[d / 2 - 1] / 4, 8); // slowest: interpolated
    expect(() => ropeInvFreq(5, 1e4)).toThrow('rope: head size must be a positive even integer, got 5');
  });

  it('tables are views into one cached table; shape errors name the op', () => {
    const a = ropeTables(4, 1e4, { type: 'default' }, { offset: 3, length: 2 });
    const b = ropeTables(4, 1e4, { type: 'default' }, { offset: 0, length: 5 });
    expect(a.cos.storage).toBe(b.cos.storage);
    expect(Array.from(a.cos.dataSync())).toEqual(Array.from(b.cos.narrow(0, 3, 2).dataSync()));
    expect(() => rope(tensor([1, 2]), a.cos, a.sin)).toThrow(/rope: x must be \[B, NH, T, HS\]/);
  });
});
