// A tiny WebAssembly module encoder: enough of the binary format to produce the CPU fast path's
// module from TypeScript (no C toolchain, no prebuilt binary). It is not a general assembler: one
// imported memory, functions and their exports, nothing else. Function bodies are built by code.ts.
//
// How a module is laid out (https://webassembly.github.io/spec/core/binary/):
//   - It starts with the magic bytes "\0asm" and the version 1 (four bytes, little-endian).
//   - Then sections, in a fixed order, each `id, byte length, contents`. We use:
//       1 type     — the function signatures, `0x60 params results`, referred to by index;
//       2 import   — what the host provides: here one memory ("env" "memory"), shared between threads;
//       3 function — for each function defined here, the index of its signature;
//       7 export   — names the host sees: `name, kind (0 = function), index`;
//      10 code     — the bodies, in the order of the function section: each is
//                    `byte length, local declarations, instructions, end (0x0b)`.
//   - Every count, length and index is LEB128: 7 bits per byte, low bits first, the top bit set on
//     every byte but the last (300 = 0b1_0010_1100 → 0xac 0x02). Signed constants use the signed
//     variant, where the last byte's bit 6 is the sign.
//   - A vector is its length followed by its elements; a name is a vector of UTF-8 bytes.
//   - Instructions run on an implicit operand stack: `local.get a; local.get b; f32.add` pushes a and
//     b, pops both and pushes the sum. Loads and stores carry a "memarg": alignment hint and a
//     constant byte offset added to the address on the stack.

/** Value types, by their encoding. */
export const I32 = 0x7f;
export const F32 = 0x7d;
export const F64 = 0x7c;
export const V128 = 0x7b;
export type ValType = typeof I32 | typeof F32 | typeof F64 | typeof V128;

const SECTION = { type: 1, import: 2, function: 3, export: 7, code: 10 } as const;
const FUNC_TYPE = 0x60;
const EXTERN = { func: 0, memory: 2 } as const;
/** Memory limits flags: bit 0 = a maximum follows, bit 1 = shared (threads proposal). */
const LIMITS_MAX = 0x01;
const LIMITS_SHARED = 0x02;

/** Unsigned LEB128. */
export function u32(n: number): number[] {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new Error(`wasm emitter: u32 out of range: ${n}`);
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n = Math.floor(n / 128);
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

/** Signed LEB128 (for i32.const): stop once the remaining bits are all copies of the sign bit. */
export function s32(n: number): number[] {
  if (!Number.isInteger(n) || n < -(2 ** 31) || n >= 2 ** 31) throw new Error(`wasm emitter: s32 out of range: ${n}`);
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    const done = (n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

/** A name: its UTF-8 bytes as a vector. */
function name(s: string): number[] {
  const bytes = [...new TextEncoder().encode(s)];
  return [...u32(bytes.length), ...bytes];
}

/** A vector of already-encoded items. */
function vec(items: number[][]): number[] {
  return [...u32(items.length), ...items.flat()];
}

function section(id: number, contents: number[]): number[] {
  return [id, ...u32(contents.length), ...contents];
}

export interface FunctionDef {
  name: string;
  params: ValType[];
  results: ValType[];
  /** Locals beyond the parameters, in index order (a parameter list's indices come first). */
  locals: ValType[];
  /** The instructions, without the final `end`. */
  body: number[];
}

export interface MemoryImport {
  /** Pages of 64 KiB. */
  initial: number;
  maximum: number;
  shared: boolean;
}

/** Locals are declared run-length encoded: `count, type` for each run of equal types. */
function localDecls(locals: ValType[]): number[] {
  const runs: number[][] = [];
  for (let i = 0; i < locals.length;) {
    let j = i;
    while (j < locals.length && locals[j] === locals[i]) j++;
    runs.push([...u32(j - i), locals[i]!]);
    i = j;
  }
  return vec(runs);
}

const END = 0x0b;

/** Encode a module that imports `env.memory` and defines and exports `functions` (one signature each). */
export function encodeModule(memory: MemoryImport, functions: FunctionDef[]): Uint8Array<ArrayBuffer> {
  const types = functions.map((f) => [FUNC_TYPE, ...vec(f.params.map((t) => [t])), ...vec(f.results.map((t) => [t]))]);
  const flags = LIMITS_MAX | (memory.shared ? LIMITS_SHARED : 0);
  const memImport = [...name('env'), ...name('memory'), EXTERN.memory, flags, ...u32(memory.initial), ...u32(memory.maximum)];
  const bodies = functions.map((f) => {
    const body = [...localDecls(f.locals), ...f.body, END];
    return [...u32(body.length), ...body];
  });
  const bytes = [
    ...[0x00, 0x61, 0x73, 0x6d], // "\0asm"
    ...[0x01, 0x00, 0x00, 0x00], // version 1
    ...section(SECTION.type, vec(types)),
    ...section(SECTION.import, vec([memImport])),
    ...section(SECTION.function, vec(functions.map((_, i) => u32(i)))),
    ...section(SECTION.export, vec(functions.map((f, i) => [...name(f.name), EXTERN.func, ...u32(i)]))),
    ...section(SECTION.code, vec(bodies)),
  ];
  return Uint8Array.from(bytes);
}
