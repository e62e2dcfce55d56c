// Data types: the dtypes a tensor can hold and the typed arrays that store them on the CPU. Compute dtypes
// (float32, float64, int32, bool) hold one array element per tensor element; storage dtypes (bfloat16,
// float16: 16-bit patterns; q8_0, q4_0: ggml's blocks of 32 along the last axis, one byte per array element)
// are weights kept as stored. This file knows nothing about tensors or backends; kernels import it too.

/** The dtypes kernels compute in: one array element per tensor element. */
export type ComputeDType = 'float32' | 'float64' | 'int32' | 'bool';

/** Weights kept as stored: read by linear/matmul and the embedding lookup, refused (or converted) elsewhere. */
export type StorageDType = 'bfloat16' | 'float16' | 'q8_0' | 'q4_0';

export type DType = ComputeDType | StorageDType;

/** The compute dtypes (what every op takes). */
export const DTYPES: readonly ComputeDType[] = ['float32', 'float64', 'int32', 'bool'];

export const STORAGE_DTYPES: readonly StorageDType[] = ['bfloat16', 'float16', 'q8_0', 'q4_0'];

/** The host-side array for each dtype. `bool` is one byte per element (0 or 1); q8_0/q4_0 are raw block bytes. */
export interface DTypeArrayMap {
  float32: Float32Array;
  float64: Float64Array;
  int32: Int32Array;
  bool: Uint8Array;
  bfloat16: Uint16Array;
  float16: Uint16Array;
  q8_0: Uint8Array;
  q4_0: Uint8Array;
}

export type TypedArray = Float32Array | Float64Array | Int32Array | Uint8Array | Uint16Array;

type ArrayCtor = { new (n: number): TypedArray; new (src: ArrayLike<number> | ArrayBufferLike): TypedArray };

const CTOR: Record<DType, ArrayCtor> = {
  float32: Float32Array,
  float64: Float64Array,
  int32: Int32Array,
  bool: Uint8Array,
  bfloat16: Uint16Array,
  float16: Uint16Array,
  q8_0: Uint8Array,
  q4_0: Uint8Array,
};

/** The typed-array constructor of a dtype's storage. */
export function arrayCtorOf(dtype: DType): ArrayCtor {
  return CTOR[dtype];
}

export function isStorageDtype(d: DType): d is StorageDType {
  return d === 'bfloat16' || d === 'float16' || d === 'q8_0' || d === 'q4_0';
}

/** Weights per ggml block (QK8_0 = QK4_0 = 32), and bytes per block: the float16 scale + codes. */
export const BLOCK_SIZE = 32;
const BLOCK_BYTES = { q8_0: 2 + BLOCK_SIZE, q4_0: 2 + BLOCK_SIZE / 2 } as const;

/**
 * Array elements a contiguous tensor of `shape` takes in `dtype`'s storage: the element count, except for
 * q8_0/q4_0 (bytes: 34 or 18 per 32 elements), whose last dimension must be a positive multiple of 32.
 */
export function storageLength(dtype: DType, shape: readonly number[]): number {
  const n = shape.reduce((a, b) => a * b, 1);
  if (dtype !== 'q8_0' && dtype !== 'q4_0') return n;
  const cols = shape[shape.length - 1] ?? 0;
  if (!(cols > 0) || cols % BLOCK_SIZE !== 0)
    throw new Error(
      `${dtype}: blocks of ${BLOCK_SIZE} run along the last axis, whose length must be a positive multiple of ${BLOCK_SIZE}: got shape [${shape.join(',')}]`,
    );
  return (n / BLOCK_SIZE) * BLOCK_BYTES[dtype];
}

/** Bytes a contiguous tensor of `shape` takes in `dtype` (scales included for the block formats). */
export function storageBytes(dtype: DType, shape: readonly number[]): number {
  return storageLength(dtype, shape) * bytesPerArrayElement(dtype);
}

/**
 * The array offset of tensor element `element` in `dtype`'s storage. For q8_0/q4_0 the element must start
 * a block (a multiple of 32), as the start of a row does; anything else is refused, naming `what`.
 */
export function storageOffset(dtype: DType, element: number, what: string): number {
  if (dtype !== 'q8_0' && dtype !== 'q4_0') return element;
  if (element % BLOCK_SIZE !== 0)
    throw new Error(`${what}: a ${dtype} view must start at a block of ${BLOCK_SIZE} (a row), not element ${element}`);
  return (element / BLOCK_SIZE) * BLOCK_BYTES[dtype];
}

/** A zero-filled host array of `n` elements of a compute dtype (or a 16-bit storage dtype). */
export function allocArray<D extends DType>(dtype: D, n: number): DTypeArrayMap[D] {
  return new CTOR[dtype](n) as DTypeArrayMap[D];
}

/** Copy any numeric array-like into a fresh host array of a compute `dtype` (values converted as the typed array does). */
export function arrayFrom<D extends DType>(dtype: D, src: ArrayLike<number>): DTypeArrayMap[D] {
  if (isStorageDtype(dtype))
    throw new Error(`arrayFrom: ${dtype} is a storage dtype; make a float32 tensor and convert it with .to('${dtype}')`);
  const out = allocArray(dtype, src.length);
  if (dtype === 'bool') {
    // Any non-zero value is true, as in PyTorch's .bool().
    for (let i = 0; i < src.length; i++) out[i] = src[i] !== 0 ? 1 : 0;
  } else {
    out.set(src);
  }
  return out;
}

/** The compute dtype a typed array stores (a Uint16Array has none: its values are bit patterns). */
export function dtypeOfArray(a: TypedArray): ComputeDType {
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Float64Array) return 'float64';
  if (a instanceof Int32Array) return 'int32';
  if (a instanceof Uint16Array)
    throw new Error(`tensor: a Uint16Array holds bfloat16 or float16 patterns: pass { dtype: 'bfloat16' | 'float16' }`);
  return 'bool';
}

export function isFloating(d: DType): d is 'float32' | 'float64' {
  return d === 'float32' || d === 'float64';
}

/** Bytes per element of a compute dtype or a 16-bit storage dtype (q8_0/q4_0: see storageBytes). */
export function bytesPerElement(d: DType): number {
  if (d === 'q8_0' || d === 'q4_0') throw new Error(`bytesPerElement: ${d} has no whole bytes per element; use storageBytes`);
  return bytesPerArrayElement(d);
}

function bytesPerArrayElement(d: DType): number {
  return d === 'float64' ? 8 : CTOR[d] === Uint16Array ? 2 : CTOR[d] === Uint8Array ? 1 : 4;
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
    default:
      throw new Error(`castScalar: ${d} is a storage dtype; numbers meet it as float32 after .to('float32')`);
  }
}
