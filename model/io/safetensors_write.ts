// Writing safetensors files: the inverse of safetensors_read.ts. The header lists every tensor with its
// dtype, shape and byte range; the data follows, little-endian and C-contiguous. The file is streamed
// tensor by tensor into a temporary file and renamed into place, so a crash never leaves a torn file and
// a large checkpoint is never held twice in memory. `writeSafetensorsStream` takes the tensors' dtypes and
// shapes up front and asks for each one's bytes only when it is written (what `llmjp4 init` and
// `llmjp4 quantize` use to write a real-size checkpoint one tensor at a time).

import type { Tensor } from '../../core/index.js';
import type { TypedArray } from '../../core/dtype.js';
import { f32ToBf16 } from '../../kernels/cpu/quant/bfloat16.js';
import { f32ToF16 } from '../../kernels/cpu/quant/float16.js';
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

/** A tensor as the header lists it: name, safetensors dtype, shape. */
export interface TensorSpec {
  readonly name: string;
  readonly dtype: StDType;
  readonly shape: readonly number[];
}

interface Entry extends TensorSpec {
  data: () => ArrayLike<number>;
}

/** The bytes a tensor of this dtype and shape takes in the file. */
export function specBytes(s: Pick<TensorSpec, 'dtype' | 'shape'>): number {
  return s.shape.reduce((a, b) => a * b, 1) * ST_DTYPES[s.dtype].bytes;
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

/** Encode values as a safetensors dtype, little-endian: in bulk through typed arrays (the host is little-endian). */
export function encode(dtype: StDType, data: ArrayLike<number>): Uint8Array {
  const bytes = (a: { buffer: ArrayBufferLike; byteOffset: number; byteLength: number }) =>
    new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  // Float32Array.from rounds each double to float32 once, as setFloat32 did, before narrowing to 16 bits.
  const f32 = () => (data instanceof Float32Array ? data : Float32Array.from(data));
  switch (dtype) {
    case 'F64':
      return bytes(Float64Array.from(data));
    case 'F32':
      return bytes(Float32Array.from(data));
    case 'F16':
      return bytes(f32ToF16(f32()));
    case 'BF16':
      return bytes(f32ToBf16(f32()));
    case 'I64':
      return bytes(BigInt64Array.from(Array.from(data, (x) => BigInt(x))));
    case 'I32':
      return bytes(Int32Array.from(data));
    case 'I8':
      return bytes(Int8Array.from(data));
    case 'U8':
      return Uint8Array.from(data);
    case 'BOOL':
      return Uint8Array.from(data, (x) => (x ? 1 : 0));
  }
}

/** The header JSON (padded with spaces to a multiple of 8 bytes, as the Rust/Python writers do) and the entries in file order. */
function layout(tensors: Iterable<[string, Writable]>, opts: WriteOptions): { header: Uint8Array; entries: Entry[] } {
  const entries = [...tensors].map(([name, v]) => entryOf(name, v, opts));
  return { header: headerOf(entries, opts.metadata), entries };
}

/** The header of a file holding `specs` in this order (refuses duplicate or reserved names, an oversize header). */
export function headerOf(specs: readonly TensorSpec[], metadata?: Record<string, string>): Uint8Array {
  const names = new Set<string>();
  for (const e of specs) {
    if (e.name === '__metadata__' || names.has(e.name))
      throw new Error(`saveSafetensors: duplicate or reserved tensor name '${e.name}'`);
    names.add(e.name);
  }
  const json: Record<string, unknown> = {};
  if (metadata) json.__metadata__ = metadata;
  let at = 0;
  for (const e of specs) {
    const bytes = specBytes(e);
    json[e.name] = { dtype: e.dtype, shape: e.shape, data_offsets: [at, at + bytes] };
    at += bytes;
  }
  let text = JSON.stringify(json);
  text += ' '.repeat((8 - (Buffer.byteLength(text) % 8)) % 8);
  const header = Buffer.from(text, 'utf8');
  if (header.length > MAX_HEADER_BYTES)
    throw new Error(`saveSafetensors: header of ${header.length} bytes exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  return header;
}

/** Write tensors (in the order given) to a safetensors file, atomically. */
export function saveSafetensors(
  path: string,
  tensors: Map<string, Writable> | Record<string, Writable>,
  opts: WriteOptions = {},
): void {
  const list = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
  const { entries } = layout(list, opts);
  writeSafetensorsStream(path, entries, (i) => encode(entries[i]!.dtype, entries[i]!.data()), opts.metadata);
}

/**
 * Write a safetensors file whose tensors are known by dtype and shape now and produced one at a time:
 * `bytesOf(i)` gives tensor i's little-endian bytes when it is written, and is dropped after, so only one
 * tensor is ever in memory. A wrong byte count is an error naming the tensor; the file appears atomically.
 */
export function writeSafetensorsStream(
  path: string,
  specs: readonly TensorSpec[],
  bytesOf: (i: number) => Uint8Array,
  metadata?: Record<string, string>,
): void {
  const header = headerOf(specs, metadata);
  writeAtomicWith(path, (write) => {
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(header.length));
    write(len);
    write(header);
    specs.forEach((s, i) => {
      const b = bytesOf(i);
      if (b.byteLength !== specBytes(s))
        throw new Error(`${path}: tensor '${s.name}' is ${s.dtype} [${s.shape}] (${specBytes(s)} bytes), got ${b.byteLength}`);
      write(b);
    });
  });
}

/** The byte size a tensor takes in a safetensors file (for sharding). */
export function storedBytes(v: Writable, opts: WriteOptions = {}): number {
  return specBytes(entryOf('x', v, opts));
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
