// Freeing device memory deterministically, for backends that manage it (the GPU backend; on the CPU
// these are no-ops and the garbage collector does the work). `scope(fn)` frees every buffer made
// inside fn except what fn returns (and what `keep` marks) — TensorFlow.js's tidy — and
// `dispose(t)` frees one tensor's storage now. A garbage-collection backstop in the GPU backend
// catches what neither released.

import { getBackend } from './backend.js';
import type { Backend, MemoryStats } from './kernel_types.js';
import { Tensor } from './tensor.js';

/**
 * Run `fn`; afterwards free every device buffer created inside it that the result does not hold
 * (tensors found in returned arrays and plain objects count as held). Gradients accumulated into
 * `.grad` inside the scope are freed too unless kept. An async `fn` ends its scope when it settles.
 */
export function scope<T>(fn: () => T, backend: Backend<any> = getBackend()): T {
  const memory = backend.memory;
  if (!memory) return fn();
  memory.beginScope();
  let result: T;
  try {
    result = fn();
  } catch (e) {
    memory.endScope(new Set());
    throw e;
  }
  if (result instanceof Promise) {
    return result.then(
      (r) => (memory.endScope(heldBy(r)), r),
      (e) => {
        memory.endScope(new Set());
        throw e;
      },
    ) as T;
  }
  memory.endScope(heldBy(result));
  return result;
}

/** Exempt `t`'s storage from the scope it was created in (it then lives until disposed). */
export function keep<T extends Tensor>(t: T): T {
  t.storage.backend.memory?.keep(t.storage.data);
  return t;
}

/** Free the storage of each tensor now (a no-op on backends without managed memory). */
export function dispose(...tensors: (Tensor | null | undefined | readonly Tensor[])[]): void {
  for (const t of tensors.flat()) t?.dispose();
}

/** Live device buffers and bytes of a backend, and running totals (null when it does not manage memory). */
export function memoryStats(backend: Backend<any> = getBackend()): MemoryStats | null {
  return backend.memory?.stats() ?? null;
}

/** The storage handles a scope's result holds: tensors, in arrays and plain objects, to any depth. */
function heldBy(value: unknown, seen = new Set<unknown>(), out = new Set<unknown>()): Set<unknown> {
  if (value === null || typeof value !== 'object' || seen.has(value)) return out;
  seen.add(value);
  if (value instanceof Tensor) {
    out.add(value.storage.data);
    return out;
  }
  for (const v of Array.isArray(value) ? value : Object.values(value)) heldBy(v, seen, out);
  return out;
}
