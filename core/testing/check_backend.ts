// Backend parity: a computation on a backend under test (the GPU) must give what the CPU backend gives
// on the same inputs — forward values and the gradient of every input that requires one — for inputs
// drawn by fast-check, laid out in storage the same way on both (permuted, or a window into padded
// storage). It is async because the backend under test may read asynchronously (webgpu).

import fc from 'fast-check';
import { cpu, withBackend } from '../backend.js';
import { tensor } from '../creation.js';
import { noGrad } from '../grad_mode.js';
import type { Backend } from '../kernel_types.js';
import { Generator } from '../random.js';
import { Tensor } from '../tensor.js';
import { assertValuesClose, buildInput, countRun, fcParams, type OpCase } from './check_op.js';
import type { Tolerance } from './tolerance.js';

export interface CheckBackendSpec<A> {
  name: string;
  /** The backend under test. */
  backend: Backend<any>;
  cases: fc.Arbitrary<OpCase<A>>;
  /** The computation, run once on each backend's copy of the inputs; may return several tensors. */
  fn: (xs: Tensor[], attrs: A) => Tensor | Tensor[];
  /** Names of the outputs, for messages (default: their positions). */
  labels?: readonly string[];
  /** Also compare the gradients of float inputs (default false). */
  grad?: boolean;
  tol: Tolerance;
  /** Tolerance for the gradients (default `tol`). */
  gradTol?: Tolerance;
  numRuns?: number;
}

/**
 * `t` on another backend with the same shape, strides and offset over a copy of its whole storage
 * (so strided views stay strided), as a leaf that requires grad when `t` does.
 */
export async function toBackend(t: Tensor, backend: Backend<any>): Promise<Tensor> {
  const src = t.storage;
  const length = src.backend.length(src.data);
  const values = await src.backend.read({ data: src.data, shape: [length], dtype: src.dtype });
  const moved = new Tensor({ backend, data: backend.upload(values, src.dtype), dtype: src.dtype }, t.shape, t.strides, t.offset);
  if (t.requiresGrad) moved.requiresGrad = true;
  return moved;
}

/** Run the parity property (float32 inputs): outputs, and gradients when asked, within tolerance. */
export async function checkBackend<A>(spec: CheckBackendSpec<A>): Promise<void> {
  await fc.assert(
    fc.asyncProperty(spec.cases, async (c) => {
      countRun();
      const want = spec.grad ?? false;
      const ref = withBackend(cpu, () => c.inputs.map((s) => buildInput(s, 'float32', want)));
      const test = await Promise.all(ref.map((x) => toBackend(x, spec.backend)));
      await compareRun(spec, c.attrs, ref, test);
    }),
    fcParams(spec.numRuns ?? 20),
  );
}

/** One case on both backends: forward values, then (when asked) the gradient of Σ r·y for a fixed random r. */
export async function compareRun<A>(spec: CheckBackendSpec<A>, attrs: A, ref: Tensor[], test: Tensor[]): Promise<void> {
  const yr = [spec.fn(ref, attrs)].flat();
  const yt = [spec.fn(test, attrs)].flat();
  for (let k = 0; k < yr.length; k++) {
    await assertSame(yt[k]!, yr[k]!, spec.tol, `${spec.name} on ${spec.backend.name} (${spec.labels?.[k] ?? `output ${k}`})`);
  }
  if (!spec.grad || !yr.some((y) => y.requiresGrad)) return;
  backwardWithCotangent(yr);
  backwardWithCotangent(yt);
  for (let i = 0; i < ref.length; i++) {
    if (!ref[i]!.requiresGrad) continue;
    const label = `${spec.name} on ${spec.backend.name} (gradient of input ${i})`;
    if (!ref[i]!.grad || !test[i]!.grad)
      throw new Error(`${label}: missing (cpu ${!!ref[i]!.grad}, ${spec.backend.name} ${!!test[i]!.grad})`);
    await assertSame(test[i]!.grad!, ref[i]!.grad!, spec.gradTol ?? spec.tol, label);
  }
}

/** Backward of Σ_k Σ r_k·y_k, with the same pseudo-random r_k on every backend. */
function backwardWithCotangent(ys: Tensor[]): void {
  const g = new Generator(7);
  let loss: Tensor | null = null;
  for (const y of ys) {
    if (!y.requiresGrad) continue;
    const backend = y.storage.backend;
    const r = noGrad(() =>
      tensor(
        Float32Array.from({ length: y.numel() }, () => 2 * g.nextFloat64() - 1),
        { shape: y.shape, backend },
      ),
    );
    const term = y.mul(r).sum();
    loss = loss ? loss.add(term) : term;
  }
  loss?.backward();
}

/** Same shape and dtype, values within tolerance (reading each side as its backend allows). */
export async function assertSame(actual: Tensor, expected: Tensor, tol: Tolerance, label: string): Promise<void> {
  if (actual.dtype !== expected.dtype) throw new Error(`${label}: dtype ${actual.dtype}, reference ${expected.dtype}`);
  assertValuesClose(actual.shape, await actual.data(), expected.shape, await expected.data(), tol, label);
}
