// Unary elementwise ops: forward against plain Math formulas (float32 and float64), gradients against
// float64 finite differences, on random shapes and non-contiguous layouts; plus the domain edges.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { tensor, type Tensor } from '../../core/index.js';
import { checkOp, ndarray, shape, tensorSpec, type ValueOptions } from '../../core/testing/index.js';
import { unaryKernels } from '../../kernels/cpu/elementwise.js';
import { erfReference, geluReference } from './reference_math.js';

interface UnaryCase {
  name: string;
  fn: (x: Tensor) => Tensor;
  ref: (v: number) => number;
  values?: ValueOptions;
  tol32?: number;
}

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

/** One case per unary kernel key of the CPU table (kernels/cpu/elementwise.ts): a key without a case is a compile error. */
const BY_KEY: { [K in keyof typeof unaryKernels]: Omit<UnaryCase, 'name'> } = {
  neg: { fn: (x) => x.neg(), ref: (v) => -v },
  abs: { fn: (x) => x.abs(), ref: Math.abs, values: { awayFrom: [0] } },
  sign: { fn: (x) => x.sign(), ref: Math.sign, values: { awayFrom: [0] } },
  exp: { fn: (x) => x.exp(), ref: Math.exp, values: { min: -6, max: 6 } },
  log: { fn: (x) => x.log(), ref: Math.log, values: { min: 0.05, max: 6 } },
  sqrt: { fn: (x) => x.sqrt(), ref: Math.sqrt, values: { min: 0.05, max: 6 } },
  rsqrt: { fn: (x) => x.rsqrt(), ref: (v) => 1 / Math.sqrt(v), values: { min: 0.05, max: 6 } },
  sin: { fn: (x) => x.sin(), ref: Math.sin },
  cos: { fn: (x) => x.cos(), ref: Math.cos },
  tanh: { fn: (x) => x.tanh(), ref: Math.tanh },
  sigmoid: { fn: (x) => x.sigmoid(), ref: sigmoid, values: { min: -8, max: 8 } },
  relu: { fn: (x) => x.relu(), ref: (v) => Math.max(v, 0), values: { awayFrom: [0] } },
  silu: { fn: (x) => x.silu(), ref: (v) => v * sigmoid(v), values: { min: -8, max: 8 } },
  gelu: { fn: (x) => x.gelu(), ref: (v) => geluReference(v, 'none') },
  erf: { fn: (x) => x.erf(), ref: erfReference },
  square: { fn: (x) => x.square(), ref: (v) => v * v },
  reciprocal: { fn: (x) => x.reciprocal(), ref: (v) => 1 / v, values: { awayFrom: [0], gap: 0.2 } },
  clamp: { fn: (x) => x.clamp(-1, 0.5), ref: (v) => Math.min(Math.max(v, -1), 0.5), values: { awayFrom: [-1, 0.5] } },
};

/** The ops with attributes, in their other forms. */
const VARIANTS: UnaryCase[] = [
  { name: 'gelu(tanh)', fn: (x) => x.gelu('tanh'), ref: (v) => geluReference(v, 'tanh') },
  { name: 'clamp(min only)', fn: (x) => x.clamp(0.25), ref: (v) => Math.max(v, 0.25), values: { awayFrom: [0.25] } },
];

const CASES: UnaryCase[] = [...Object.entries(BY_KEY).map(([name, c]) => ({ name, ...c })), ...VARIANTS];

describe('unary ops: forward = reference, backward = finite differences', () => {
  for (const c of CASES) {
    it(c.name, () => {
      checkOp({
        name: c.name,
        cases: tensorSpec(shape({ maxRank: 3 }), c.values).map((x) => ({ inputs: [x], attrs: {} })),
        fn: ([x]) => c.fn(x),
        reference: ([x]) => ndarray.map(x, c.ref),
        // erf/GELU references integrate numerically (~1e-11), so float64 gets a slightly looser bound.
        forwardTol: { float64: { atol: 1e-9, rtol: 1e-9 } },
      });
    });
  }
});

describe('unary ops: domain edges and extremes', () => {
  it('exp overflows to Infinity and underflows to 0 like IEEE, in both float dtypes', () => {
    expect(Array.from(tensor([1000, -1000, 0], { dtype: 'float64' }).exp().dataSync())).toEqual([Infinity, 0, 1]);
    expect(Array.from(tensor([100, -200]).exp().dataSync())).toEqual([Infinity, 0]);
  });

  it('log and sqrt at 0 and below follow IEEE (−∞, NaN) and their gradients at 0 are +∞ as in PyTorch', () => {
    const x = tensor([0, -1, 0], { dtype: 'float64', requiresGrad: true });
    const y = x.log();
    expect(Array.from(y.dataSync())).toEqual([-Infinity, NaN, -Infinity]);
    y.sum().backward();
    expect(x.grad!.dataSync()[0]).toBe(Infinity);
    const z = tensor([0, 4], { dtype: 'float64', requiresGrad: true });
    z.sqrt().sum().backward();
    expect(Array.from(z.grad!.dataSync())).toEqual([Infinity, 0.25]);
  });

  it('sigmoid and silu stay finite for large |x| (no exp overflow inside)', () => {
    const y = tensor([-800, 800], { dtype: 'float64' }).sigmoid();
    expect(Array.from(y.dataSync())).toEqual([0, 1]);
    const s = tensor([-800, 800], { dtype: 'float64' }).silu();
    expect(Array.from(s.dataSync())).toEqual([-0, 800]);
  });

  it('erf matches published values to 1e-14', () => {
    // Abramowitz & Stegun table 7.1 / any high-precision source.
    const known: [number, number][] = [
      [0.5, 0.5204998778130465],
      [1, 0.8427007929497149],
      [2, 0.9953222650189527],
      [3, 0.9999779095030014],
      [-1.5, -0.9661051464753108],
    ];
    const got = tensor(
      known.map(([x]) => x),
      { dtype: 'float64' },
    )
      .erf()
      .dataSync();
    known.forEach(([, v], i) => expect(Math.abs(got[i] - v)).toBeLessThan(1e-14));
  });

  it('gradients at the kinks are the PyTorch subgradients: relu′(0) = 0, abs′(0) = 0, clamp passes at the bounds', () => {
    const x = tensor([0, 0, -1, 0.5], { dtype: 'float64', requiresGrad: true });
    x.relu().add(x.abs()).add(x.clamp(-1, 0.5)).sum().backward();
    expect(Array.from(x.grad!.dataSync())).toEqual([1, 1, 0, 3]);
  });

  it('float-only ops reject integer tensors with a clear error; numeric ones keep int32', () => {
    const i = tensor([1, -2], { dtype: 'int32' });
    expect(() => i.exp()).toThrow(/exp: expects a floating tensor .* got int32/);
    expect(i.abs().dtype).toBe('int32');
    expect(Array.from(i.neg().dataSync())).toEqual([-1, 2]);
  });

  it('property: every unary op preserves shape and dtype on arbitrary shapes', () => {
    fc.assert(
      fc.property(shape({ maxRank: 4 }), fc.constantFrom<'float32' | 'float64'>('float32', 'float64'), (s, dtype) => {
        const x = tensor(new Float64Array(s.reduce((a, b) => a * b, 1)).fill(0.5), { shape: s, dtype });
        for (const c of CASES) {
          const y = c.fn(x);
          expect(y.shape).toEqual(s);
          expect(y.dtype).toBe(dtype);
        }
      }),
      { numRuns: 20 },
    );
  });
});
