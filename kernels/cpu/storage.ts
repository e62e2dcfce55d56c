// Storage dtypes on the CPU: converting whole tensors between float32/float64 and bfloat16, float16, q8_0
// and q4_0 (the `cast` kernel's storage branch, i.e. `.to(dtype)`), and decoding a range of a stored
// tensor's elements to float32 (what the weight kernels and the embedding lookup read). Bulk conversions
// only (kernels/cpu/quant): no per-element DataView or allocation, never a float32 copy of more than asked.

import type { DType, StorageDType, TypedArray } from '../../core/dtype.js';
import { isStorageDtype } from '../../core/dtype.js';
import type { Buf } from '../../core/kernel_types.js';
import { fmt } from '../../core/shape.js';
import { bf16ToF32, f32ToBf16 } from './quant/bfloat16.js';
import { BLOCK_BYTES, QK } from './quant/blocks.js';
import { f16ToF32, f32ToF16 } from './quant/float16.js';
import type { PackedWeight } from './quant/formats.js';
import { dequantizeBlocksQ4_0, quantizeQ4_0 } from './quant/q4_0.js';
import { dequantizeBlocksQ8_0, quantizeQ8_0 } from './quant/q8_0.js';
import { SHARED_MIN } from './shared.js';
import { placeInArena } from './wasm/weight_arena.js';

type CpuBuf = Buf<TypedArray>;

/**
 * A converted weight goes where the decode kernels read it in place (a weight arena, as the backend's upload
 * does for a loaded one); a small array stays where it is (the matvec falls back to the reference for it).
 */
function inArena<T extends Uint16Array | Uint8Array>(a: T): T {
  return a.length >= SHARED_MIN ? placeInArena(a) : a;
}

/** Convert a contiguous buffer to `to` where either side is a storage dtype (via float32). */
export function castStorage(x: CpuBuf, to: DType): TypedArray {
  const f32 = toFloat32(x);
  switch (to) {
    case 'float32':
      return f32;
    case 'float64':
      return Float64Array.from(f32);
    case 'bfloat16':
      return inArena(f32ToBf16(f32));
    case 'float16':
      return inArena(f32ToF16(f32));
    case 'q8_0':
      return inArena(quantizeQ8_0(f32, x.shape));
    case 'q4_0':
      return inArena(quantizeQ4_0(f32, x.shape));
    default:
      throw new Error(`cast: ${x.dtype} → ${to} is not a conversion; storage dtypes convert to and from float32 or float64`);
  }
}

/** A buffer's values as float32 (the float32 array itself when it already is one). */
function toFloat32(x: CpuBuf): Float32Array {
  if (x.dtype === 'float32') return x.data as Float32Array;
  if (x.dtype === 'float64') return Float32Array.from(x.data);
  if (!isStorageDtype(x.dtype))
    throw new Error(`cast: ${x.dtype} does not convert to or from a storage dtype; go through .to('float32') first`);
  const n = x.shape.reduce((a, b) => a * b, 1);
  return decodeRange(x.data, x.dtype, 0, n, new Float32Array(n));
}

/**
 * Decode elements [start, start + count) of stored data to float32 into `out` (at `at`). For q8_0/q4_0
 * both must fall on block boundaries (multiples of 32), as whole rows do.
 */
export function decodeRange(
  data: TypedArray,
  dtype: StorageDType,
  start: number,
  count: number,
  out: Float32Array,
  at = 0,
): Float32Array {
  const dst = out.subarray(at, at + count);
  switch (dtype) {
    case 'bfloat16':
      bf16ToF32((data as Uint16Array).subarray(start, start + count), dst);
      return out;
    case 'float16':
      f16ToF32((data as Uint16Array).subarray(start, start + count), dst);
      return out;
    case 'q8_0':
    case 'q4_0': {
      if (start % QK !== 0 || count % QK !== 0)
        throw new Error(`${dtype}: can only decode whole blocks of ${QK}, not elements ${start}…${start + count - 1}`);
      const decode = dtype === 'q8_0' ? dequantizeBlocksQ8_0 : dequantizeBlocksQ4_0;
      decode(data as Uint8Array, start / QK, count / QK, out, at);
      return out;
    }
  }
}

/** Bytes of one block of a block format (for slicing a stored weight by rows). */
export function blockBytes(dtype: 'q8_0' | 'q4_0'): number {
  return BLOCK_BYTES[dtype];
}

/** A stored 2-D weight [out, in] as the quant kernels' PackedWeight (the dtype names are the format names). */
export function packedOf(w: CpuBuf, fn: string): PackedWeight {
  if (w.shape.length !== 2) throw new Error(`${fn}: a ${w.dtype} weight must be 2-D [out, in], got ${fmt(w.shape)}`);
  const shape = [w.shape[0]!, w.shape[1]!] as const;
  if (!isStorageDtype(w.dtype) && w.dtype !== 'float32')
    throw new Error(`${fn}: weights are float32 or a storage dtype, got ${w.dtype}`);
  return { format: w.dtype, data: w.data, shape } as PackedWeight;
}

/** The stored data of rows [r0, r1) of a weight whose rows are `cols` long: a view, no copy. */
export function storedRows(w: CpuBuf, r0: number, r1: number): TypedArray {
  const cols = w.shape.at(-1)!;
  const per = w.dtype === 'q8_0' || w.dtype === 'q4_0' ? (cols / QK) * BLOCK_BYTES[w.dtype] : cols;
  return w.data.subarray(r0 * per, r1 * per);
}
