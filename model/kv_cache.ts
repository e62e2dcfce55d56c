// The key/value cache of autoregressive decoding: per layer, the keys and values of every position
// seen so far ([B, KVH, T, HS]), grown as tokens arrive — so memory is exactly what the sequence needs.

import { cat, type Tensor } from '../core/index.js';

export class KVCache {
  readonly #layers: ({ k: Tensor; v: Tensor } | undefined)[] = [];
  /** Positions cached so far (the next token's position). */
  length = 0;

  /** Append this step's k, v [B, KVH, T, HS] for `layer` and return all of them. */
  update(layer: number, k: Tensor, v: Tensor): { k: Tensor; v: Tensor } {
    const prev = this.#layers[layer];
    const next = prev ? { k: cat([prev.k, k], 2), v: cat([prev.v, v], 2) } : { k, v };
    this.#layers[layer] = next;
    return next;
  }

  /** Bytes held (for reporting). */
  bytes(): number {
    return this.#layers.reduce((n, l) => n + (l ? (l.k.numel() + l.v.numel()) * (l.k.dtype === 'float64' ? 8 : 4) : 0), 0);
  }
}
