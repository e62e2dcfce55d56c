// Run by wasm_matvec.test.ts in a child process started with --experimental-wasm-relaxed-simd (Node 20):
// every decode kernel built with f32x4.relaxed_madd, against matvecReference. Prints whether relaxed SIMD
// validated, the calls that took the kernels, and the worst error as a fraction of the float32 bound.
import { packWeight, unpackWeight, WEIGHT_FORMATS, type PackedWeight } from '../../../kernels/cpu/quant/formats.js';
import { matvecReference } from '../../../kernels/cpu/quant/matvec.js';
import { setNumThreads } from '../../../kernels/cpu/threads/pool.js';
import { matvecStats, matvecTuning, wasmMatvec } from '../../../kernels/cpu/wasm/matvec.js';
import { relaxedSimdSupported } from '../../../kernels/cpu/wasm/runtime.js';
import { allocWeightArray } from '../../../kernels/cpu/wasm/weight_arena.js';

setNumThreads(2);
Object.assign(matvecTuning, { minTaskRows: 4, tasksPerThread: 8 });
let worst = 0;
for (const format of WEIGHT_FORMATS)
  for (const rows of [1, 2, 3, 5, 8, 11]) {
    const [outDim, inDim] = [37, format === 'q8_0' || format === 'q4_0' ? 96 : 99];
    const w = Float32Array.from({ length: outDim * inDim }, (_, i) => Math.sin(i * 0.7) * 2 ** ((i % 9) - 4));
    const x = Float32Array.from({ length: rows * inDim }, (_, i) => Math.cos(i * 0.3));
    const packed = packWeight(format, w, [outDim, inDim]);
    const data = allocWeightArray(packed.data.constructor as typeof Float32Array, packed.data.length);
    data.set(packed.data as never);
    const p = { ...packed, data } as PackedWeight;
    const y = wasmMatvec(x, rows, p);
    const ref = matvecReference(x, rows, p);
    const mag = matvecReference(x.map(Math.abs), rows, packWeight('float32', unpackWeight(p).map(Math.abs), [outDim, inDim]));
    for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(y[i]! - ref[i]!) / ((inDim + 4) * 2 ** -24 * mag[i]!));
  }
console.log(JSON.stringify({ relaxedSupported: relaxedSimdSupported, calls: matvecStats().wasm, worst }));
