// The small blocks every LLM-jp-4 layer is built from, with HF parameter names and HF's initialisation:
// Linear (weight [out, in], normal(0, initializer_range)), Embedding (normal(0, initializer_range), the
// padding row zeroed and frozen), RMSNorm (ones).

import {
  arange,
  embedding,
  linear,
  noGrad,
  ones,
  randn,
  rmsNorm,
  where,
  type DType,
  type Generator,
  type Tensor,
} from '../../core/index.js';
import { Module } from './module.js';

export interface Init {
  dtype: DType;
  generator: Generator;
  std: number;
}

export class Linear extends Module {
  weight: Tensor;

  constructor(inFeatures: number, outFeatures: number, init: Init) {
    super();
    this.weight = this.addParameter(
      'weight',
      randn([outFeatures, inFeatures], { dtype: init.dtype, generator: init.generator }).mul(init.std),
    );
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
      const r = randn([vocab, dim], { dtype: init.dtype, generator: init.generator }).mul(init.std);
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

  constructor(dim: number, eps: number, init: Pick<Init, 'dtype'>) {
    super();
    this.eps = eps;
    this.weight = this.addParameter('weight', ones([dim], { dtype: init.dtype }));
  }

  /** w ⊙ x/√(mean(x²) + eps) over the last axis (LlamaRMSNorm). */
  forward(x: Tensor): Tensor {
    return rmsNorm(x, this.weight, this.eps);
  }
}
