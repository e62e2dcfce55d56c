// Reverse-mode autodiff: walk the recorded graph from an output back to the leaves, calling each
// node's backward thunks and summing gradients where paths meet. `grad(f, inputs)` is the
// functional form: it returns gradients without touching any `.grad`.

import { inPhase } from './profile.js';
import { onesLike, zerosLike } from './creation.js';
import { withGradMode } from './grad_mode.js';
import { fmt, shapesEqual } from './shape.js';
import type { Tensor } from './tensor.js';

export interface BackwardOptions {
  /** Keep the graph so backward can run through it again (default false: it is freed). */
  retainGraph?: boolean;
  /** Record the backward computation itself, for higher-order gradients (default false). */
  createGraph?: boolean;
}

/** `root.backward(grad)`: accumulate into the `.grad` of every leaf (and retainGrad tensor) below root. */
export function backward(root: Tensor, grad?: Tensor, opts: BackwardOptions = {}): void {
  const grads = propagate(root, seedGrad('backward', root, grad), opts, null);
  for (const [t, g] of grads) {
    if (!t.retainsGrad) continue;
    // Own the storage: a gradient passed straight through (e.g. by add) may be shared by several leaves.
    t.grad = t.grad === null ? (opts.createGraph ? g : g.clone()) : withGradMode(!!opts.createGraph, () => t.grad!.add(g));
  }
}

/**
 * The functional gradient: d f(...inputs) / d inputs, for a scalar-valued `f`. Inputs are re-entered
 * as fresh leaves, and no `.grad` anywhere is modified.
 */
export function grad(f: (...xs: Tensor[]) => Tensor, inputs: Tensor): Tensor;
export function grad(f: (...xs: Tensor[]) => Tensor, inputs: readonly Tensor[]): Tensor[];
export function grad(f: (...xs: Tensor[]) => Tensor, inputs: Tensor | readonly Tensor[]): Tensor | Tensor[] {
  const list = Array.isArray(inputs) ? (inputs as readonly Tensor[]) : [inputs as Tensor];
  const leaves = list.map((x) => x.detach().requiresGrad_());
  const y = withGradMode(true, () => f(...leaves));
  if (!y.requiresGrad) throw new Error('grad: f(...) does not depend on its inputs through differentiable ops');
  const grads = propagate(y, seedGrad('grad', y, undefined), {}, new Set(leaves));
  const out = leaves.map((x) => grads.get(x) ?? zerosLike(x));
  return Array.isArray(inputs) ? out : out[0];
}

function seedGrad(op: string, root: Tensor, grad: Tensor | undefined): Tensor {
  if (!root.requiresGrad) {
    throw new Error(`${op}: tensor does not require grad (no input of the ops that made it requires grad)`);
  }
  if (grad === undefined) {
    if (root.numel() !== 1) {
      throw new Error(
        `${op}: gradient can be implied only for a single-element output, got shape ${fmt(root.shape)}; pass backward(grad)`,
      );
    }
    return onesLike(root);
  }
  if (!shapesEqual(grad.shape, root.shape) || grad.dtype !== root.dtype) {
    throw new Error(`${op}: grad is ${fmt(grad.shape)} ${grad.dtype}, but the output is ${fmt(root.shape)} ${root.dtype}`);
  }
  return grad;
}

/**
 * Send `seed` back from `root`. Returns the gradient of every tensor that keeps one: leaves and
 * retainGrad tensors, or only `targets` when given.
 */
function propagate(root: Tensor, seed: Tensor, opts: BackwardOptions, targets: Set<Tensor> | null): Map<Tensor, Tensor> {
  const order = topoOrder(root);
  const grads = new Map<Tensor, Tensor>([[root, seed]]);
  const kept = new Map<Tensor, Tensor>();
  // Kernels run by the thunks count as the backward phase in a profile (core/profile.ts).
  withGradMode(!!opts.createGraph, () =>
    inPhase('backward', () => {
      for (const t of order) {
        const g = grads.get(t);
        if (g === undefined) continue;
        grads.delete(t);
        if (targets ? targets.has(t) : t.retainsGrad) kept.set(t, g);
        if (t.node !== null) sendToInputs(t, g, opts);
      }
    }),
  );
  return kept;

  function sendToInputs(t: Tensor, g: Tensor, o: BackwardOptions): void {
    const node = t.node!;
    if (node.inputs === null || node.saved === null) {
      throw new Error(
        `backward: the graph through '${node.op.name}' was freed by an earlier backward(); pass { retainGraph: true } to that call`,
      );
    }
    const thunks = node.op.backward!(g, node.saved, node.attrs, node.shapes) as Record<string, (() => Tensor) | undefined>;
    for (const name of node.names) {
      const x = node.inputs[name];
      const thunk = thunks[name];
      if (!x.requiresGrad || thunk === undefined) continue;
      const gx = thunk();
      if (!shapesEqual(gx.shape, x.shape)) {
        throw new Error(`${node.op.name}: internal error: gradient for '${name}' is ${fmt(gx.shape)}, input is ${fmt(x.shape)}`);
      }
      const prev = grads.get(x);
      grads.set(x, prev === undefined ? gx : prev.add(gx));
    }
    if (!o.retainGraph) {
      node.inputs = null;
      node.saved = null;
    }
  }
}

/** Tensors reachable from root through nodes, each after every tensor that consumes it (iterative DFS). */
function topoOrder(root: Tensor): Tensor[] {
  const post: Tensor[] = [];
  const seen = new Set<Tensor>([root]);
  const stack: [Tensor, number][] = [[root, 0]];
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const [t, i] = top;
    const inputs = t.node?.inputs ? t.node.names.map((n) => t.node!.inputs![n]) : [];
    if (i < inputs.length) {
      top[1]++;
      const x = inputs[i];
      if (x.requiresGrad && !seen.has(x)) {
        seen.add(x);
        stack.push([x, 0]);
      }
    } else {
      post.push(t);
      stack.pop();
    }
  }
  return post.reverse();
}
