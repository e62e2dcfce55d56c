// Run by wasm.test.ts in a child process started with --experimental-wasm-relaxed-simd (Node 20):
// prints whether relaxed SIMD validated and the worst relative error of the relaxed-FMA kernels
// (matmul in every transposition, attention forward) against the plain references.
import { attention, attentionOp, manualSeed, randn, setNumThreads } from '../../../core/index.js';
import { matmul, matmulReference, matmulTuning } from '../../../kernels/cpu/matmul.js';
import { relaxedSimdSupported, setCpuKernels, wasmHandle, wasmStats } from '../../../kernels/cpu/wasm/runtime.js';

manualSeed(3);
setCpuKernels('wasm');
setNumThreads(2);
Object.assign(matmulTuning, { blockedMin: 0, threadedMin: 0 });
let worst = 0;
const check = (fast: ArrayLike<number>, ref: ArrayLike<number>) => {
  for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(fast[i]! - ref[i]!) / (1 + Math.abs(ref[i]!)));
};
for (const [M, N, K] of [
  [5, 9, 7],
  [37, 70, 300],
  [130, 9, 520],
] as const) {
  for (const [transA, transB] of [
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ] as const) {
    const a = randn(transA ? [K, M] : [M, K]).toBuf();
    const b = randn(transB ? [N, K] : [K, N]).toBuf();
    const out = { shape: [M, N], dtype: 'float32' as const };
    const fast = matmul([a, b] as never, { transA, transB }, out) as { data: Float32Array };
    const ref = matmulReference([a, b] as never, { transA, transB }, out) as { data: Float32Array };
    check(fast.data, ref.data);
  }
}
const [q, k, v] = [randn([1, 4, 70, 24]), randn([1, 2, 70, 24]), randn([1, 2, 70, 24])];
check(
  attention(q, k, v, { causal: true }).dataSync(),
  attentionOp(false).reference!({ q, k, v } as never, { causal: true, scale: 24 ** -0.5, offset: 0, hasMask: false }).dataSync(),
);
console.log(
  JSON.stringify({ relaxedSupported: relaxedSimdSupported, moduleRelaxed: wasmHandle().relaxed, worst, calls: wasmStats() }),
);
