// The weight arena: where weights live so that the decode kernels read them in place. A WebAssembly
// instance sees only its own memory, and a memory is at most 4 GiB, so weights are placed, one whole
// tensor each, in several shared memories ("arenas") of up to 4 GiB; every thread makes one instance
// of the matrix-vector module per arena, lazily. Allocation and the scratch live on the calling thread.

import { encodeModule, type MemoryImport } from './emitter.js';
import { matvecFunction, MAX_ROWS } from './matvec_kernel.js';
import { readSumFunction } from './read_kernel.js';
import { relaxedSimdSupported, simdSupported } from './runtime.js';
import { WEIGHT_FORMATS } from '../quant/formats.js';

const PAGE = 65536;
/** Each arena's memory may grow to 4 GiB (wasm32's whole address space); the module's import allows that. */
const LIMITS: MemoryImport = { initial: 1, maximum: 65536, shared: true };
/** Allocations start on 64-byte boundaries (a cache line; v128 loads never straddle two needlessly). */
const ALIGN = 64;

/** Room kept in every arena above its weights for the call scratch (x and y: 6 MiB for an 8-row lm_head). */
const SCRATCH_ROOM = 64 * 2 ** 20;

/**
 * How much of one arena weights may take before the next is opened: 4 GiB less the scratch room (so
 * no byte address wraps to 0 in 32 bits). Tests lower it to see weights spread over several arenas.
 */
export const arenaTuning = { arenaBytes: LIMITS.maximum * PAGE - SCRATCH_ROOM };

interface Range {
  at: number;
  bytes: number;
}

/** One arena: its memory, the bump pointer, freed ranges (sorted, merged), and the call scratch. */
export interface Arena {
  readonly id: number;
  readonly memory: WebAssembly.Memory;
  top: number;
  free: Range[];
  scratch: Range | null;
}

const arenas: Arena[] = [];
/** Every buffer object a view was made over → its arena (a grown shared memory hands out new buffer objects). */
const arenaOfBuffer = new WeakMap<ArrayBufferLike, Arena>();

const roundUp = (n: number, m: number) => Math.ceil(n / m) * m;

/** The arenas opened so far (id, bytes in use, bytes committed), for tests and reports. */
export function arenaStats(): { id: number; used: number; committed: number }[] {
  return arenas.map((a) => ({
    id: a.id,
    used: a.top - a.free.reduce((s, r) => s + r.bytes, 0),
    committed: a.memory.buffer.byteLength,
  }));
}

/** Take `need` bytes from the first freed range of `arena` that holds them; null when none does. */
function takeFree(arena: Arena, need: number): number | null {
  const i = arena.free.findIndex((r) => r.bytes >= need);
  if (i < 0) return null;
  const r = arena.free[i]!;
  if (r.bytes === need) arena.free.splice(i, 1);
  else arena.free[i] = { at: r.at + need, bytes: r.bytes - need };
  return r.at;
}

/** Take `need` bytes at the arena's top, growing its memory (growth is seen by every thread at once). */
function takeTop(arena: Arena, need: number): number {
  if (arena.top + need > LIMITS.maximum * PAGE)
    throw new Error(`weight arena ${arena.id}: ${need} more bytes would pass WebAssembly's 4 GiB (${arena.top} in use)`);
  const at = arena.top;
  arena.top += need;
  const have = arena.memory.buffer.byteLength;
  if (arena.top > have) arena.memory.grow(Math.ceil((arena.top - have) / PAGE));
  return at;
}

/** Reserve `bytes` in some arena: a freed range that fits first, else the end of one, else a new arena. */
function place(bytes: number): { arena: Arena; at: number } {
  const need = roundUp(Math.max(bytes, 1), ALIGN);
  if (need > arenaTuning.arenaBytes)
    throw new Error(`weight arena: ${bytes} bytes do not fit one WebAssembly memory (at most ${arenaTuning.arenaBytes} bytes)`);
  for (const arena of arenas) {
    const at = takeFree(arena, need);
    if (at !== null) return { arena, at };
  }
  let arena = arenas.find((a) => a.top + need <= arenaTuning.arenaBytes);
  if (!arena) {
    const memory = new WebAssembly.Memory({ initial: LIMITS.initial, maximum: LIMITS.maximum, shared: true });
    // Address 0 stays unused: a zero pointer is never a weight.
    arena = { id: arenas.length, memory, top: ALIGN, free: [], scratch: null };
    arenas.push(arena);
  }
  return { arena, at: takeTop(arena, need) };
}

/**
 * `bytes` bytes inside an arena memory, zero-filled on first use, as a Uint8Array (make a Uint16Array
 * or Float32Array over its buffer and byteOffset for the weight's format). The decode kernels read a
 * weight held here in place; one held elsewhere takes the TypeScript reference path.
 */
export function allocWeight(bytes: number): Uint8Array {
  if (!Number.isInteger(bytes) || bytes < 0) throw new Error(`allocWeight: expected a byte count, got ${bytes}`);
  const { arena, at } = place(bytes);
  const buffer = arena.memory.buffer;
  arenaOfBuffer.set(buffer, arena);
  const view = new Uint8Array(buffer, at, bytes);
  view.fill(0); // a reused range may hold an earlier weight
  return view;
}

/** The same, as the typed array a weight format is held in (Float32Array, Uint16Array or Uint8Array). */
export function allocWeightArray<T extends Float32Array | Uint16Array | Uint8Array>(ctor: WeightCtor<T>, length: number): T {
  const bytes = allocWeight(length * (ctor as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT);
  return new ctor(bytes.buffer, bytes.byteOffset, length);
}

type WeightCtor<T> = new (b: ArrayBufferLike, at: number, n: number) => T;

/**
 * A zero-filled array of `length` elements for a weight the decode kernels will read: in an arena, or in
 * a plain SharedArrayBuffer where the kernels cannot run (no SIMD) or it is larger than an arena. A
 * loader that reads a stored weight straight into it spares the upload's copy (placeInArena keeps it).
 * Its range is held for the life of the process, as a loaded model's weights are: nothing frees it on
 * garbage collection, because a tensor view may hold a subarray of it after the array itself is gone.
 */
export function allocForWeight<T extends Float32Array | Uint16Array | Uint8Array>(ctor: WeightCtor<T>, length: number): T {
  const bytes = length * (ctor as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
  if (!simdSupported || bytes > arenaTuning.arenaBytes) return new ctor(new SharedArrayBuffer(Math.max(bytes, 8)), 0, length);
  return allocWeightArray(ctor, length);
}

/**
 * `a`'s contents in an arena (a copy; `a` itself when it is already in one), or `a` unchanged where the
 * kernels cannot run or it is larger than an arena. The CPU backend's upload of a weight in a storage
 * dtype goes through here.
 */
export function placeInArena<T extends Float32Array | Uint16Array | Uint8Array>(a: T): T {
  if (!simdSupported || arenaOf(a) !== null || a.byteLength > arenaTuning.arenaBytes) return a;
  const out = allocForWeight(a.constructor as WeightCtor<T>, a.length);
  out.set(a as never);
  return out;
}

/** The arena a typed array lies in (its byte offset is then its address there), or null. */
export function arenaOf(a: ArrayBufferView): Arena | null {
  return arenaOfBuffer.get(a.buffer) ?? null;
}

/** Give an allocation back (the whole view allocWeight returned, or any view of the same bytes). */
export function freeWeight(a: ArrayBufferView): void {
  const arena = arenaOf(a);
  if (!arena) throw new Error('freeWeight: that array is not in a weight arena');
  insertFree(arena, { at: a.byteOffset, bytes: roundUp(Math.max(a.byteLength, 1), ALIGN) });
}

function insertFree(arena: Arena, r: Range): void {
  const list = arena.free;
  let i = list.findIndex((f) => f.at > r.at);
  if (i < 0) i = list.length;
  list.splice(i, 0, r);
  // Merge with the next range, then with the previous one, when they touch.
  const next = list[i + 1];
  if (next && r.at + r.bytes === next.at) list.splice(i, 2, { at: r.at, bytes: r.bytes + next.bytes });
  const prev = list[i - 1];
  if (prev && prev.at + prev.bytes === list[i]!.at) list.splice(i - 1, 2, { at: prev.at, bytes: prev.bytes + list[i]!.bytes });
  // A free range at the top goes back to the bump pointer.
  const last = list[list.length - 1];
  if (last && last.at + last.bytes === arena.top) {
    arena.top = last.at;
    list.pop();
  }
}

/**
 * The arena's scratch for one call (x in the kernel's layout, then y): at least `bytes`, as a byte
 * address. Grown by freeing the old one and placing a new one; x is a few KiB, y a few hundred.
 */
export function scratchOf(arena: Arena, bytes: number): number {
  if (arena.scratch && arena.scratch.bytes >= bytes) return arena.scratch.at;
  if (arena.scratch) insertFree(arena, arena.scratch);
  arena.scratch = null;
  const need = roundUp(Math.max(bytes, 2 * ALIGN), ALIGN);
  // The scratch goes into this arena even past the weight limit: a call must run where its weight is.
  const at = takeFree(arena, need) ?? takeTop(arena, need);
  arena.scratch = { at, bytes: need };
  return at;
}

/** What a job carries to reach an arena from any thread (both survive structured cloning). */
export interface ArenaHandle {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  id: number;
}

let module: WebAssembly.Module | null = null;

/** The matrix-vector module (every format, 1…8 rows; relaxed multiply-add where validated), compiled once. */
export function arenaHandle(arena: Arena): ArenaHandle {
  if (module === null) {
    const fns = WEIGHT_FORMATS.flatMap((fmt) =>
      Array.from({ length: MAX_ROWS }, (_, i) => matvecFunction(fmt, i + 1, relaxedSimdSupported)),
    );
    fns.push(readSumFunction()); // the bench's memory-read probe, run where the weights are
    module = new WebAssembly.Module(encodeModule(LIMITS, fns));
  }
  return { module, memory: arena.memory, id: arena.id };
}

type Kernel = (...args: number[]) => void;

/** This thread's instances, one per arena, made on the first job that reaches that arena. */
const instances = new Map<number, Record<string, Kernel>>();

/** The exported kernels of this thread's instance for the arena `h` names. */
export function arenaKernels(h: ArenaHandle): Record<string, Kernel> {
  let k = instances.get(h.id);
  if (!k) {
    const e = new WebAssembly.Instance(h.module, { env: { memory: h.memory } }).exports;
    k = e as Record<string, Kernel>;
    instances.set(h.id, k);
  }
  return k;
}
