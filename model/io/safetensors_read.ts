// Reading safetensors files (the Hugging Face weight format): an 8-byte little-endian header length N,
// N bytes of JSON ({ name: { dtype, shape, data_offsets: [begin, end] }, __metadata__? }), then the raw
// little-endian tensor bytes. The header is validated before any tensor is read — offsets in range, no
// overlap, no holes, byte length = elements × dtype size — and tensors are read one at a time from the
// open file, so a large checkpoint is never loaded whole.

import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { DType, TypedArray } from '../../core/dtype.js';

/** Bytes per element of each safetensors dtype we read, and the dtype it becomes here. */
export const ST_DTYPES = {
  F64: { bytes: 8, to: 'float64' },
  F32: { bytes: 4, to: 'float32' },
  F16: { bytes: 2, to: 'float32' },
  BF16: { bytes: 2, to: 'float32' },
  I64: { bytes: 8, to: 'int32' },
  I32: { bytes: 4, to: 'int32' },
  I8: { bytes: 1, to: 'int32' },
  U8: { bytes: 1, to: 'int32' },
  BOOL: { bytes: 1, to: 'bool' },
} as const satisfies Record<string, { bytes: number; to: DType }>;

export type StDType = keyof typeof ST_DTYPES;

export interface TensorInfo {
  dtype: StDType;
  shape: number[];
  /** Byte range within the data section. */
  begin: number;
  end: number;
}

/** Headers above this size are refused (the format's own limit is 100 MB). */
export const MAX_HEADER_BYTES = 100 * 1024 * 1024;

/** Validate a parsed header against the data section's length; returns the tensors by name. */
export function parseHeader(
  file: string,
  json: unknown,
  dataBytes: number,
): { tensors: Map<string, TensorInfo>; metadata: Record<string, string> } {
  const fail = (msg: string): never => {
    throw new Error(`${file}: invalid safetensors header: ${msg}`);
  };
  if (typeof json !== 'object' || json === null || Array.isArray(json)) fail('not a JSON object');
  const tensors = new Map<string, TensorInfo>();
  let metadata: Record<string, string> = {};
  for (const [name, v] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof v !== 'object' || v === null || Object.values(v).some((x) => typeof x !== 'string'))
        fail('__metadata__ must map strings to strings');
      metadata = v as Record<string, string>;
      continue;
    }
    const e = v as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof e !== 'object' || e === null) fail(`entry '${name}' is not an object`);
    if (typeof e.dtype !== 'string' || !(e.dtype in ST_DTYPES))
      fail(`tensor '${name}' has unsupported dtype ${JSON.stringify(e.dtype)}`);
    const shape = e.shape;
    if (!Array.isArray(shape) || shape.some((d) => !Number.isSafeInteger(d) || d < 0))
      fail(`tensor '${name}' has an invalid shape ${JSON.stringify(shape)}`);
    const offs = e.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || offs.some((o) => !Number.isSafeInteger(o) || o < 0))
      fail(`tensor '${name}' has invalid data_offsets ${JSON.stringify(offs)}`);
    const [begin, end] = offs as [number, number];
    const dtype = e.dtype as StDType;
    const numel = (shape as number[]).reduce((a, b) => a * b, 1);
    if (end < begin || end > dataBytes)
      fail(`tensor '${name}' has data_offsets [${begin}, ${end}] outside the ${dataBytes}-byte data section`);
    if (end - begin !== numel * ST_DTYPES[dtype].bytes)
      fail(
        `tensor '${name}' is ${dtype} ${JSON.stringify(shape)} (${numel * ST_DTYPES[dtype].bytes} bytes) but its data_offsets span ${end - begin} bytes`,
      );
    tensors.set(name, { dtype, shape: shape as number[], begin, end });
  }
  // The data section must be covered exactly: no overlaps, no holes.
  const ranges = [...tensors.entries()].sort((a, b) => a[1].begin - b[1].begin || a[1].end - b[1].end);
  let at = 0;
  for (const [name, t] of ranges) {
    if (t.begin < at) fail(`tensor '${name}' overlaps the previous tensor (starts at ${t.begin}, previous ends at ${at})`);
    if (t.begin > at) fail(`bytes ${at}..${t.begin} of the data section belong to no tensor`);
    at = t.end;
  }
  if (at !== dataBytes) fail(`the data section has ${dataBytes} bytes but the tensors cover ${at}`);
  return { tensors, metadata };
}

/** An open safetensors file: header parsed and checked, tensors read on demand. */
/** Where a safetensors file's bytes come from: a file on disk (Node), or bytes already in memory (a browser's fetch). */
interface ByteSource {
  readonly size: number;
  /** `length` bytes from byte `at`; fewer only if the source is shorter. */
  read(at: number, length: number): Uint8Array;
  close(): void;
}

function fileSource(path: string): ByteSource {
  const fd = openSync(path, 'r');
  return {
    size: fstatSync(fd).size,
    read: (at, length) => {
      const b = new Uint8Array(length);
      return length === 0 ? b : b.subarray(0, readSync(fd, b, 0, length, at));
    },
    close: () => closeSync(fd),
  };
}

function memorySource(bytes: Uint8Array): ByteSource {
  return { size: bytes.byteLength, read: (at, length) => bytes.subarray(at, at + length), close: () => {} };
}

export class SafetensorsFile {
  readonly path: string;
  readonly tensors: Map<string, TensorInfo>;
  readonly metadata: Record<string, string>;
  readonly #src: ByteSource;
  readonly #dataStart: number;

  private constructor(path: string, src: ByteSource, dataStart: number, header: ReturnType<typeof parseHeader>) {
    this.path = path;
    this.#src = src;
    this.#dataStart = dataStart;
    this.tensors = header.tensors;
    this.metadata = header.metadata;
  }

  /** Open a file on disk: the header is read and checked now, each tensor when asked for. */
  static open(path: string): SafetensorsFile {
    return SafetensorsFile.#from(path, fileSource(path));
  }

  /** The same over bytes in memory (a browser's fetch); `name` stands for the file in errors. */
  static fromBytes(bytes: Uint8Array, name = '<bytes>'): SafetensorsFile {
    return SafetensorsFile.#from(name, memorySource(bytes));
  }

  static #from(path: string, src: ByteSource): SafetensorsFile {
    try {
      const size = src.size;
      if (size < 8) throw new Error(`${path}: not a safetensors file: ${size} bytes, fewer than the 8-byte header length`);
      const lenBytes = src.read(0, 8);
      const n = new DataView(lenBytes.buffer, lenBytes.byteOffset, 8).getBigUint64(0, true);
      if (n > BigInt(Math.min(MAX_HEADER_BYTES, size - 8))) {
        throw new Error(
          `${path}: header length ${n} is larger than the file (${size} bytes) or the ${MAX_HEADER_BYTES}-byte limit: truncated or not safetensors`,
        );
      }
      const headerBytes = src.read(8, Number(n));
      let json: unknown;
      try {
        json = JSON.parse(new TextDecoder().decode(headerBytes));
      } catch (e) {
        throw new Error(`${path}: invalid safetensors header: not JSON (${(e as Error).message})`);
      }
      const dataStart = 8 + Number(n);
      return new SafetensorsFile(path, src, dataStart, parseHeader(path, json, size - dataStart));
    } catch (e) {
      src.close();
      throw e;
    }
  }

  close(): void {
    this.#src.close();
  }

  info(name: string): TensorInfo {
    const t = this.tensors.get(name);
    if (!t) throw new Error(`${this.path}: no tensor '${name}'`);
    return t;
  }

  /** One tensor's values, converted to the dtype we hold it in (F16/BF16 → float32, integers → int32). */
  read(name: string): { data: TypedArray; shape: number[]; dtype: DType } {
    const t = this.info(name);
    const bytes = this.#src.read(this.#dataStart + t.begin, t.end - t.begin);
    if (bytes.length !== t.end - t.begin) throw new Error(`${this.path}: tensor '${name}' is truncated`);
    return { data: decode(this.path, name, t.dtype, bytes), shape: t.shape, dtype: ST_DTYPES[t.dtype].to };
  }
}

function decode(file: string, name: string, dtype: StDType, b: Uint8Array): TypedArray {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const n = b.byteLength / ST_DTYPES[dtype].bytes;
  switch (dtype) {
    case 'F64':
      return Float64Array.from({ length: n }, (_, i) => view.getFloat64(8 * i, true));
    case 'F32':
      return Float32Array.from({ length: n }, (_, i) => view.getFloat32(4 * i, true));
    case 'F16':
      return Float32Array.from({ length: n }, (_, i) => halfToFloat(view.getUint16(2 * i, true)));
    case 'BF16':
      return Float32Array.from({ length: n }, (_, i) => bf16ToFloat(view.getUint16(2 * i, true)));
    case 'I64':
      return Int32Array.from({ length: n }, (_, i) => {
        const v = view.getBigInt64(8 * i, true);
        if (v < -2147483648n || v > 2147483647n)
          throw new Error(`${file}: tensor '${name}': I64 value ${v} does not fit in int32`);
        return Number(v);
      });
    case 'I32':
      return Int32Array.from({ length: n }, (_, i) => view.getInt32(4 * i, true));
    case 'I8':
      return Int32Array.from({ length: n }, (_, i) => view.getInt8(i));
    case 'U8':
      return Int32Array.from({ length: n }, (_, i) => view.getUint8(i));
    case 'BOOL':
      return Uint8Array.from({ length: n }, (_, i) => (view.getUint8(i) !== 0 ? 1 : 0));
  }
}

/** IEEE half → float: sign, 5-bit exponent, 10-bit mantissa (subnormals, ±∞ and NaN included). */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** bfloat16 → float: the top 16 bits of a float32. */
export function bf16ToFloat(h: number): number {
  const v = new DataView(new ArrayBuffer(4));
  v.setUint32(0, h << 16);
  return v.getFloat32(0);
}
