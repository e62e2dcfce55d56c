// Shared memory for the CPU backend's threads: typed arrays over SharedArrayBuffer can be read and
// written by every worker without copying. Small arrays stay ordinary (a SharedArrayBuffer costs
// more to allocate); `asShared` copies an ordinary array in when a threaded kernel needs it.

import { allocArray, type DType, type DTypeArrayMap, type TypedArray } from '../../core/dtype.js';

/** Arrays of at least this many elements enter the backend in shared memory. */
export const SHARED_MIN = 4096;

type Ctor = { new (buffer: ArrayBufferLike, byteOffset: number, length: number): TypedArray; BYTES_PER_ELEMENT: number };
const CTOR: Record<DType, Ctor> = {
  float32: Float32Array,
  float64: Float64Array,
  int32: Int32Array,
  bool: Uint8Array,
  bfloat16: Uint16Array,
  float16: Uint16Array,
  q8_0: Uint8Array,
  q4_0: Uint8Array,
};

export function isShared(a: TypedArray): boolean {
  return a.buffer instanceof SharedArrayBuffer;
}

/** A zero-filled array in shared memory. */
export function allocShared<D extends DType>(dtype: D, n: number): DTypeArrayMap[D] {
  const bytes = n * CTOR[dtype].BYTES_PER_ELEMENT;
  return new CTOR[dtype](new SharedArrayBuffer(Math.max(bytes, 8)), 0, n) as DTypeArrayMap[D];
}

/** `a` itself if it is already shared, else a shared copy. */
export function asShared<T extends TypedArray>(a: T): T {
  if (isShared(a)) return a;
  // The array's own constructor: a Uint16Array (bfloat16/float16 patterns) or Uint8Array (bool, q8_0/q4_0 bytes)
  // is copied as the bits it holds.
  const ctor = a.constructor as Ctor;
  const out = new ctor(new SharedArrayBuffer(Math.max(a.byteLength, 8)), 0, a.length) as T;
  out.set(a as never);
  return out;
}

/** Shared when large, ordinary when small: the policy for arrays entering the backend. */
export function allocFor<D extends DType>(dtype: D, n: number): DTypeArrayMap[D] {
  return n >= SHARED_MIN ? allocShared(dtype, n) : allocArray(dtype, n);
}
