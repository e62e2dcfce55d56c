// Writing safetensors files: the inverse of safetensors_read.ts. The header lists every tensor with its
// dtype, shape and byte range; the data follows, little-endian and C-contiguous. The file is streamed
// tensor by tensor into a temporary file and renamed into place, so a crash never leaves a torn file and
// a large checkpoint is never held twice in memory.

import type { Tensor } from '../../core/index.js';
import type { TypedArray } from '../../core/dtype.js';
import { writeAtomicWith } from './atomic_write.js';
import { MAX_HEADER_BYTES, ST_DTYPES, type StDType } from './safetensors_read.js';

/** What can be written: a tensor, or raw values with a shape and a safetensors dtype. */
export type Writable = Tensor | { data: ArrayLike<number>; shape: readonly number[]; dtype: StDType };

export interface WriteOptions {
  /** `__metadata__` (string → string); HF weight files carry { format: 'pt' }. */
  metadata?: Record<string, string>;
  /** Store floating tensors as this dtype (default: F32 for float32, F64 for float64). */
  floatDtype?: 'F64' | 'F32' | 'F16' | 'BF16';
}

const DEFAULT_ST: Record<string, StDType> = { float32: 'F32', float64: 'F64', int32: 'I32', bool: 'BOOL' };

interface Entry {
  name: string;
  dtype: StDType;
  shape: number[];
  data: () => ArrayLike<number>;
}

function entryOf(name: string, v: Writable, opts: WriteOptions): Entry {
  if ('data' in v && typeof v.data !== 'function') {
    const raw = v as { data: ArrayLike<number>; shape: readonly number[]; dtype: StDType };
    if (!(raw.dtype in ST_DTYPES)) throw new Error(`saveSafetensors: tensor '${name}' has unsupported dtype ${raw.dtype}`);
    const numel = raw.shape.reduce((a, b) => a * b, 1);
    if (raw.data.length !== numel)
      throw new Error(`saveSafetensors: tensor '${name}' has ${raw.data.length} values for shape [${raw.shape}]`);
    return { name, dtype: raw.dtype, shape: [...raw.shape], data: () => raw.data };
  }
  const t = v as Tensor;
  const floating = t.dtype === 'float32' || t.dtype === 'float64';
  const dtype = floating && opts.floatDtype ? opts.floatDtype : DEFAULT_ST[t.dtype];
  return { name, dtype, shape: [...t.shape], data: () => t.dataSync() as TypedArray };
}

/** Encode values as a safetensors dtype, little-endian. */
export function encode(dtype: StDType, data: ArrayLike<number>): Uint8Array {
  const n = data.length;
  const out = new Uint8Array(n * ST_DTYPES[dtype].bytes);
  const v = new DataView(out.buffer);
  for (let i = 0; i < n; i++) {
    const x = data[i];
    switch (dtype) {
      case 'F64':
        v.setFloat64(8 * i, x, true);
        break;
      case 'F32':
        v.setFloat32(4 * i, x, true);
        break;
      case 'F16':
        v.setUint16(2 * i, floatToHalf(x), true);
        break;
      case 'BF16':
        v.setUint16(2 * i, floatToBf16(x), true);
        break;
      case 'I64':
        v.setBigInt64(8 * i, BigInt(x), true);
        break;
      case 'I32':
        v.setInt32(4 * i, x, true);
        break;
      case 'I8':
        v.setInt8(i, x);
        break;
      case 'U8':
        v.setUint8(i, x);
        break;
      case 'BOOL':
        v.setUint8(i, x ? 1 : 0);
        break;
    }
  }
  return out;
}

/** The header JSON (padded with spaces to a multiple of 8 bytes, as the Rust/Python writers do) and the entries in file order. */
function layout(tensors: Iterable<[string, Writable]>, opts: WriteOptions): { header: Uint8Array; entries: Entry[] } {
  const entries = [...tensors].map(([name, v]) => entryOf(name, v, opts));
  const names = new Set<string>();
  for (const e of entries) {
    if (e.name === '__metadata__' || names.has(e.name))
      throw new Error(`saveSafetensors: duplicate or reserved tensor name '${e.name}'`);
    names.add(e.name);
  }
  const json: Record<string, unknown> = {};
  if (opts.metadata) json.__metadata__ = opts.metadata;
  let at = 0;
  for (const e of entries) {
    const bytes = e.shape.reduce((a, b) => a * b, 1) * ST_DTYPES[e.dtype].bytes;
    json[e.name] = { dtype: e.dtype, shape: e.shape, data_offsets: [at, at + bytes] };
    at += bytes;
  }
  let text = JSON.stringify(json);
  text += ' '.repeat((8 - (Buffer.byteLength(text) % 8)) % 8);
  const header = Buffer.from(text, 'utf8');
  if (header.length > MAX_HEADER_BYTES)
    throw new Error(`saveSafetensors: header of ${header.length} bytes exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  return { header, entries };
}

/** Write tensors (in the order given) to a safetensors file, atomically. */
export function saveSafetensors(
  path: string,
  tensors: Map<string, Writable> | Record<string, Writable>,
  opts: WriteOptions = {},
): void {
  const list = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
  const { header, entries } = layout(list, opts);
  writeAtomicWith(path, (write) => {
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(header.length));
    write(len);
    write(header);
    for (const e of entries) write(encode(e.dtype, e.data()));
  });
}

/** The byte size a tensor takes in a safetensors file (for sharding). */
export function storedBytes(v: Writable, opts: WriteOptions = {}): number {
  const e = entryOf('x', v, opts);
  return e.shape.reduce((a, b) => a * b, 1) * ST_DTYPES[e.dtype].bytes;
}

/** float → IEEE half, round to nearest even (overflow → ±∞, NaN kept). */
export function floatToHalf(x: number): number {
  const f = new DataView(new ArrayBuffer(4));
  f.setFloat32(0, x);
  const bits = f.getUint32(0);
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  let mant = bits & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let h = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++; // may carry into the exponent, which is right
  return sign | h;
}

/** float → bfloat16 (the top 16 bits of a float32), round to nearest even; NaN stays NaN. */
export function floatToBf16(x: number): number {
  const f = new DataView(new ArrayBuffer(4));
  f.setFloat32(0, x);
  const bits = f.getUint32(0);
  if ((bits & 0x7f800000) === 0x7f800000 && bits & 0x7fffff) return (bits >>> 16) | 0x40;
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
}
