// linear, matmul and the embedding lookup with a weight kept in a storage dtype (bfloat16, float16, q8_0,
// q4_0): each equals the same op on the dequantized float32 weight (float32 rounding), on the few-row
// (matrix-vector) path and the many-row path (the weight decoded in chunks of rows, forced small here), with
// bias, activation and residual; the input gradient flows through a frozen stored weight.
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { embedding, linear, matmul, randn, tensor, type Tensor } from '../../core/index.js';
import { STORAGE_DTYPES } from '../../core/dtype.js';
import { Generator } from '../../core/random.js';
import { weightTuning } from '../../kernels/cpu/weight_linear.js';

const saved = { ...weightTuning };
afterEach(() => Object.assign(weightTuning, saved));

/** max |a − b| / max(1, max |b|): float32 sums of up to a few hundred terms stay well under 1e-5. */
function relErr(a: Tensor, b: Tensor): number {
  const x = a.dataSync();
  const y = b.dataSync();
  expect(x.length).toBe(y.length);
  let err = 0;
  let scale = 1;
  for (let i = 0; i < x.length; i++) {
    err = Math.max(err, Math.abs(x[i]! - y[i]!));
    scale = Math.max(scale, Math.abs(y[i]!));
  }
  return err / scale;
}

const cases = fc.record({
  rows: fc.oneof(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 9, max: 24 })),
  out: fc.integer({ min: 1, max: 40 }),
  blocks: fc.integer({ min: 1, max: 4 }),
  dtype: fc.constantFrom(...STORAGE_DTYPES),
  chunkFloats: fc.constantFrom(1, 100, 1 << 20),
  activation: fc.constantFrom('none', 'silu', 'gelu', 'gelu_tanh') as fc.Arbitrary<'none' | 'silu' | 'gelu' | 'gelu_tanh'>,
  bias: fc.boolean(),
  residual: fc.boolean(),
  seed: fc.integer({ min: 0, max: 1e6 }),
});

describe('linear with a stored weight', () => {
  it('equals linear on the dequantized float32 weight, both paths, with every epilogue', () => {
    fc.assert(
      fc.property(cases, (c) => {
        weightTuning.chunkFloats = c.chunkFloats;
        const g = new Generator(c.seed);
        const K = 32 * c.blocks;
        const x = randn([c.rows, K], { generator: g });
        const w = randn([c.out, K], { generator: g }).to(c.dtype);
        const b = c.bias ? randn([c.out], { generator: g }) : undefined;
        const r = c.residual ? randn([c.rows, c.out], { generator: g }) : undefined;
        const opts = { activation: c.activation, residual: r };
        const y = linear(x, w, b, opts);
        expect([y.dtype, y.shape]).toEqual(['float32', [c.rows, c.out]]);
        expect(relErr(y, linear(x, w.to('float32'), b, opts))).toBeLessThan(1e-5);
      }),
      { numRuns: 60 },
    );
  });

  it('batched activations [B, T, in] and the input gradient through the frozen weight', () => {
    for (const dtype of STORAGE_DTYPES) {
      for (const T of [1, 13]) {
        const g = new Generator(7);
        const x = randn([2, T, 64], { generator: g }).requiresGrad_();
        const x2 = x.detach().requiresGrad_();
        const w = randn([24, 64], { generator: g }).to(dtype);
        const y = linear(x, w, undefined, { activation: 'silu' });
        const y2 = linear(x2, w.to('float32'), undefined, { activation: 'silu' });
        expect(relErr(y, y2)).toBeLessThan(1e-5);
        const dy = randn(y.shape, { generator: g });
        y.backward(dy);
        y2.backward(dy);
        expect(relErr(x.grad!, x2.grad!)).toBeLessThan(1e-5);
        expect(w.grad).toBe(null);
      }
    }
  });

  it('refuses activations that are not float32, naming the dtypes', () => {
    const w = randn([4, 32]).to('q8_0');
    expect(() => linear(randn([2, 32], { dtype: 'float64' }), w)).toThrow(
      /linear: a q8_0 weight takes float32 activations, got x float64/,
    );
    expect(() => matmul(randn([2, 32], { dtype: 'float64' }), w.mT)).toThrow(/matmul: a q8_0 b takes a float32 a, got float64/);
    expect(() => matmul(w, randn([32, 2]))).toThrow(/matmul: a is q8_0, a storage dtype this op does not take \(only b may be\)/);
    expect(() => matmul(randn([3, 2, 4]), randn([3, 4, 32]).to('bfloat16'))).toThrow(/matmul: a bfloat16 b must be a 2-D weight/);
  });
});

describe('matmul with a stored weight as b', () => {
  it('x·wᵀ and dy·w equal the products with the dequantized weight', () => {
    fc.assert(
      fc.property(cases, (c) => {
        weightTuning.chunkFloats = c.chunkFloats;
        const g = new Generator(c.seed);
        const K = 32 * c.blocks;
        const w = randn([c.out, K], { generator: g }).to(c.dtype);
        const wf = w.to('float32');
        const x = randn([c.rows, K], { generator: g });
        expect(relErr(matmul(x, w.mT), matmul(x, wf.mT))).toBeLessThan(1e-5);
        // [B, T, K]·wᵀ goes through the 2-D product too.
        const x3 = x.reshape(1, c.rows, K);
        expect(relErr(x3.matmul(w.mT), x3.matmul(wf.mT))).toBeLessThan(1e-5);
        const dy = randn([c.rows, c.out], { generator: g });
        expect(relErr(matmul(dy, w), matmul(dy, wf))).toBeLessThan(1e-5);
      }),
      { numRuns: 40 },
    );
  });
});

describe('embedding with a stored table', () => {
  it('reads the selected rows decoded to float32, exactly as the converted table', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...STORAGE_DTYPES),
        fc.integer({ min: 1, max: 3 }),
        fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 1, maxLength: 12 }),
        (dtype, blocks, ids) => {
          const table = randn([10, 32 * blocks]).to(dtype);
          const idx = tensor(ids, { dtype: 'int32' }).reshape(1, ids.length);
          const e = embedding(idx, table);
          expect([e.dtype, e.shape]).toEqual(['float32', [1, ids.length, 32 * blocks]]);
          expect(e.dataSync()).toEqual(embedding(idx, table.to('float32')).dataSync());
        },
      ),
      { numRuns: 40 },
    );
  });

  it('a q8_0/q4_0 table is read by rows only', () => {
    const t = randn([4, 64]).to('q4_0');
    expect(() => t.indexSelect(1, tensor([0], { dtype: 'int32' }))).toThrow(/indexSelect: a q4_0 table is read by whole rows/);
  });
});
