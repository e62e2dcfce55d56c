// The key/value cache of autoregressive decoding: per layer, the keys and values of every position seen
// so far ([B, KVH, T, HS]). On the CPU backend each layer owns a buffer [B, KVH, capacity, HS] that new
// positions are written into in place: sized up front (e.g. prompt + max new tokens) and otherwise grown
// geometrically (×2), so a token costs amortised O(1) copying and memory stays within 2× of need.
// Not a graph node: when k or v needs a gradient, or on another backend, it concatenates instead.

import { cat, cpu, isGradEnabled, zeros, type Tensor, type TypedArray } from '../core/index.js';

export interface KVCacheOptions {
  /** Positions to reserve on the first update (default: just what that update brings). */
  capacity?: number;
}

/** One layer: the valid k, v views ([B, KVH, length, HS]) and, when writing in place, their buffers. */
interface LayerKV {
  k: Tensor;
  v: Tensor;
  length: number;
  buffers?: { k: Tensor; v: Tensor; capacity: number };
}

export class KVCache {
  readonly #layers: (LayerKV | undefined)[] = [];
  readonly #reserve: number;
  /** Positions cached so far (the next token's position); the model advances it after each forward. */
  length = 0;

  constructor(opts: KVCacheOptions = {}) {
    const reserve = opts.capacity ?? 0;
    if (!Number.isInteger(reserve) || reserve < 0)
      throw new Error(`KVCache: capacity must be a non-negative integer, got ${reserve}`);
    this.#reserve = reserve;
  }

  /** Append this step's k, v [B, KVH, T, HS] for `layer` at position `length`; returns all of them. */
  update(layer: number, k: Tensor, v: Tensor): { k: Tensor; v: Tensor } {
    const prev = this.#layers[layer];
    check(layer, k, v, prev, this.length);
    const inPlace = k.storage.backend === cpu && !(isGradEnabled() && (k.requiresGrad || v.requiresGrad));
    const next = inPlace ? this.#write(prev, k, v) : concatenate(prev, k, v);
    this.#layers[layer] = next;
    return { k: next.k, v: next.v };
  }

  /** Positions `layer` can hold without growing (its current length when it concatenates). */
  capacity(layer = 0): number {
    const l = this.#layers[layer];
    return l?.buffers?.capacity ?? l?.length ?? 0;
  }

  /** Bytes allocated for keys and values over all layers (what the cache costs, not just what is filled). */
  bytes(): number {
    let n = 0;
    for (const l of this.#layers) {
      if (!l) continue;
      const t = l.buffers ?? l;
      n += (t.k.numel() + t.v.numel()) * (t.k.dtype === 'float64' ? 8 : 4);
    }
    return n;
  }

  /** Keep only the first `length` positions (e.g. to decode again from the end of a shared prompt). */
  crop(length: number): void {
    if (!Number.isInteger(length) || length < 0 || length > this.length) {
      throw new Error(`KVCache.crop: length must be an integer in [0, ${this.length}], got ${length}`);
    }
    for (const l of this.#layers) {
      if (!l) continue;
      l.k = l.k.narrow(2, 0, length);
      l.v = l.v.narrow(2, 0, length);
      l.length = length;
    }
    this.length = length;
  }

  /** Forget every position and free the buffers. */
  reset(): void {
    this.#layers.length = 0;
    this.length = 0;
  }

  /** Write k, v into the layer's buffers at its length, growing them first when they are full. */
  #write(prev: LayerKV | undefined, k: Tensor, v: Tensor): LayerKV {
    const [B, KVH, T, HS] = k.shape;
    const start = prev?.length ?? 0;
    const end = start + T;
    let buffers = prev?.buffers;
    if (!buffers || buffers.capacity < end) {
      // Grow to at least double, so n single-token steps copy O(n) values in all, not O(n²).
      const capacity = Math.max(end, this.#reserve, 2 * (buffers?.capacity ?? 0));
      const alloc = () => zeros([B, KVH, capacity, HS], { dtype: k.dtype, backend: k.storage.backend });
      const grown = { k: alloc(), v: alloc(), capacity };
      if (prev && start > 0) {
        copyRows(grown.k, prev.k, 0);
        copyRows(grown.v, prev.v, 0);
      }
      buffers = grown;
    }
    copyRows(buffers.k, k, start);
    copyRows(buffers.v, v, start);
    return { k: buffers.k.narrow(2, 0, end), v: buffers.v.narrow(2, 0, end), length: end, buffers };
  }
}

/** The graph-preserving path: a new tensor of every position (O(length) copy per step). */
function concatenate(prev: LayerKV | undefined, k: Tensor, v: Tensor): LayerKV {
  const length = (prev?.length ?? 0) + k.shape[2];
  if (!prev || prev.length === 0) return { k, v, length };
  return { k: cat([prev.k, k], 2), v: cat([prev.v, v], 2), length };
}

/** dst [B, KVH, C, HS] (a CPU buffer the cache owns) ← src [B, KVH, T, HS] at time rows [at, at + T). */
function copyRows(dst: Tensor, src: Tensor, at: number): void {
  const [B, KVH, C, HS] = dst.shape;
  const T = src.shape[2];
  const out = dst.storage.data as TypedArray;
  const values = src.dataSync(); // contiguous, row-major
  for (let bh = 0; bh < B * KVH; bh++) {
    out.set(values.subarray(bh * T * HS, (bh + 1) * T * HS), (bh * C + at) * HS);
  }
}

function check(layer: number, k: Tensor, v: Tensor, prev: LayerKV | undefined, length: number): void {
  if (!Number.isInteger(layer) || layer < 0)
    throw new Error(`KVCache.update: layer must be a non-negative integer, got ${layer}`);
  const same = k.ndim === 4 && v.ndim === 4 && k.shape.every((d, i) => d === v.shape[i]) && k.dtype === v.dtype;
  if (!same)
    throw new Error(
      `KVCache.update: expected k and v of one shape [B, KVH, T, HS] and dtype; got k ${k.dtype} [${k.shape}], v ${v.dtype} [${v.shape}]`,
    );
  const held = prev?.length ?? 0;
  if (held !== length) {
    throw new Error(
      `KVCache.update: layer ${layer} holds ${held} positions but the cache is at ${length} (a forward that failed part-way? call reset())`,
    );
  }
  if (prev && held > 0) {
    const [B, KVH, , HS] = prev.k.shape;
    if (k.shape[0] !== B || k.shape[1] !== KVH || k.shape[3] !== HS || k.dtype !== prev.k.dtype) {
      throw new Error(
        `KVCache.update: layer ${layer} holds ${prev.k.dtype} [${B},${KVH},${held},${HS}], got k ${k.dtype} [${k.shape}]`,
      );
    }
  }
}
