// A consumer of the installed package, run by test/package/consumer.ts in a folder outside this
// repository: it imports only the package's public entry points, as a user's project would, and
// exits non-zero (an uncaught error) when a check fails. It is not part of the repository's build.
import { apply, manualSeed, randint, randn, type Op, type Tensor } from 'llmjp4-ts';
import { checkOp, gradcheck, ndarray, shape, tensorSpec } from 'llmjp4-ts/core/testing';
import { createModel } from 'llmjp4-ts/model/causal_lm';
import { preset } from 'llmjp4-ts/model/presets';
import { AdamW } from 'llmjp4-ts/train/optim/adamw';
import { defaultParamGroups } from 'llmjp4-ts/train/optim/param_groups';
import { trainStep } from 'llmjp4-ts/train/step';

// (a) A user-defined op, softplus, checked with the package's property machinery: once with its true
// gradient (passes), once with a deliberately wrong one (2× too large), which both checks must reject.
function softplusOp(gradScale: number): (x: Tensor) => Tensor {
  const Softplus: Op<'x'> = {
    name: 'softplus',
    inputs: ['x'],
    shape: ({ x }) => x,
    save: ['x'],
    forward: ({ x }) => x.exp().add(1).log(),
    backward: (dy, { x }) => ({ x: () => dy.mul(x.sigmoid()).mul(gradScale) }),
  };
  return (x) => apply(Softplus, { x }, {});
}

function check(softplus: (x: Tensor) => Tensor): void {
  checkOp({
    name: 'softplus',
    cases: tensorSpec(shape({ maxRank: 3 })).map((x) => ({ inputs: [x], attrs: {} })),
    fn: ([x]) => softplus(x!),
    reference: ([x]) => ndarray.map(x!, (v) => Math.log1p(Math.exp(v))),
    numRuns: 20,
  });
}

/** The error `fn` throws, or null when it returns. */
function thrown(fn: () => unknown): Error | null {
  try {
    fn();
    return null;
  } catch (e) {
    return e as Error;
  }
}

check(softplusOp(1));
const opError = thrown(() => check(softplusOp(2)));
if (opError === null) throw new Error('checkOp accepted a softplus whose gradient is 2x too large');
const x = randn([3, 4], { dtype: 'float64', requiresGrad: true });
const gradError = thrown(() => gradcheck((t) => softplusOp(2)(t), [x]));
if (gradError === null) throw new Error('gradcheck accepted a softplus whose gradient is 2x too large');
console.log(`(a) checkOp passes the true softplus and rejects the wrong gradient: ${opError.message.split('\n')[0]}`);

// (b) A tiny Llama trained for a few AdamW steps on one batch: the loss must fall.
manualSeed(0);
const model = createModel(preset('tiny-llama', { vocab_size: 64, num_hidden_layers: 1 }), { seed: 0 });
const ids = randint(0, 64, [2, 16]);
const optimizer = new AdamW(defaultParamGroups(model.namedParameters(), 0.1), { betas: [0.9, 0.95], eps: 1e-8 });
const losses: number[] = [];
for (let step = 0; step < 8; step++) {
  const m = await trainStep(model, optimizer, [{ inputIds: ids, labels: ids }], { lr: 1e-2, maxGradNorm: 1.0 });
  losses.push(m.loss);
}
if (!(losses.at(-1)! < losses[0]! - 0.5)) throw new Error(`training did not lower the loss: ${losses.join(', ')}`);
console.log(`(b) 8 training steps of a tiny Llama: loss ${losses[0]!.toFixed(3)} -> ${losses.at(-1)!.toFixed(3)}`);
