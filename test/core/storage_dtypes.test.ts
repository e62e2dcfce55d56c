// Storage dtypes in the core (bfloat16, float16, q8_0, q4_0): sizes, uploading and reading them on the CPU,
// `.to(dtype)` both ways against the kernel-level conversions of kernels/cpu/quant (bit for bit), views of
// whole rows, and the refusals: a frozen weight, an op that does not take them, a shape blocks cannot cut,
// the GPU backend.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cpu, randn, tensor, Tensor, type DType } from '../../core/index.js';
import { isStorageDtype, STORAGE_DTYPES, storageBytes, type StorageDType } from '../../core/dtype.js';
import { bf16ToF32, dequantizeQ4_0, dequantizeQ8_0, f16ToF32, f32ToBf16, f32ToF16 } from '../../kernels/cpu/quant/index.js';
import { quantizeQ4_0, quantizeQ8_0 } from '../../kernels/cpu/quant/index.js';

/** What kernels/cpu/quant makes of float32 values `x` of `shape` in `dtype`, read back as float32. */
function roundTrip(dtype: StorageDType, x: Float32Array, shape: number[]): Float32Array {
  switch (dtype) {
    case 'bfloat16':
      return bf16ToF32(f32ToBf16(x));
    case 'float16':
      return f16ToF32(f32ToF16(x));
    case 'q8_0':
      return dequantizeQ8_0(quantizeQ8_0(x, shape), shape);
    case 'q4_0':
      return dequantizeQ4_0(quantizeQ4_0(x, shape), shape);
  }
}

/** A float32 tensor shape whose last axis is a multiple of 32 (so every storage dtype takes it), and its values. */
const weights = fc
  .tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 2 ** 31 }))
  .map(([rows, blocks, seed]) => {
    const shape = [rows, 32 * blocks];
    return { shape, x: seeded(shape, seed) };
  });

function seeded(shape: number[], seed: number): Float32Array {
  // A small LCG: values spread over a few decades, signs mixed, so blocks get varied scales.
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = ((s / 2 ** 32) * 2 - 1) * 10 ** ((i % 5) - 2);
  }
  return out;
}

describe('storage dtypes', () => {
  it('sizes: 2 bytes per element for bfloat16/float16, 34 and 18 bytes per 32 for q8_0/q4_0', () => {
    expect(STORAGE_DTYPES.every(isStorageDtype)).toBe(true);
    expect((['float32', 'float64', 'int32', 'bool'] as DType[]).some(isStorageDtype)).toBe(false);
    expect(storageBytes('bfloat16', [3, 5])).toBe(30);
    expect(storageBytes('float16', [7])).toBe(14);
    expect(storageBytes('q8_0', [4, 64])).toBe(4 * 2 * 34);
    expect(storageBytes('q4_0', [2, 3, 32])).toBe(6 * 18);
    expect(storageBytes('float32', [3, 5])).toBe(60);
    expect(() => storageBytes('q4_0', [4, 48])).toThrow(/q4_0.*multiple of 32.*\[4,48\]/);
  });

  it('.to(dtype) converts float32 both ways bit for bit as kernels/cpu/quant does; float64 goes via float32', () => {
    fc.assert(
      fc.property(weights, fc.constantFrom(...STORAGE_DTYPES), ({ shape, x }, dtype) => {
        const t = tensor(x, { shape });
        const s = t.to(dtype);
        expect([s.dtype, s.shape, s.requiresGrad]).toEqual([dtype, shape, false]);
        expect(s.dataSync().byteLength).toBe(storageBytes(dtype, shape));
        const back = s.to('float32').dataSync();
        expect(back).toEqual(roundTrip(dtype, x, shape));
        expect(Array.from(t.to('float64').to(dtype).to('float64').dataSync())).toEqual(Array.from(back));
        // Numbers read through float32; data() is the stored array.
        expect((s.toArraySync() as number[][]).flat()).toEqual(Array.from(back));
      }),
      { numRuns: 40 },
    );
  });

  it('Tensor.fromArray takes the stored array: bit patterns or block bytes, and checks its length and type', () => {
    const bits = f32ToBf16(new Float32Array([1, -2.5, 3e38, 0.1]));
    const t = Tensor.fromArray(cpu, bits, 'bfloat16', [2, 2]);
    expect(Array.from(t.to('float32').dataSync())).toEqual(Array.from(bf16ToF32(bits)));
    const q = quantizeQ8_0(seeded([2, 32], 1), [2, 32]);
    expect(Tensor.fromArray(cpu, q, 'q8_0', [2, 32]).to('float32').dataSync()).toEqual(dequantizeQ8_0(q, [2, 32]));
    expect(() => Tensor.fromArray(cpu, q, 'q8_0', [3, 32])).toThrow(/102 bytes of q8_0 blocks/);
    expect(() => Tensor.fromArray(cpu, new Float32Array(4), 'bfloat16', [2, 2])).toThrow(/Uint16Array/);
    expect(() => tensor([1, 2], { dtype: 'bfloat16' })).toThrow(/storage dtype.*\.to\('bfloat16'\)/);
  });

  it('a view of whole rows reads the stored rows (an expert of a stacked weight); a strided view is refused', () => {
    const x = seeded([3, 2, 64], 7);
    for (const dtype of STORAGE_DTYPES) {
      const s = tensor(x, { shape: [3, 2, 64] }).to(dtype);
      const all = s.to('float32').dataSync();
      expect(s.select(0, 1).to('float32').dataSync()).toEqual(all.subarray(128, 256));
      expect(s.reshape(6, 64).narrow(0, 3, 2).to('float32').dataSync()).toEqual(all.subarray(192, 320));
      expect(() => s.select(1, 0).to('float32')).toThrow(new RegExp(`${dtype}: a strided view`));
    }
    // A q8_0 view must start on a block.
    const q = tensor(x, { shape: [3, 2, 64] }).to('q8_0');
    expect(() => q.reshape(-1).narrow(0, 16, 32).to('float32')).toThrow(/q8_0 view must start at a block/);
  });

  it('refuses shapes q8_0/q4_0 cannot cut into blocks, and conversions that are not float ↔ storage', () => {
    expect(() => randn([4, 30]).to('q8_0')).toThrow(/q8_0.*multiple of 32.*\[4,30\]/);
    expect(() => randn([]).to('q4_0')).toThrow(/q4_0.*multiple of 32/);
    expect(() => tensor([1, 2], { dtype: 'int32' }).to('bfloat16')).toThrow(/cast: int32 → bfloat16.*float32/);
    expect(() => randn([2, 32]).to('q4_0').to('bool')).toThrow(/cast: q4_0 → bool/);
    // Storage to storage goes through float32.
    const x = seeded([1, 32], 3);
    const t = tensor(x, { shape: [1, 32] });
    expect(t.to('bfloat16').to('q8_0').to('float32').dataSync()).toEqual(
      roundTrip('q8_0', roundTrip('bfloat16', x, [1, 32]), [1, 32]),
    );
  });

  it('storage-dtype tensors are frozen: requiresGrad is refused', () => {
    for (const dtype of STORAGE_DTYPES) {
      const s = randn([2, 32]).to(dtype);
      expect(() => s.requiresGrad_()).toThrow(new RegExp(`requiresGrad: a ${dtype} tensor is frozen`));
    }
  });

  it('an op that does not take storage dtypes names itself, the input, the dtype and the fix', () => {
    const s = randn([2, 32]).to('bfloat16');
    expect(() => s.add(1)).toThrow(
      /add: a bfloat16 tensor .* storage dtype this op does not take; convert it with \.to\('float32'\)/,
    );
    expect(() => s.add(randn([2, 32]))).toThrow(
      /add: a is bfloat16, a storage dtype this op does not take; convert it with \.to\('float32'\)/,
    );
    expect(() => s.to('q4_0').sum()).toThrow(/sum: x is q4_0, a storage dtype/);
    expect(() => randn([1, 32]).mul(s.to('float16'))).toThrow(/mul: .*float16, a storage dtype/);
  });

  it('the gpu backend refuses them at upload, naming the dtype and .to(float32)', async () => {
    const { createGpuBackend } = await import('../../kernels/gpu/index.js');
    const gpu = await createGpuBackend({ mode: 'cpu' });
    try {
      const bits = f32ToBf16(new Float32Array([1, 2]));
      expect(() => Tensor.fromArray(gpu, bits, 'bfloat16', [2])).toThrow(
        /gpu: bfloat16 tensors are not supported.*\.to\('float32'\)/,
      );
    } finally {
      gpu.destroy();
    }
  });
});
