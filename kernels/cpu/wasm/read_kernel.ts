// The memory-read probe's WebAssembly function (read_bandwidth.ts runs it): a SIMD sum over a range of
// memory, four v128 loads per iteration into four accumulators (one would wait on the add latency).
// It is compiled into the weight arenas' module, so it reads the same memories the decode kernels do.

import { Code, I32, V128, type Local } from './code.js';
import type { FunctionDef } from './emitter.js';

/** Bytes per loop iteration: four v128 loads into four accumulators (one would wait on the add latency). */
export const UNROLL_BYTES = 64;

/** read_sum(ptr, bytes, out): stores at `out` the f32x4 sum of `bytes` (a multiple of 64) from ptr. */
export function readSumFunction(): FunctionDef {
  const f = new Code('read_sum', [I32, I32, I32]);
  const [ptr, bytes, out] = f.params as [Local, Local, Local];
  const end = f.local(I32);
  const acc = [f.local(V128), f.local(V128), f.local(V128), f.local(V128)];
  for (const a of acc) f.f32x4Const(0).set(a);
  f.get(ptr).get(bytes).i32Add().set(end);
  f.block(() => {
    f.get(bytes).i32Eqz().brIf(0);
    f.doWhileLtU(ptr, end, () => {
      acc.forEach((a, k) =>
        f
          .get(a)
          .get(ptr)
          .v128Load(16 * k)
          .f32x4Add()
          .set(a),
      );
      f.bump(ptr, UNROLL_BYTES);
    });
  });
  f.get(out).get(acc[0]!).get(acc[1]!).f32x4Add().get(acc[2]!).get(acc[3]!).f32x4Add().f32x4Add().v128Store(0);
  return f.finish();
}
