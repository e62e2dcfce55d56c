// The GPU backend's storage handle: one flat float32 array on the device (a gpu.js pipeline texture on
// headlessgl, a storage buffer on webgpu, a Float32Array on webasm/cpu). Every dtype is stored as
// float32 — int32 and bool values are exact below 2^24 — and converted back only when read.
// This file holds the handle and its bookkeeping (live count, scopes, a finalizer backstop); it runs
// no kernels.

import type { MemoryStats } from '../../core/kernel_types.js';

/** What gpu.js hands back from a pipeline kernel: a texture, a buffer handle, or a plain array. */
export type DeviceValue = Float32Array | DeviceObject;

/** A texture or buffer handle: freed with `delete`, read with `toArray` (a Promise on webgpu). */
export interface DeviceObject {
  delete(): void;
  toArray(): unknown;
}

/** The largest array the backend accepts: flat indices are float32 inside kernels, exact only below 2^24. */
export const MAX_ELEMENTS = 1 << 24;

/** Where a handle's device memory is held (apart from the handle, for the finalizer). */
export interface Cell {
  value: DeviceValue | null;
  readonly length: number;
}

/**
 * A device array. `value` is set when the kernel that produces it has run — at once in the
 * synchronous modes, later in webgpu mode, where kernels are queued and `ready` settles when done.
 * The device memory sits in `cell`, apart from the handle, so the finalizer can free it after the
 * handle itself has been collected.
 */
export class DeviceArray {
  readonly cell: Cell;
  ready: Promise<void> | null = null;
  error: Error | null = null;
  disposed = false;
  /** Survives the scope it was made in (see Memory.keep). */
  kept = false;

  constructor(readonly length: number) {
    this.cell = { value: null, length };
  }

  get value(): DeviceValue | null {
    return this.cell.value;
  }
}

/**
 * Live-buffer accounting and deterministic release. `dispose` frees at once (in webgpu mode, after
 * the queued work that reads the buffer); `beginScope`/`endScope` free everything made inside a scope
 * but what its result holds; a FinalizationRegistry frees buffers whose handles were dropped without
 * either — a backstop, counted separately so tests can tell it never had to act.
 */
export class Memory {
  #live = 0;
  #bytes = 0;
  #allocated = 0;
  #disposed = 0;
  #finalized = 0;
  readonly #frames: DeviceArray[][] = [];
  readonly #registry: FinalizationRegistry<Cell>;

  constructor(
    private readonly release: (value: DeviceObject) => void,
    private readonly defer: (fn: () => void) => void,
  ) {
    // Nothing can still read a collected handle's buffer (queued work holds its handles), so the
    // backstop frees at once.
    this.#registry = new FinalizationRegistry((cell) => {
      this.#finalized++;
      this.#free(cell);
      this.#live--;
      this.#bytes -= 4 * cell.length;
    });
  }

  /** Record a new handle whose device value will be (or has been) stored in its cell. */
  track(a: DeviceArray): DeviceArray {
    this.#live++;
    this.#allocated++;
    this.#bytes += 4 * a.length;
    this.#registry.register(a, a.cell, a);
    this.#frames.at(-1)?.push(a);
    return a;
  }

  /** Release a handle's device memory now (idempotent). Reading it afterwards is an error. */
  dispose(a: DeviceArray): void {
    if (a.disposed) return;
    a.disposed = true;
    this.#disposed++;
    this.#registry.unregister(a);
    const cell = a.cell;
    // In webgpu mode, queued kernels may still read the buffer: free it after them.
    this.defer(() => {
      this.#free(cell);
      this.#live--;
      this.#bytes -= 4 * cell.length;
    });
  }

  #free(cell: Cell): void {
    const v = cell.value;
    cell.value = null;
    if (v !== null && !(v instanceof Float32Array)) this.release(v);
  }

  /** Swap in a new device value (in-place updates such as AdamW); the old one is freed. */
  replace(a: DeviceArray, value: DeviceValue): void {
    const old = a.cell.value;
    a.cell.value = value;
    if (old !== null && old !== value && !(old instanceof Float32Array)) this.release(old);
  }

  beginScope(): void {
    this.#frames.push([]);
  }

  /** Free what the innermost scope made, except `keep` and kept handles, which move to the enclosing scope. */
  endScope(keep: ReadonlySet<unknown>): void {
    const frame = this.#frames.pop();
    if (!frame) throw new Error('gpu: endScope without a matching beginScope');
    const parent = this.#frames.at(-1);
    for (const a of frame) {
      if (a.disposed) continue;
      if (keep.has(a) || a.kept) parent?.push(a);
      else this.dispose(a);
    }
  }

  keep(a: DeviceArray): void {
    a.kept = true;
  }

  /**
   * Live handles and their bytes (a disposal counts once its deferred free has run), and running
   * totals: handles ever made, released by dispose/scope, and freed by the finalizer backstop.
   */
  stats(): MemoryStats {
    return {
      buffers: this.#live,
      bytes: this.#bytes,
      allocated: this.#allocated,
      disposed: this.#disposed,
      finalized: this.#finalized,
    };
  }
}
