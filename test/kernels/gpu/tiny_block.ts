// A tiny decoder block trained with AdamW, written once and run on any backend — what the GPU tests
// use to compare a whole training step (forward, backward, optimizer) with the CPU backend, and to
// show a step leaves no device buffers behind. Until the model issue lands, it stands in for the tiny
// Llama: embedding → RMSNorm → q/k/v (RoPE, causal GQA attention) → o + residual → RMSNorm → SwiGLU
// MLP + residual → RMSNorm → tied logits → cross-entropy.

import {
  adamwUpdate_,
  attention,
  crossEntropy,
  embedding,
  Generator,
  linear,
  randn,
  rmsNorm,
  rope,
  ropeTables,
  swiglu,
  tensor,
  zerosLike,
  type Backend,
  type Tensor,
} from '../../../core/index.js';

export const DIMS = { V: 13, C: 8, NH: 2, KVH: 1, HS: 4, I: 12, B: 2, T: 5 };

export type Params = Record<string, Tensor>;

/** Seeded parameters on `backend` (the same values on every backend). */
export function initParams(backend: Backend<any>): Params {
  const { V, C, NH, KVH, HS, I } = DIMS;
  const g = new Generator(3);
  const p = (shape: number[], scale = 0.3) => randn(shape, { generator: g, backend }).mul(scale).detach().requiresGrad_();
  const one = (n: number) => tensor(new Float32Array(n).fill(1), { backend }).requiresGrad_();
  return {
    embed: p([V, C]),
    ln1: one(C),
    q: p([NH * HS, C]),
    k: p([KVH * HS, C]),
    v: p([KVH * HS, C]),
    o: p([C, NH * HS]),
    ln2: one(C),
    gate: p([I, C]),
    up: p([I, C]),
    down: p([C, I]),
    lnf: one(C),
  };
}

/** A fixed batch of token ids and next-token targets (one target ignored). */
export function batch(backend: Backend<any>): { ids: Tensor; targets: Tensor } {
  const { V, B, T } = DIMS;
  const ids = Int32Array.from({ length: B * T }, (_, i) => (i * 7 + 3) % V);
  const targets = Int32Array.from({ length: B * T }, (_, i) => (i === 4 ? -100 : (i * 5 + 1) % V));
  return { ids: tensor(ids, { shape: [B, T], backend }), targets: tensor(targets, { shape: [B, T], backend }) };
}

export function forward(P: Params, ids: Tensor, targets: Tensor): Tensor {
  const { NH, KVH, HS, B, T } = DIMS;
  const backend = ids.storage.backend;
  const heads = (t: Tensor, n: number) => t.reshape(B, T, n, HS).transpose(1, 2);
  const { cos, sin } = ropeTables(HS, 1e4, { type: 'default' }, { offset: 0, length: T }, 'float32', backend);
  const x = embedding(ids, P.embed!); // [B, T, C]
  const h = rmsNorm(x, P.ln1!, 1e-5);
  const q = rope(heads(linear(h, P.q!), NH), cos, sin);
  const k = rope(heads(linear(h, P.k!), KVH), cos, sin);
  const v = heads(linear(h, P.v!), KVH);
  const a = attention(q, k, v, { causal: true })
    .transpose(1, 2)
    .reshape(B, T, NH * HS);
  const x2 = linear(a, P.o!, undefined, { residual: x });
  const h2 = rmsNorm(x2, P.ln2!, 1e-5);
  const x3 = linear(swiglu(linear(h2, P.gate!), linear(h2, P.up!)), P.down!, undefined, { residual: x2 });
  const logits = linear(rmsNorm(x3, P.lnf!, 1e-5), P.embed!); // tied embeddings: [B, T, V]
  return crossEntropy(logits.reshape(B * T, -1), targets.reshape(-1));
}

/** AdamW moments for every parameter, made once, outside any step. */
export function initMoments(P: Params): { m: Params; v: Params } {
  const m: Params = {};
  const v: Params = {};
  for (const [n, p] of Object.entries(P)) {
    m[n] = zerosLike(p);
    v[n] = zerosLike(p);
  }
  return { m, v };
}

/** One training step: forward, backward, AdamW in place; returns the loss (params' .grad cleared). */
export function trainStep(P: Params, M: { m: Params; v: Params }, ids: Tensor, targets: Tensor, step: number): Tensor {
  const loss = forward(P, ids, targets);
  loss.backward();
  for (const [n, p] of Object.entries(P)) {
    adamwUpdate_(p, p.grad!, M.m[n]!, M.v[n]!, { lr: 1e-2, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, step });
    p.grad = null;
  }
  return loss.detach();
}
