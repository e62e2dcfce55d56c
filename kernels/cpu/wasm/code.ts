// A function-body builder: one method per instruction the kernels use, grouped by family (locals,
// constants, integer and float arithmetic, control flow, memory, 128-bit SIMD), each appending its
// named opcode and immediates. It checks only what is cheap (local types exist, blocks close); the
// engine's validator (WebAssembly.validate / new WebAssembly.Module) checks the rest.

import { F32, I32, s32, u32, V128, type FunctionDef, type ValType } from './emitter.js';

/** Plain opcodes (one byte). */
const OP = {
  block: 0x02,
  loop: 0x03,
  if: 0x04,
  else: 0x05,
  end: 0x0b,
  br: 0x0c,
  brIf: 0x0d,
  return: 0x0f,
  localGet: 0x20,
  localSet: 0x21,
  localTee: 0x22,
  f32Load: 0x2a,
  f32Store: 0x38,
  i32Const: 0x41,
  f32Const: 0x43,
  i32Eqz: 0x45,
  i32Eq: 0x46,
  i32Ne: 0x47,
  i32LtS: 0x48,
  i32LtU: 0x49,
  i32GtS: 0x4a,
  i32GtU: 0x4b,
  i32GeU: 0x4f,
  i32Add: 0x6a,
  i32Sub: 0x6b,
  i32Mul: 0x6c,
  i32And: 0x71,
  i32Shl: 0x74,
  i32ShrU: 0x76,
  f32Add: 0x92,
  f32Sub: 0x93,
  f32Mul: 0x94,
  f32Max: 0x97,
} as const;

/** SIMD opcodes: the prefix byte 0xfd, then the opcode as unsigned LEB128. */
const SIMD_PREFIX = 0xfd;
const SIMD = {
  v128Load: 0x00,
  v128Load32Splat: 0x09,
  v128Store: 0x0b,
  v128Const: 0x0c,
  i8x16Shuffle: 0x0d,
  f32x4Splat: 0x13,
  f32x4ExtractLane: 0x1f,
  f32x4Nearest: 0x6a,
  i32x4Shl: 0xab,
  i32x4Add: 0xae,
  f32x4Add: 0xe4,
  f32x4Sub: 0xe5,
  f32x4Mul: 0xe6,
  f32x4Max: 0xe9,
  f32x4Pmax: 0xeb,
  i32x4TruncSatF32x4S: 0xf8,
  // Relaxed SIMD: a·b + c, fused or not at the engine's choice (one rounding or two).
  f32x4RelaxedMadd: 0x105,
} as const;

/** A block with no result value. */
const EMPTY_BLOCK = 0x40;

/** A local variable: its index and type. */
export interface Local {
  readonly index: number;
  readonly type: ValType;
}

export class Code {
  private readonly bytes: number[] = [];
  private readonly types: ValType[] = [];
  private depth = 0;
  readonly params: Local[];

  constructor(
    readonly name: string,
    params: ValType[],
    readonly results: ValType[] = [],
  ) {
    this.params = params.map((t) => this.local(t));
  }

  /** A new local (parameters are the first locals). */
  local(type: ValType): Local {
    this.types.push(type);
    return { index: this.types.length - 1, type };
  }

  /** The finished function, for encodeModule. */
  finish(): FunctionDef {
    if (this.depth !== 0) throw new Error(`wasm ${this.name}: ${this.depth} block(s) left open`);
    const n = this.params.length;
    return {
      name: this.name,
      params: this.types.slice(0, n),
      results: this.results,
      locals: this.types.slice(n),
      body: this.bytes,
    };
  }

  protected emit(...b: number[]): this {
    for (const x of b) this.bytes.push(x);
    return this;
  }

  protected simd(op: number, ...imm: number[]): this {
    return this.emit(SIMD_PREFIX, ...u32(op), ...imm);
  }

  // --- locals ---
  get(l: Local): this {
    return this.emit(OP.localGet, ...u32(l.index));
  }
  set(l: Local): this {
    return this.emit(OP.localSet, ...u32(l.index));
  }
  tee(l: Local): this {
    return this.emit(OP.localTee, ...u32(l.index));
  }

  // --- constants ---
  i32(n: number): this {
    return this.emit(OP.i32Const, ...s32(n));
  }
  f32(x: number): this {
    return this.emit(OP.f32Const, ...new Uint8Array(Float32Array.of(x).buffer));
  }
  /** A v128 with all four f32 lanes equal to x. */
  f32x4Const(x: number): this {
    return this.simd(SIMD.v128Const, ...new Uint8Array(Float32Array.of(x, x, x, x).buffer));
  }
  /** A v128 with all four i32 lanes equal to n. */
  i32x4Const(n: number): this {
    return this.simd(SIMD.v128Const, ...new Uint8Array(Int32Array.of(n, n, n, n).buffer));
  }

  // --- i32 arithmetic and comparisons (comparisons push 1 or 0) ---
  i32Add(): this {
    return this.emit(OP.i32Add);
  }
  i32Sub(): this {
    return this.emit(OP.i32Sub);
  }
  i32Mul(): this {
    return this.emit(OP.i32Mul);
  }
  i32And(): this {
    return this.emit(OP.i32And);
  }
  i32Shl(): this {
    return this.emit(OP.i32Shl);
  }
  i32ShrU(): this {
    return this.emit(OP.i32ShrU);
  }
  i32Eqz(): this {
    return this.emit(OP.i32Eqz);
  }
  i32Eq(): this {
    return this.emit(OP.i32Eq);
  }
  i32Ne(): this {
    return this.emit(OP.i32Ne);
  }
  i32LtS(): this {
    return this.emit(OP.i32LtS);
  }
  i32LtU(): this {
    return this.emit(OP.i32LtU);
  }
  i32GtS(): this {
    return this.emit(OP.i32GtS);
  }
  i32GtU(): this {
    return this.emit(OP.i32GtU);
  }
  i32GeU(): this {
    return this.emit(OP.i32GeU);
  }

  /** local += n (an i32 local, typically a pointer). */
  bump(l: Local, n: number): this {
    return this.get(l).i32(n).i32Add().set(l);
  }

  // --- f32 scalar arithmetic ---
  f32Add(): this {
    return this.emit(OP.f32Add);
  }
  f32Sub(): this {
    return this.emit(OP.f32Sub);
  }
  f32Mul(): this {
    return this.emit(OP.f32Mul);
  }
  f32Max(): this {
    return this.emit(OP.f32Max);
  }

  // --- control flow. A branch's depth counts enclosing blocks outwards: 0 is the innermost. ---
  /** `block … end`: `br` to it jumps forward, past its end. */
  block(body: () => void): this {
    return this.structured(OP.block, body);
  }
  /** `loop … end`: `br` to it jumps back to its start; falling off the end leaves it. */
  loop(body: () => void): this {
    return this.structured(OP.loop, body);
  }
  /** Pops an i32: runs `then` if non-zero, else `otherwise`. */
  if(then: () => void, otherwise?: () => void): this {
    this.emit(OP.if, EMPTY_BLOCK);
    this.depth++;
    then();
    if (otherwise) {
      this.emit(OP.else);
      otherwise();
    }
    this.depth--;
    return this.emit(OP.end);
  }
  br(depth: number): this {
    return this.emit(OP.br, ...u32(depth));
  }
  /** Pops an i32: branches if non-zero. */
  brIf(depth: number): this {
    return this.emit(OP.brIf, ...u32(depth));
  }
  return(): this {
    return this.emit(OP.return);
  }

  private structured(op: number, body: () => void): this {
    this.emit(op, EMPTY_BLOCK);
    this.depth++;
    body();
    this.depth--;
    return this.emit(OP.end);
  }

  /**
   * `do { body } while (counter < end)` over an i32 counter the body advances: the loop form the
   * kernels use when the trip count is known to be at least one.
   */
  doWhileLtU(counter: Local, end: Local, body: () => void): this {
    return this.loop(() => {
      body();
      this.get(counter).get(end).i32LtU().brIf(0);
    });
  }

  // --- memory: the address is popped from the stack; `offset` is a constant byte offset ---
  /** memarg = alignment (log2 bytes, a hint) and offset. */
  private memarg(alignLog2: number, offset: number): number[] {
    return [...u32(alignLog2), ...u32(offset)];
  }
  f32Load(offset = 0): this {
    return this.emit(OP.f32Load, ...this.memarg(2, offset));
  }
  /** Pops value, then address. */
  f32Store(offset = 0): this {
    return this.emit(OP.f32Store, ...this.memarg(2, offset));
  }
  v128Load(offset = 0): this {
    return this.simd(SIMD.v128Load, ...this.memarg(4, offset));
  }
  /** Pops value, then address. */
  v128Store(offset = 0): this {
    return this.simd(SIMD.v128Store, ...this.memarg(4, offset));
  }
  /** Loads one f32 and copies it into all four lanes (x86: vbroadcastss). */
  v128Load32Splat(offset = 0): this {
    return this.simd(SIMD.v128Load32Splat, ...this.memarg(2, offset));
  }

  // --- f32x4 SIMD: four float32 lanes per v128 ---
  /**
   * Pops a, b; pushes four f32 lanes picked from the eight of a‖b (0–3 from a, 4–7 from b). Encoded
   * as i8x16.shuffle, which names 16 byte lanes: f32 lane x is bytes 4x … 4x+3.
   */
  f32x4Shuffle(lanes: readonly [number, number, number, number]): this {
    if (lanes.some((x) => !Number.isInteger(x) || x < 0 || x > 7))
      throw new Error(`wasm ${this.name}: f32x4Shuffle lanes must be 0..7, got ${lanes}`);
    return this.simd(SIMD.i8x16Shuffle, ...lanes.flatMap((x) => [4 * x, 4 * x + 1, 4 * x + 2, 4 * x + 3]));
  }
  f32x4Splat(): this {
    return this.simd(SIMD.f32x4Splat);
  }
  f32x4ExtractLane(lane: number): this {
    return this.simd(SIMD.f32x4ExtractLane, lane);
  }
  f32x4Add(): this {
    return this.simd(SIMD.f32x4Add);
  }
  f32x4Sub(): this {
    return this.simd(SIMD.f32x4Sub);
  }
  f32x4Mul(): this {
    return this.simd(SIMD.f32x4Mul);
  }
  f32x4Max(): this {
    return this.simd(SIMD.f32x4Max);
  }
  /** Pops a, b; pushes per lane a < b ? b : a (x86 maxps; unlike f32x4.max, no NaN or ±0 fix-ups). */
  f32x4Pmax(): this {
    return this.simd(SIMD.f32x4Pmax);
  }
  /** Round to the nearest integer, ties to even (still f32). */
  f32x4Nearest(): this {
    return this.simd(SIMD.f32x4Nearest);
  }

  // --- i32x4: the same 128 bits read as four int32 lanes ---
  /** f32 lanes → i32 lanes, truncating toward zero, saturating out-of-range values. */
  i32x4TruncSatF32x4S(): this {
    return this.simd(SIMD.i32x4TruncSatF32x4S);
  }
  i32x4Add(): this {
    return this.simd(SIMD.i32x4Add);
  }
  /** Pops a v128 and an i32 shift count. */
  i32x4Shl(): this {
    return this.simd(SIMD.i32x4Shl);
  }
  /** Pops a, b, c; pushes a·b + c (relaxed SIMD: only when the engine validates it). */
  f32x4RelaxedMadd(): this {
    return this.simd(SIMD.f32x4RelaxedMadd);
  }
}

export { F32, I32, V128 };
