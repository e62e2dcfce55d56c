// Reading safetensors files (the Hugging Face weight format): an 8-byte little-endian header length N,
// N bytes of JSON ({ name: { dtype, shape, data_offsets: [begin, end] }, __metadata__? }), then the raw
// little-endian tensor bytes. The header is validated before any tensor is read — offsets in range, no
// overlap, no holes, byte length = elements × dtype size — and tensors are read one at a time from the
// open file, straight into the typed array they are kept in, in pieces under Node's 2 GiB read limit, so
// a large checkpoint is never loaded whole and a tensor is never held twice.

import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { DType, TypedArray } from '../../core/dtype.js';
import { bf16ToF32 } from '../../kernels/cpu/quant/bfloat16.js';
import { f16ToF32 } from '../../kernels/cpu/quant/float16.js';

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

/** A tensor's bytes as stored, in the typed array of its element type (F16/BF16: 16-bit patterns). */
export type StoredArray = Float64Array | Float32Array | Uint16Array | BigInt64Array | Int32Array | Int8Array | Uint8Array;

/** The typed array each safetensors element type is read into (F16/BF16 as 16-bit patterns). */
export const STORED: Record<StDType, { new (n: number): StoredArray }> = {
  F64: Float64Array,
  F32: Float32Array,
  F16: Uint16Array,
  BF16: Uint16Array,
  I64: BigInt64Array,
  I32: Int32Array,
  I8: Int8Array,
  U8: Uint8Array,
  BOOL: Uint8Array,
};

/**
 * The most bytes one read asks for. Node's readSync refuses a length of 2 GiB or more (a RangeError), so a
 * larger tensor is read in a loop of pieces into views of its one array. LLMJP4_READ_PIECE_BYTES lowers it
 * (the tests use a few bytes to exercise the loop on tiny files).
 */
export const MAX_READ_PIECE_BYTES = 1 << 30;

function defaultPieceBytes(): number {
  const env = Number(process.env.LLMJP4_READ_PIECE_BYTES);
  return Number.isSafeInteger(env) && env > 0 ? Math.min(env, MAX_READ_PIECE_BYTES) : MAX_READ_PIECE_BYTES;
}

export interface OpenOptions {
  /** Bytes per read (default MAX_READ_PIECE_BYTES, or LLMJP4_READ_PIECE_BYTES). */
  pieceBytes?: number;
}

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

/** Where a safetensors file's bytes come from: a file on disk (Node), or bytes already in memory (a browser's fetch). */
interface ByteSource {
  readonly size: number;
  /** Fill `dst` with the bytes from byte `at`; returns how many there were (fewer only at the end of the source). */
  readInto(at: number, dst: Uint8Array): number;
  close(): void;
}

function fileSource(path: string, pieceBytes: number): ByteSource {
  const fd = openSync(path, 'r');
  return {
    size: fstatSync(fd).size,
    readInto: (at, dst) => {
      let done = 0;
      while (done < dst.length) {
        const n = readSync(fd, dst, done, Math.min(pieceBytes, dst.length - done), at + done);
        if (n === 0) break; // end of file: the caller reports the truncation
        done += n;
      }
      return done;
    },
    close: () => closeSync(fd),
  };
}

function memorySource(bytes: Uint8Array): ByteSource {
  return {
    size: bytes.byteLength,
    readInto: (at, dst) => {
      const part = bytes.subarray(at, at + dst.length);
      dst.set(part);
      return part.length;
    },
    close: () => {},
  };
}

/** `length` bytes from byte `at` in a fresh array (fewer at the end of the source): for the header. */
function readBytes(src: ByteSource, at: number, length: number): Uint8Array {
  const b = new Uint8Array(length);
  return b.subarray(0, src.readInto(at, b));
}

/** An open safetensors file: header parsed and checked, tensors read on demand. */
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
  static open(path: string, opts: OpenOptions = {}): SafetensorsFile {
    const piece = opts.pieceBytes ?? defaultPieceBytes();
    if (!Number.isSafeInteger(piece) || piece < 1 || piece > MAX_READ_PIECE_BYTES)
      throw new Error(`SafetensorsFile.open: pieceBytes must be an integer in [1, ${MAX_READ_PIECE_BYTES}], got ${piece}`);
    return SafetensorsFile.#from(path, fileSource(path, piece));
  }

  /** The same over bytes in memory (a browser's fetch); `name` stands for the file in errors. */
  static fromBytes(bytes: Uint8Array, name = '<bytes>'): SafetensorsFile {
    return SafetensorsFile.#from(name, memorySource(bytes));
  }

  static #from(path: string, src: ByteSource): SafetensorsFile {
    try {
      const size = src.size;
      if (size < 8) throw new Error(`${path}: not a safetensors file: ${size} bytes, fewer than the 8-byte header length`);
      const lenBytes = readBytes(src, 0, 8);
      const n = new DataView(lenBytes.buffer, lenBytes.byteOffset, 8).getBigUint64(0, true);
      if (n > BigInt(Math.min(MAX_HEADER_BYTES, size - 8))) {
        throw new Error(
          `${path}: header length ${n} is larger than the file (${size} bytes) or the ${MAX_HEADER_BYTES}-byte limit: truncated or not safetensors`,
        );
      }
      const headerBytes = readBytes(src, 8, Number(n));
      let json: unknown;
      try {
        json = JSON.parse(new TextDecoder().decode(headerBytes));
      } catch (e) {
        throw new Error(`${path}: invalid safetensors header: not JSON (${(e as Error).message})`);
      }
      // JSON.parse keeps the last of two equal keys: a name given twice would surface as "bytes … belong to no tensor".
      const dup = duplicateKey(new TextDecoder().decode(headerBytes));
      if (dup !== undefined) throw new Error(`duplicate tensor name '${dup}' in ${path} (invalid safetensors header)`);
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

  /**
   * One tensor's bytes as stored, read straight into one array of its element type (BF16 stays 16-bit
   * patterns, U8 stays bytes): the only allocation is the tensor's own. `into` reads into a given array.
   */
  readRaw(name: string, into?: StoredArray): StoredArray {
    const t = this.info(name);
    const bytes = t.end - t.begin;
    const out = into ?? new STORED[t.dtype](bytes / ST_DTYPES[t.dtype].bytes);
    if (out.byteLength !== bytes)
      throw new Error(`${this.path}: tensor '${name}' takes ${bytes} bytes, the array given ${out.byteLength}`);
    // Typed arrays use the host byte order; safetensors is little-endian, as is every host Node runs on.
    const got = this.#src.readInto(this.#dataStart + t.begin, new Uint8Array(out.buffer, out.byteOffset, bytes));
    if (got !== bytes) throw new Error(`${this.path}: tensor '${name}' is truncated (${got} of ${bytes} bytes)`);
    return out;
  }

  /**
   * Part of a tensor as stored: `into.length` elements from element `start`, read into `into`. A large
   * tensor converted on load (widened, narrowed, quantized) goes through a few rows at a time this way,
   * so neither its stored bytes nor a float32 copy of it is ever whole in memory.
   */
  readRawPart(name: string, start: number, into: StoredArray): StoredArray {
    const t = this.info(name);
    const el = ST_DTYPES[t.dtype].bytes;
    const at = t.begin + start * el;
    if (into.BYTES_PER_ELEMENT !== el || !(start >= 0) || at + into.byteLength > t.end)
      throw new Error(
        `${this.path}: tensor '${name}': elements ${start}..${start + into.length} are not a part of this ${t.dtype} [${t.shape}]`,
      );
    const dst = new Uint8Array(into.buffer, into.byteOffset, into.byteLength);
    const got = this.#src.readInto(this.#dataStart + at, dst);
    if (got !== into.byteLength) throw new Error(`${this.path}: tensor '${name}' is truncated`);
    return into;
  }

  /** One tensor's values, converted to the dtype we compute in (F16/BF16 → float32, integers → int32). */
  read(name: string): { data: TypedArray; shape: number[]; dtype: DType } {
    const t = this.info(name);
    try {
      return { data: widen(this.path, name, t.dtype, this.readRaw(name)), shape: t.shape, dtype: ST_DTYPES[t.dtype].to };
    } catch (e) {
      // V8's "Invalid typed array length" (a tensor past the typed-array limit) names neither file nor tensor.
      if (e instanceof RangeError)
        throw new Error(
          `${this.path}: tensor '${name}' ${t.dtype} [${t.shape}] (${t.end - t.begin} bytes) cannot be read into memory: ${e.message}`,
        );
      throw e;
    }
  }
}

/** The first key that appears twice at the top level of a JSON object's text (undefined when none): a small scanner over strings and nesting. */
export function duplicateKey(text: string): string | undefined {
  const seen = new Set<string>();
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '{' || ch === '[') depth++;
    else if (ch === '}' || ch === ']') depth--;
    else if (ch === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      // A string at depth 1 followed by ':' is a top-level key.
      let k = j + 1;
      while (k < text.length && /\s/.test(text[k]!)) k++;
      if (depth === 1 && text[k] === ':') {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (seen.has(key)) return key;
        seen.add(key);
      }
      i = j;
    }
  }
  return undefined;
}

/** Stored values → the compute dtype's array, in bulk (typed-array views and shifts, no per-element DataView). */
function widen(file: string, name: string, dtype: StDType, raw: StoredArray): TypedArray {
  switch (dtype) {
    case 'F64':
    case 'F32':
      return raw as Float64Array | Float32Array;
    case 'F16':
      return f16ToF32(raw as Uint16Array);
    case 'BF16':
      return bf16ToF32(raw as Uint16Array);
    case 'I64': {
      const src = raw as BigInt64Array;
      const out = new Int32Array(src.length);
      for (let i = 0; i < src.length; i++) {
        const v = src[i]!;
        if (v < -2147483648n || v > 2147483647n)
          throw new Error(`${file}: tensor '${name}': I64 value ${v} does not fit in int32`);
        out[i] = Number(v);
      }
      return out;
    }
    case 'I32':
      return raw as Int32Array;
    case 'I8':
    case 'U8':
      return Int32Array.from(raw as Int8Array | Uint8Array);
    case 'BOOL':
      return Uint8Array.from(raw as Uint8Array, (v) => (v !== 0 ? 1 : 0));
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
