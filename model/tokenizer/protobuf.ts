// A minimal protobuf (proto2) wire-format codec driven by a field table, enough for SentencePiece's
// ModelProto: varint, 32-bit and length-delimited fields, nested messages, repeated fields, and unknown
// fields kept as raw bytes so a file round-trips. It is not a general protobuf library (no groups,
// no packed repeated scalars, no maps, no 64-bit fixed fields) and every read is bounds-checked.

/** Scalar kinds a field may have; 'message' fields name their schema in `schema`. */
export type FieldKind = 'string' | 'bytes' | 'bool' | 'int32' | 'uint64' | 'float' | 'enum' | 'message';

export interface FieldSpec {
  num: number;
  name: string;
  kind: FieldKind;
  repeated?: boolean;
  schema?: MessageSchema;
}

export interface MessageSchema {
  name: string;
  fields: readonly FieldSpec[];
}

/** A field the schema does not know, kept as its raw bytes (tag included) and written back last. */
export interface UnknownField {
  num: number;
  raw: Uint8Array;
}

export type FieldValue = string | Uint8Array | boolean | number | ProtoMessage;

/** A decoded message: known fields by name (arrays for repeated ones), absent fields left out. */
export interface ProtoMessage {
  [name: string]: FieldValue | FieldValue[] | UnknownField[] | undefined;
  _unknown?: UnknownField[];
}

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LEN = 2;
const WIRE_FIXED32 = 5;

const wireOf = (kind: FieldKind) =>
  kind === 'float' ? WIRE_FIXED32 : kind === 'string' || kind === 'bytes' || kind === 'message' ? WIRE_LEN : WIRE_VARINT;

// ignoreBOM: a piece may be U+FEFF itself (id 68052 in LLM-jp-4), which a default TextDecoder would drop.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const lenientUtf8 = new TextDecoder('utf-8', { ignoreBOM: true });

/** Reads one message's bytes; `where` names the file and `path` the field being read, for errors. */
class Reader {
  pos: number;
  /** Node's Buffer over the same bytes (its decoder is the fast one), or null in a browser. */
  readonly nodeBuf: Buffer | null;
  /** Field names and repeated-field indices from the root to the current field, joined only on error. */
  readonly path: (string | number)[] = [];

  constructor(
    readonly buf: Uint8Array,
    readonly view: DataView,
    start: number,
    public end: number,
    readonly where: string,
  ) {
    this.pos = start;
    this.nodeBuf = typeof Buffer === 'undefined' ? null : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  fail(what: string): never {
    const field = this.path
      .map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`))
      .join('')
      .slice(1);
    throw new Error(`${this.where}: ${what} in ${field} (at byte ${this.pos} of ${this.buf.length})`);
  }

  /** A varint as [low 32 bits, high 32 bits], so negative int32 values (10 bytes) stay exact. */
  varint(): [number, number] {
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) this.fail('truncated varint');
      const b = this.buf[this.pos++]!;
      if (i < 4) lo |= (b & 0x7f) << (7 * i);
      else if (i === 4) {
        lo |= (b & 0x0f) << 28;
        hi |= (b & 0x7f) >>> 4;
      } else hi |= (b & 0x7f) << (7 * i - 32);
      if (b < 0x80) return [lo >>> 0, hi >>> 0];
    }
    return this.fail('varint longer than 10 bytes');
  }

  /** Moves past `n` bytes, checking they exist; returns where they started. */
  take(n: number): number {
    if (n > this.end - this.pos) this.fail(`truncated field: needs ${n} bytes, ${this.end - this.pos} left`);
    const at = this.pos;
    this.pos += n;
    return at;
  }

  lengthPrefix(): number {
    const [lo, hi] = this.varint();
    if (hi !== 0 || lo > this.end - this.pos)
      this.fail(`truncated: length is ${hi * 2 ** 32 + lo} bytes, only ${this.end - this.pos} left`);
    return this.take(lo);
  }
}

/** Decodes `buf` as a message of `schema`; throws an Error naming `where` and the field on bad input. */
export function decodeMessage(buf: Uint8Array, schema: MessageSchema, where: string): ProtoMessage {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const r = new Reader(buf, view, 0, buf.length, where);
  r.path.push(schema.name);
  return readMessage(r, schema);
}

function readMessage(r: Reader, schema: MessageSchema): ProtoMessage {
  const out: ProtoMessage = {};
  const byNum = fieldIndex(schema);
  while (r.pos < r.end) {
    const tagStart = r.pos;
    const [tag, tagHi] = r.varint();
    const num = tag >>> 3;
    const wire = tag & 7;
    if (tagHi !== 0 || num === 0) r.fail(`invalid field number ${tagHi * 2 ** 29 + num}`);
    const spec = byNum.get(num);
    if (!spec) {
      r.path.push(`<field ${num}>`);
      skipField(r, wire);
      r.path.pop();
      (out._unknown ??= []).push({ num, raw: Uint8Array.from(r.buf.subarray(tagStart, r.pos)) });
      continue;
    }
    const list = spec.repeated ? ((out[spec.name] ??= []) as FieldValue[]) : undefined;
    r.path.push(spec.name);
    if (list) r.path.push(list.length);
    if (wire !== wireOf(spec.kind)) r.fail(`wire type ${wire}, expected ${wireOf(spec.kind)} for a ${spec.kind}`);
    const value = readValue(r, spec);
    if (list) {
      list.push(value);
      r.path.pop();
    } else out[spec.name] = value;
    r.path.pop();
  }
  return out;
}

function readValue(r: Reader, spec: FieldSpec): FieldValue {
  switch (spec.kind) {
    case 'float':
      return r.view.getFloat32(r.take(4), true);
    case 'bool': {
      const [lo, hi] = r.varint();
      return lo !== 0 || hi !== 0;
    }
    case 'int32':
    case 'enum':
      return r.varint()[0] | 0; // int32 keeps the low 32 bits (two's complement), as protobuf does
    case 'uint64': {
      const [lo, hi] = r.varint();
      return hi * 2 ** 32 + lo; // exact up to 2^53, which every SentencePiece count stays below
    }
    case 'string': {
      const at = r.lengthPrefix();
      // Node's decoder is fast but lenient (bad bytes become U+FFFD); only a string that has a U+FFFD
      // is checked again with the strict one, which accepts a real U+FFFD and rejects bad bytes.
      const s = r.nodeBuf ? r.nodeBuf.toString('utf8', at, r.pos) : lenientUtf8.decode(r.buf.subarray(at, r.pos));
      if (s.includes('\ufffd')) {
        try {
          utf8.decode(r.buf.subarray(at, r.pos));
        } catch {
          return r.fail('invalid UTF-8');
        }
      }
      return s;
    }
    case 'bytes': {
      const at = r.lengthPrefix();
      return Uint8Array.from(r.buf.subarray(at, r.pos)); // a plain copy, even when reading a Node Buffer
    }
    case 'message': {
      const at = r.lengthPrefix();
      // Read the nested message in place, bounded by its length, then restore the outer bound.
      const [outerEnd, afterEnd] = [r.end, r.pos];
      r.pos = at;
      r.end = afterEnd;
      const msg = readMessage(r, spec.schema!);
      r.end = outerEnd;
      return msg;
    }
  }
}

function skipField(r: Reader, wire: number): void {
  if (wire === WIRE_VARINT) r.varint();
  else if (wire === WIRE_FIXED64) r.take(8);
  else if (wire === WIRE_LEN) r.lengthPrefix();
  else if (wire === WIRE_FIXED32) r.take(4);
  else r.fail(`unsupported wire type ${wire}`);
}

const indexCache = new WeakMap<MessageSchema, Map<number, FieldSpec>>();
const sortedCache = new WeakMap<MessageSchema, FieldSpec[]>();

function sortedFields(schema: MessageSchema): FieldSpec[] {
  let f = sortedCache.get(schema);
  if (!f) {
    f = [...schema.fields].sort((a, b) => a.num - b.num);
    sortedCache.set(schema, f);
  }
  return f;
}

function fieldIndex(schema: MessageSchema): Map<number, FieldSpec> {
  let m = indexCache.get(schema);
  if (!m) {
    m = new Map(schema.fields.map((f) => [f.num, f]));
    indexCache.set(schema, m);
  }
  return m;
}

/** A growable byte buffer with the protobuf primitive writers. */
class Writer {
  buf: Uint8Array;
  len = 0;

  constructor(size: number) {
    this.buf = new Uint8Array(size);
  }

  reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  /** A non-negative integer up to 2^53, or a negative int32 (written as 10 bytes, two's complement). */
  varint(v: number): void {
    this.reserve(10);
    if (v < 0) {
      let lo = v >>> 0;
      for (let i = 0; i < 4; i++, lo >>>= 7) this.buf[this.len++] = (lo & 0x7f) | 0x80;
      this.buf[this.len++] = (lo & 0x0f) | 0x70 | 0x80; // bits 28–31 plus the sign-extended high bits
      for (let i = 0; i < 4; i++) this.buf[this.len++] = 0xff;
      this.buf[this.len++] = 0x01;
      return;
    }
    while (v >= 0x80) {
      this.buf[this.len++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.len++] = v;
  }

  bytes(b: Uint8Array): void {
    this.varint(b.length);
    this.reserve(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  float(v: number): void {
    this.reserve(4);
    new DataView(this.buf.buffer).setFloat32(this.len, v, true);
    this.len += 4;
  }

  result(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

const utf8Encoder = new TextEncoder();

/** Encodes a message: known fields in field-number order (as protobuf's C++ writer does), then unknowns. */
export function encodeMessage(msg: ProtoMessage, schema: MessageSchema, initialSize = 1 << 16): Uint8Array {
  const w = new Writer(initialSize);
  writeMessage(w, msg, schema);
  return w.result();
}

function writeMessage(w: Writer, msg: ProtoMessage, schema: MessageSchema): void {
  for (const spec of sortedFields(schema)) {
    const v = msg[spec.name];
    if (v === undefined) continue;
    const values = (spec.repeated ? v : [v]) as FieldValue[];
    for (const value of values) {
      w.varint(spec.num * 8 + wireOf(spec.kind));
      writeValue(w, spec, value);
    }
  }
  for (const u of msg._unknown ?? []) {
    w.reserve(u.raw.length);
    w.buf.set(u.raw, w.len);
    w.len += u.raw.length;
  }
}

function writeValue(w: Writer, spec: FieldSpec, value: FieldValue): void {
  switch (spec.kind) {
    case 'float':
      return w.float(value as number);
    case 'bool':
      return w.varint(value ? 1 : 0);
    case 'int32':
    case 'enum':
    case 'uint64':
      return w.varint(value as number);
    case 'string':
      return w.bytes(utf8Encoder.encode(value as string));
    case 'bytes':
      return w.bytes(value as Uint8Array);
    case 'message':
      return w.bytes(encodeMessage(value as ProtoMessage, spec.schema!, 64));
  }
}
