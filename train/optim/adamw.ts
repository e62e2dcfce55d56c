// AdamW over parameter groups (torch.optim.AdamW, single-tensor path): decoupled weight decay per group,
// bias-corrected moments m and v held in the parameters' dtype (float32 for a float32 model), one step
// count k shared by all parameters that advances at every step, lr = 0 included. The arithmetic is the
// fused in-place kernel `adamwUpdate_`; this file keeps the state and reads/writes it for checkpoints.

import { adamwUpdate_, zerosLike, type Tensor } from '../../core/index.js';
import { fmt } from '../../core/shape.js';
import type { ParamGroup } from './param_groups.js';

export interface AdamWOptions {
  betas?: [number, number];
  eps?: number;
}

/** The optimizer's state: moments by parameter name, and the hyper-parameters that must match on load. */
export interface AdamWState {
  /** Updates taken so far (k of the last update). */
  step: number;
  betas: [number, number];
  eps: number;
  /** `${name}.exp_avg` and `${name}.exp_avg_sq` for every parameter (torch's names for m and v). */
  tensors: Map<string, Tensor>;
  /** Weight decay by parameter name, to check the groups on load. */
  weightDecay: Record<string, number>;
}

interface Slot {
  name: string;
  param: Tensor;
  weightDecay: number;
  m: Tensor;
  v: Tensor;
}

export class AdamW {
  readonly betas: [number, number];
  readonly eps: number;
  readonly groups: readonly ParamGroup[];
  #slots: Slot[];
  #step = 0;

  constructor(groups: readonly ParamGroup[], opts: AdamWOptions = {}) {
    this.betas = opts.betas ?? [0.9, 0.999];
    this.eps = opts.eps ?? 1e-8;
    const [b1, b2] = this.betas;
    if (!(b1 >= 0 && b1 < 1 && b2 >= 0 && b2 < 1)) throw new Error(`AdamW: betas must be in [0, 1), got [${this.betas}]`);
    if (!(this.eps >= 0) || !Number.isFinite(this.eps))
      throw new Error(`AdamW: eps must be a finite number ≥ 0, got ${this.eps}`);
    this.groups = groups;
    this.#slots = [];
    const names = new Set<string>();
    const tensors = new Set<Tensor>();
    for (const g of groups) {
      if (!Number.isFinite(g.weightDecay) || g.weightDecay < 0)
        throw new Error(`AdamW: weight decay must be a finite number ≥ 0, got ${g.weightDecay}`);
      for (const [name, param] of g.params) {
        if (names.has(name) || tensors.has(param)) throw new Error(`AdamW: parameter '${name}' appears twice in the groups`);
        if (param.dtype !== 'float32' && param.dtype !== 'float64')
          throw new Error(`AdamW: parameter '${name}' is ${param.dtype}; only float32/float64 parameters can be optimised`);
        names.add(name);
        tensors.add(param);
        this.#slots.push({ name, param, weightDecay: g.weightDecay, m: zerosLike(param), v: zerosLike(param) });
      }
    }
  }

  /** Updates taken so far; the next update uses k = step + 1. */
  get step(): number {
    return this.#step;
  }

  /** The parameters, in group order. */
  parameters(): Tensor[] {
    return this.#slots.map((s) => s.param);
  }

  /** Drop every gradient (torch's zero_grad(set_to_none=True)). */
  zeroGrad(): void {
    for (const s of this.#slots) s.param.grad = null;
  }

  /**
   * One update of every parameter from its `.grad` with learning rate `lr`. A parameter without a
   * gradient is updated with a zero gradient: its weight still decays and its moments still move,
   * as the golden trajectories require (an expert no token chose gets zero, not nothing).
   */
  update(lr: number): void {
    if (!Number.isFinite(lr) || lr < 0) throw new Error(`AdamW.update: lr must be a finite number ≥ 0, got ${lr}`);
    const k = this.#step + 1;
    const [beta1, beta2] = this.betas;
    for (const s of this.#slots) {
      const g = s.param.grad ?? zerosLike(s.param);
      if (g.dtype !== s.param.dtype || fmt(g.shape) !== fmt(s.param.shape)) {
        throw new Error(
          `AdamW.update: gradient of '${s.name}' is ${fmt(g.shape)} ${g.dtype}, the parameter is ${fmt(s.param.shape)} ${s.param.dtype}`,
        );
      }
      adamwUpdate_(s.param, g, s.m, s.v, { lr, beta1, beta2, eps: this.eps, weightDecay: s.weightDecay, step: k });
    }
    this.#step = k;
  }

  /** The state to checkpoint. The tensors are copies: later updates do not change them. */
  stateDict(): AdamWState {
    const tensors = new Map<string, Tensor>();
    const weightDecay: Record<string, number> = {};
    for (const s of this.#slots) {
      tensors.set(`${s.name}.exp_avg`, s.m.clone());
      tensors.set(`${s.name}.exp_avg_sq`, s.v.clone());
      weightDecay[s.name] = s.weightDecay;
    }
    return { step: this.#step, betas: [...this.betas], eps: this.eps, tensors, weightDecay };
  }

  /**
   * Restore a state saved by `stateDict` into this optimizer (built over the same parameters and groups).
   * Anything that does not match — names, shapes, weight decay, betas, eps — is an error naming it.
   */
  loadStateDict(state: AdamWState): void {
    const where = 'AdamW.loadStateDict';
    if (!Number.isInteger(state.step) || state.step < 0)
      throw new Error(`${where}: step must be an integer ≥ 0, got ${state.step}`);
    if (state.betas[0] !== this.betas[0] || state.betas[1] !== this.betas[1] || state.eps !== this.eps) {
      throw new Error(
        `${where}: saved betas [${state.betas}] eps ${state.eps}, this optimizer has betas [${this.betas}] eps ${this.eps}`,
      );
    }
    const expected = new Set(this.#slots.flatMap((s) => [`${s.name}.exp_avg`, `${s.name}.exp_avg_sq`]));
    const extra = [...state.tensors.keys()].filter((k) => !expected.has(k));
    if (extra.length > 0)
      throw new Error(`${where}: the state has tensors for unknown parameters: ${extra.slice(0, 5).join(', ')}`);
    const loaded = this.#slots.map((s) => {
      const wd = state.weightDecay[s.name];
      if (wd !== s.weightDecay)
        throw new Error(`${where}: '${s.name}' was saved with weight decay ${wd}, this optimizer uses ${s.weightDecay}`);
      const get = (suffix: string): Tensor => {
        const key = `${s.name}.${suffix}`;
        const t = state.tensors.get(key);
        if (!t) throw new Error(`${where}: missing '${key}'`);
        if (fmt(t.shape) !== fmt(s.param.shape))
          throw new Error(`${where}: '${key}' is ${fmt(t.shape)}, the parameter is ${fmt(s.param.shape)}`);
        // A fresh contiguous copy in the parameter's dtype, owning its storage (the kernel updates it in place).
        return t.to(s.param.dtype).clone().detach();
      };
      return { m: get('exp_avg'), v: get('exp_avg_sq') };
    });
    // Only now, with everything checked, replace the state: a failed load changes nothing.
    loaded.forEach((x, i) => Object.assign(this.#slots[i]!, x));
    this.#step = state.step;
  }
}
