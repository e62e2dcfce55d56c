// The small blocks every LLM-jp-4 layer is built from, with HF parameter names and HF's initialisation:
// Linear (weight [out, in], normal(0, initializer_range)), Embedding (normal(0, initializer_range), the
// padding row zeroed and frozen), RMSNorm (ones). With `init.empty` each weight is a placeholder (a shape,
// no storage) that loadStateDict fills: building a model to load never allocates random weights.

import {
  Tensor,
  arange,
  getBackend,
  embedding,
  linear,
  noGrad,
  ones,
  randn,
  rmsNorm,
  where,
  type DType,
  type Generator,
} from '../../core/index.js';
import { Module } from './module.js';

export interface Init {
  dtype: DType;
  generator: Generator;
  std: number;
  /** Placeholders instead of random weights (createModel's `init: 'empty'`): loading sets them. */
  empty?: boolean;
}

/** normal(0, std) weights of `shape` drawn from the model's generator, or a placeholder when `init.empty`. */
export function initWeight(init: Pick<Init, 'dtype' | 'generator' | 'std' | 'empty'>, shape: number[]): Tensor {
  if (init.empty) return Tensor.placeholder(getBackend(), init.dtype, shape);
  return randn(shape, { dtype: init.dtype, generator: init.generator }).mul(init.std);
}

export class Linear extends Module {
  weight: Tensor;

  constructor(inFeatures: number, outFeatures: number, init: Init) {
    super();
    this.weight = this.addParameter('weight', initWeight(init, [outFeatures, inFeatures]));
  }

  forward(x: Tensor): Tensor {
    return linear(x, this.weight);
  }
}

export class Embedding extends Module {
  weight: Tensor;
  readonly paddingIdx: number | null;

  constructor(vocab: number, dim: number, paddingIdx: number | null, init: Init) {
    super();
    this.paddingIdx = paddingIdx;
    const w = noGrad(() => {
      const r = initWeight(init, [vocab, dim]);
      if (init.empty) return r;
      // HF zeroes the padding row at init (nn.Embedding padding_idx).
      return paddingIdx === null ? r : where(arange(vocab).eq(paddingIdx).unsqueeze(1), 0, r);
    });
    this.weight = this.addParameter('weight', w);
  }

  /** ids [...] → [..., dim]. The padding row gets no gradient, as with nn.Embedding(padding_idx). */
  forward(ids: Tensor): Tensor {
    const e = embedding(ids, this.weight);
    if (this.paddingIdx === null) return e;
    return where(ids.eq(this.paddingIdx).unsqueeze(-1), e.detach(), e);
  }
}

export class RMSNorm extends Module {
  weight: Tensor;
  readonly eps: number;

  constructor(dim: number, eps: number, init: Pick<Init, 'dtype' | 'empty'>) {
    super();
    this.eps = eps;
    const w = init.empty ? Tensor.placeholder(getBackend(), init.dtype, [dim]) : ones([dim], { dtype: init.dtype });
    this.weight = this.addParameter('weight', w);
  }

  /** w ⊙ x/√(mean(x²) + eps) over the last axis (LlamaRMSNorm). */
  forward(x: Tensor): Tensor {
    return rmsNorm(x, this.weight, this.eps);
  }
}
