// The base of every model block: parameters and child modules registered under their Hugging Face
// names, so `stateDict()` yields exactly the keys of an HF checkpoint ('model.layers.0.self_attn.q_proj.weight')
// and `loadStateDict()` takes them back. Blocks whose storage differs from HF's (stacked experts)
// override the two mapping hooks.

import type { DType } from '../../core/index.js';
import { Tensor } from '../../core/index.js';
import { isFloating, isStorageDtype } from '../../core/dtype.js';
import { fmt } from '../../core/shape.js';

/**
 * The dtype each loaded tensor is kept in: one dtype for all, or a policy by HF key and the tensor as
 * loaded (model/weights_dtype.ts: Linear weights in bfloat16 or q8_0, norms and the router in float32).
 */
export type LoadDtype = DType | ((key: string, loaded: Tensor) => DType);

/** The dtype `policy` gives the tensor loaded under `key`. */
export function dtypeFor(policy: LoadDtype, key: string, loaded: Tensor): DType {
  return typeof policy === 'function' ? policy(key, loaded) : policy;
}

/**
 * A loaded tensor as a parameter in `dtype`: its own contiguous storage, a leaf, requiring grad when it is
 * floating. A storage dtype (bfloat16, q8_0, ...) is kept as it is converted, frozen.
 */
export function asParameter(t: Tensor, dtype: DType): Tensor {
  const v = t.to(dtype);
  if (isStorageDtype(dtype)) return v.detach();
  const p = v.contiguous().detach();
  return isFloating(dtype) ? p.requiresGrad_() : p;
}

export abstract class Module {
  readonly #params = new Map<string, Tensor>();
  readonly #children = new Map<string, Module>();

  /** Register a parameter (a leaf that requires grad, unless a frozen storage dtype) under its local HF name. */
  protected addParameter(name: string, t: Tensor): Tensor {
    if (!t.requiresGrad && isFloating(t.dtype)) t.requiresGrad = true;
    this.#params.set(name, t);
    return t;
  }

  protected addModule<M extends Module>(name: string, m: M): M {
    this.#children.set(name, m);
    return m;
  }

  /** Replace a parameter (loading, or tying two modules to one tensor): the field of the same name is updated too. */
  setParameter(name: string, t: Tensor): void {
    if (!this.#params.has(name)) throw new Error(`${this.constructor.name}: no parameter '${name}'`);
    this.#params.set(name, t);
    (this as unknown as Record<string, Tensor>)[name] = t;
  }

  /** The leaves to optimise, with their names (stacked experts appear once, as stored). */
  namedParameters(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    const seen = new Set<Tensor>();
    const walk = (m: Module, p: string) => {
      for (const [n, t] of m.#params) if (!seen.has(t)) (seen.add(t), out.push([p + n, t]));
      for (const [n, c] of m.#children) walk(c, `${p}${n}.`);
    };
    walk(this, prefix);
    return out;
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  /** HF-named tensors, as a checkpoint stores them (views where our storage is shared or stacked). */
  stateDict(prefix = ''): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    for (const [n, t] of this.ownStateEntries()) out.set(prefix + n, t);
    for (const [n, c] of this.#children) for (const [k, t] of c.stateDict(`${prefix}${n}.`)) out.set(k, t);
    return out;
  }

  /** This module's own entries of the state dict (override to map storage to HF names). */
  protected ownStateEntries(): [string, Tensor][] {
    return [...this.#params];
  }

  /**
   * Set every parameter from HF-named tensors (converted to `dtype`, or to what the policy says for each
   * key). Missing or mis-shaped entries are errors naming the key; returns the keys this module consumed.
   */
  loadStateDict(get: (key: string) => Tensor | undefined, dtype: LoadDtype, prefix = ''): Set<string> {
    const used = this.loadOwn(get, dtype, prefix);
    for (const [n, c] of this.#children) for (const k of c.loadStateDict(get, dtype, `${prefix}${n}.`)) used.add(k);
    return used;
  }

  protected loadOwn(get: (key: string) => Tensor | undefined, dtype: LoadDtype, prefix: string): Set<string> {
    const used = new Set<string>();
    for (const [n, current] of this.#params) {
      const key = prefix + n;
      const t = get(key);
      if (!t) throw new Error(`loadStateDict: missing '${key}' (expected ${fmt(current.shape)})`);
      expectShape(key, t, current.shape);
      this.setParameter(n, asParameter(t, dtypeFor(dtype, key, t)));
      used.add(key);
    }
    return used;
  }
}

export function expectShape(key: string, t: Tensor, shape: readonly number[]): void {
  if (fmt(t.shape) !== fmt(shape)) throw new Error(`loadStateDict: '${key}' is ${fmt(t.shape)}, the model expects ${fmt(shape)}`);
}

/** Children named 0, 1, 2, … (HF's nn.ModuleList). */
export class ModuleList<M extends Module> extends Module {
  readonly items: M[];

  constructor(items: M[]) {
    super();
    this.items = items;
    items.forEach((m, i) => this.addModule(String(i), m));
  }
}
