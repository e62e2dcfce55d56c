// Shared by the GPU tests: which gpu.js modes work on this machine (probed once per test file), a
// describe block per mode that skips — by name — the modes that do not, and the float32 tolerances
// every GPU-vs-CPU comparison uses. A later model test imports `forEachMode` and `TOL` from here.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkBackend, type CheckBackendSpec, type Tolerance } from '../../../core/testing/index.js';
import { createGpuBackend, GPU_MODES, probeModes, type GpuBackend, type GpuMode } from '../../../kernels/gpu/index.js';

/**
 * Each mode: true, or why it does not work here (e.g. headlessgl without an X display).
 * `LLMJP4_TEST_GPU_MODES=webasm,headlessgl` limits the run to those modes (under xvfb-run, Mesa
 * cannot serve headlessgl and webgpu-on-OpenGL-ES in one process, so each gets its own run).
 */
export const MODES = await selectedModes();

async function selectedModes(): Promise<Record<GpuMode, true | string>> {
  const only = process.env.LLMJP4_TEST_GPU_MODES?.split(',').map((m) => m.trim() as GpuMode);
  const probed = await probeModes(only ?? GPU_MODES);
  for (const m of GPU_MODES) if (only && !only.includes(m)) probed[m] = 'not selected by LLMJP4_TEST_GPU_MODES';
  return probed;
}

export const available = (mode: GpuMode): boolean => MODES[mode] === true;

/**
 * Float32 tolerances, in one place. The CPU accumulates in float64 and rounds once; the GPU works in
 * float32 throughout, and its exp/log/erf are each mode's own approximations.
 */
export const TOL = {
  /** Copies, comparisons, casts, indices, argmax/argsort: bit-identical. */
  exact: { atol: 0, rtol: 0 },
  /** One float32 operation per element, or a transcendental (exp, tanh, erf, pow, ...). */
  elementwise: { atol: 2e-6, rtol: 2e-5 },
  /** Float32 sums and dot products of up to a few hundred terms of magnitude ≤ 3. */
  reduction: { atol: 2e-5, rtol: 1e-4 },
  /** Fused kernels (softmax, attention, cross-entropy, norms) and their gradients: sums of exps. */
  fused: { atol: 1e-4, rtol: 1e-3 },
} satisfies Record<string, Tolerance>;

/**
 * Against Hugging Face's golden data (test/fixtures/golden): the fixtures' suggested float32
 * tolerances, as max|x − ref| / max|ref| per tensor (|x − ref| / |ref| for losses) — the same the
 * CPU backend meets in test/model/golden.test.ts.
 */
export const GOLDEN_TOL = { activations: 1e-5, loss: 1e-5, grad: 2e-5 };

/**
 * `body` once per gpu.js mode, inside `describe(mode)`: skipped (named, with the reason in the
 * test list) where the mode does not work. `gpu()` gives that mode's backend.
 */
export function forEachMode(body: (gpu: () => GpuBackend, mode: GpuMode) => void): void {
  for (const mode of GPU_MODES) {
    const reason = MODES[mode] === true ? '' : ` — skipped: ${MODES[mode]}`;
    describe.skipIf(!available(mode))(`${mode}${reason}`, () => {
      let backend: GpuBackend | null = null;
      beforeAll(async () => {
        backend = await createGpuBackend({ mode, onFallback: () => {} });
      });
      afterAll(() => backend?.destroy());
      body(() => backend!, mode);
    });
  }
}

/** Smallest normal float32: GPUs (GL at least) flush anything smaller to zero. */
const MIN_NORMAL = 2 ** -126;

/**
 * checkBackend with float32 subnormal inputs flushed to zero first: GPU modes may flush subnormals
 * (headlessgl does), which is documented behaviour, not a kernel bug, so cases do not draw them.
 */
export function parity<A>(spec: CheckBackendSpec<A>): Promise<void> {
  const flush = (v: number) => (Math.abs(Math.fround(v)) < MIN_NORMAL ? 0 : v);
  const cases = spec.cases.map((c) => ({ ...c, inputs: c.inputs.map((x) => ({ ...x, values: x.values.map(flush) })) }));
  return checkBackend({ ...spec, cases });
}

/**
 * Each file's one unconditional test: some gpu.js mode works here (webasm needs nothing but Node), so a
 * file never passes by skipping every mode. Selecting only modes this machine lacks fails it, on purpose.
 */
export function itSomeModeWorks(): void {
  it('at least one gpu.js mode works here (the file did not pass by skipping every mode)', () => {
    expect(GPU_MODES.filter(available), JSON.stringify(MODES)).not.toEqual([]);
  });
}
