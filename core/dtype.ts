// Data types: the four dtypes a tensor can hold and the typed arrays that store them on the CPU.
// This file knows nothing about tensors or backends; kernels import it too.

export type DType = 'float32' | 'float64' | 'int32' | 'bool';

export const DTYPES: readonly DType[] = ['float32', 'float64', 'int32', 'bool'];

/** The host-side array for each dtype. `bool` is one byte per element (0 or 1). */
export interface DTypeArrayMap {
  float32: Float32Array;
  float64: Float64Array;
  int32: Int32Array;
  bool: Uint8Array;
}

export type TypedArray = Float32Array | Float64Array | Int32Array | Uint8Array;

type ArrayCtor = { new (n: number): TypedArray; new (src: ArrayLike<number> | ArrayBufferLike): TypedArray };

const CTOR: Record<DType, ArrayCtor> = {
  float32: Float32Array,
  float64: Float64Array,
  int32: Int32Array,
  bool: Uint8Array,
};

/** A zero-filled host array of `n` elements of `dtype`. */
export function allocArray<D extends DType>(dtype: D, n: number): DTypeArrayMap[D] {
  return new CTOR[dtype](n) as DTypeArrayMap[D];
}

/** Copy any numeric array-like into a fresh host array of `dtype` (values converted as the typed array does). */
export function arrayFrom<D extends DType>(dtype: D, src: ArrayLike<number>): DTypeArrayMap[D] {
  const out = allocArray(dtype, src.length);
  if (dtype === 'bool') {
    // Any non-zero value is true, as in PyTorch's .bool().
    for (let i = 0; i < src.length; i++) out[i] = src[i] !== 0 ? 1 : 0;
  } else {
    out.set(src);
  }
  return out;
}

/** The dtype a typed array stores. */
export function dtypeOfArray(a: TypedArray): DType {
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Float64Array) return 'float64';
  if (a instanceof Int32Array) return 'int32';
  return 'bool';
}

export function isFloating(d: DType): d is 'float32' | 'float64' {
  return d === 'float32' || d === 'float64';
}

export function bytesPerElement(d: DType): number {
  return CTOR[d] === Uint8Array ? 1 : d === 'float64' ? 8 : 4;
}

/** Round a JS number to what the dtype can store (float32 rounding, int32 truncation, bool 0/1). */
export function castScalar(d: DType, v: number): number {
  switch (d) {
    case 'float64':
      return v;
    case 'float32':
      return Math.fround(v);
    case 'int32':
      return v | 0;
    case 'bool':
      return v !== 0 ? 1 : 0;
  }
}
