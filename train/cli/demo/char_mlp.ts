// A character-level MLP language model (Bengio et al. 2003): embed the previous `context`
// characters, one tanh hidden layer, logits over the vocabulary. Small enough to train in a minute
// on the CPU reference backend; it exercises embedding, linear, tanh, crossEntropy and autograd.

import {
  crossEntropy,
  embedding,
  linear,
  noGrad,
  randn,
  tensor,
  zeros,
  type Generator,
  type Tensor,
} from '../../../core/index.js';

export interface CharMlpConfig {
  vocab: number;
  context: number;
  embed: number;
  hidden: number;
}

export type Params = Record<'emb' | 'w1' | 'b1' | 'w2' | 'b2', Tensor>;

/** Weights in HF layout ([out, in]); scaled normal init so tanh starts in its linear range. */
export function initParams(c: CharMlpConfig, generator: Generator): Params {
  const leaf = (t: Tensor) => t.requiresGrad_();
  const fanIn = c.context * c.embed;
  return {
    emb: leaf(randn([c.vocab, c.embed], { generator })),
    w1: leaf(randn([c.hidden, fanIn], { generator }).mul(1 / Math.sqrt(fanIn))),
    b1: leaf(zeros([c.hidden])),
    w2: leaf(randn([c.vocab, c.hidden], { generator }).mul(0.1 / Math.sqrt(c.hidden))),
    b2: leaf(zeros([c.vocab])),
  };
}

/** ids [B, context] → logits [B, V]. */
export function forward(p: Params, ids: Tensor): Tensor {
  const [B, T] = ids.shape;
  const e = embedding(ids, p.emb).reshape(B, T * p.emb.shape[1]); // [B, T·C]
  const h = linear(e, p.w1, p.b1).tanh(); // [B, H]
  return linear(h, p.w2, p.b2); // [B, V]
}

export function loss(p: Params, ids: Tensor, targets: Tensor): Tensor {
  return crossEntropy(forward(p, ids), targets);
}

/** Adam moments for every parameter, plus the step count. */
export interface AdamState {
  m: Record<string, Tensor>;
  v: Record<string, Tensor>;
  step: number;
}

export function adamInit(p: Params): AdamState {
  const z = (t: Tensor) => zeros(t.shape);
  return { m: mapParams(p, z), v: mapParams(p, z), step: 0 };
}

/**
 * The textbook Adam update written in ops (Kingma & Ba 2015), returning new parameter leaves:
 * m ← β1·m + (1−β1)·g, v ← β2·v + (1−β2)·g², p ← p − lr·m̂/(√v̂ + ε).
 */
export function adamStep(p: Params, s: AdamState, lr: number, b1 = 0.9, b2 = 0.999, eps = 1e-8): Params {
  s.step++;
  const c1 = 1 - b1 ** s.step;
  const c2 = 1 - b2 ** s.step;
  return noGrad(() =>
    mapParams(p, (w, name) => {
      const g = w.grad!;
      s.m[name] = s.m[name].mul(b1).add(g.mul(1 - b1));
      s.v[name] = s.v[name].mul(b2).add(g.square().mul(1 - b2));
      const update = s.m[name].div(c1).div(s.v[name].div(c2).sqrt().add(eps)).mul(lr);
      return w.sub(update).requiresGrad_();
    }),
  );
}

function mapParams(p: Params, f: (t: Tensor, name: string) => Tensor): Params {
  return Object.fromEntries(Object.entries(p).map(([k, t]) => [k, f(t, k)])) as Params;
}

/** Sample `n` characters after `prompt` ids, at `temperature`, from a seeded generator. */
export function sample(
  p: Params,
  prompt: number[],
  n: number,
  context: number,
  temperature: number,
  generator: Generator,
): number[] {
  const out = [...prompt];
  noGrad(() => {
    for (let i = 0; i < n; i++) {
      const window = out.slice(-context);
      while (window.length < context) window.unshift(0);
      // Id 0 is the unknown character: never emit it.
      const logits = forward(p, tensor([window], { dtype: 'int32' })).narrow(1, 1, p.emb.shape[0] - 1);
      const probs = logits.div(temperature).softmax(-1).dataSync();
      let r = generator.nextFloat64();
      let next = probs.length - 1;
      for (let j = 0; j < probs.length; j++) {
        r -= probs[j];
        if (r < 0) {
          next = j;
          break;
        }
      }
      out.push(next + 1);
    }
  });
  return out.slice(prompt.length);
}
