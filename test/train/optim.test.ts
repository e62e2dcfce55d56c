// The optimizer pieces: global-norm clipping (norm before clipping, the coefficient formula, torch's
// exact float32 coefficient on the golden norms), parameter-group defaults (no decay on 1-D/norms),
// groups from HF names, and AdamW over groups (equal to the unfused rule step by step, the step count
// advancing at lr = 0, zero gradients for missing ones, state save/load that continues bit-identically).
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { adamwReference, Generator, randn, tensor, zerosLike, type Tensor } from '../../core/index.js';
import { checkProperty, countRun, fcParams } from '../../core/testing/index.js';
import { createModel } from '../../model/causal_lm.js';
import { preset } from '../../model/presets.js';
import { AdamW } from '../../train/optim/adamw.js';
import { clipCoefficient, clipGradNorm_, globalGradNorm } from '../../train/optim/clip.js';
import { defaultParamGroups, hfNamesOf, paramGroupsFromHfNames } from '../../train/optim/param_groups.js';
import { readTrajectoryCase } from '../../train/replay.js';

const TRAIN = resolve(import.meta.dirname, '..', 'fixtures', 'golden', 'train');

const tinyMoe = () =>
  createModel(
    preset('tiny-qwen3-moe', {
      vocab_size: 32,
      hidden_size: 16,
      intermediate_size: 24,
      moe_intermediate_size: 8,
      num_hidden_layers: 2,
      num_attention_heads: 2,
      head_dim: 8,
      num_experts: 4,
      mlp_only_layers: [1],
    }),
    { seed: 1 },
  );

/** Leaves with random gradients, from a seed (shapes 1-D to 3-D). */
function withGrads(seed: number, shapes: number[][], dtype: 'float32' | 'float64' = 'float64', scale = 1): Tensor[] {
  const g = new Generator(seed);
  return shapes.map((s) => {
    const p = randn(s, { dtype, generator: g }).requiresGrad_();
    p.grad = randn(s, { dtype, generator: g }).mul(scale);
    return p;
  });
}

const shapesArb = fc.array(fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 3 }), {
  minLength: 1,
  maxLength: 4,
});

describe('clipGradNorm_', () => {
  it('returns the global norm taken BEFORE clipping and scales every gradient by min(1, max/(norm+1e-6))', async () => {
    const arb = fc.tuple(
      fc.integer(),
      shapesArb,
      fc.double({ min: 0.01, max: 10, noNaN: true }),
      fc.double({ min: 0.01, max: 5, noNaN: true }),
    );
    await fc.assert(
      fc.asyncProperty(arb, async ([seed, shapes, scale, maxNorm]) => {
        countRun();
        const ps = withGrads(seed, shapes, 'float64', scale);
        const before = ps.map((p) => Array.from(p.grad!.dataSync()));
        const expected = Math.sqrt(before.flat().reduce((a, x) => a + x * x, 0));
        const r = await clipGradNorm_(ps, maxNorm);
        expect(Math.abs(r.norm - expected)).toBeLessThanOrEqual(1e-12 * expected);
        const coef = Math.min(1, maxNorm / (expected + 1e-6));
        expect(Math.abs(r.coef - coef)).toBeLessThanOrEqual(1e-12 * coef);
        expect(r.clipped).toBe(coef < 1);
        ps.forEach((p, i) => {
          const after = p.grad!.dataSync();
          before[i]!.forEach((x, j) => expect(after[j]).toBe(r.clipped ? x * r.coef : x)); // unclipped: untouched
        });
        // After clipping the norm is min(norm, max), short of max by the 1e-6 guard's share: max·1e-6/(norm+1e-6).
        expect(Math.abs((await globalGradNorm(ps)) - Math.min(expected, maxNorm))).toBeLessThanOrEqual(
          (maxNorm * 1e-6) / expected + 1e-12,
        );
      }),
      fcParams(40),
    );
  });

  it("computes torch's float32 coefficient bit for bit from the golden trajectories' grad norms", () => {
    for (const name of ['train_llama_adamw', 'train_qwen3moe_adamw']) {
      const j = JSON.parse(readFileSync(join(TRAIN, name, 'trajectory.json'), 'utf8'));
      for (const s of j.steps) expect(clipCoefficient(s.grad_norm, j.grad_clipping.max_norm)).toBe(s.clip_coef);
    }
    expect(clipCoefficient(0.5, 1)).toBe(1); // the min(1, ·): a small norm is never scaled up
  });

  it('counts a missing gradient as zero, and fails loudly on a NaN gradient or a bad max norm', async () => {
    const [a, b] = withGrads(3, [[4], [2, 3]]);
    b!.grad = null;
    expect(await globalGradNorm([a!, b!])).toBeCloseTo(Math.hypot(...a!.grad!.dataSync()), 12);
    a!.grad = tensor([1, NaN, 0, 0], { dtype: 'float64' });
    await expect(clipGradNorm_([a!], 1)).rejects.toThrow('clipGradNorm_: the gradient norm is NaN (a NaN or infinite gradient)');
    await expect(clipGradNorm_([a!], 0)).rejects.toThrow('clipGradNorm_: maxNorm must be a finite number > 0, got 0');
  });
});

describe('parameter groups', () => {
  it('decay every ≥2-D weight and no 1-D weight (all norms, q_norm/k_norm included), each parameter once', () => {
    for (const model of [tinyMoe(), createModel(preset('tiny-llama', { vocab_size: 32, num_hidden_layers: 1 }))]) {
      const named = model.namedParameters();
      const groups = defaultParamGroups(named, 0.1);
      expect(groups.map((g) => g.weightDecay)).toEqual([0.1, 0]);
      expect(groups.flatMap((g) => g.params.map(([n]) => n)).sort()).toEqual(named.map(([n]) => n).sort());
      for (const [n, t] of groups[0]!.params) expect(t.ndim, n).toBeGreaterThanOrEqual(2);
      for (const [n, t] of groups[1]!.params) {
        expect(t.ndim, n).toBe(1);
        expect(n).toMatch(/(layernorm|norm)\.weight$/);
      }
      expect(groups[0]!.params.map(([n]) => n)).toContain('lm_head.weight');
      expect(groups[0]!.params.map(([n]) => n)).toContain('model.embed_tokens.weight');
    }
    expect(() => defaultParamGroups([], -1)).toThrow('defaultParamGroups: weightDecay must be a finite number ≥ 0, got -1');
  });

  it("equal the golden trajectories' groups (listed by HF names, experts one by one)", () => {
    for (const name of ['train_llama_adamw', 'train_qwen3moe_adamw']) {
      const c = readTrajectoryCase(join(TRAIN, name));
      const model = createModel(c.config);
      const fromNames = paramGroupsFromHfNames(model, c.groups);
      const byDefault = defaultParamGroups(model.namedParameters(), 0.1);
      expect(fromNames.map((g) => [g.weightDecay, g.params.map(([n]) => n)])).toEqual(
        byDefault.map((g) => [g.weightDecay, g.params.map(([n]) => n)]),
      );
    }
  });

  it('map stacked experts back to their HF names, and reject inconsistent or unknown names', () => {
    const model = tinyMoe();
    const names = hfNamesOf(model);
    expect(names.get('model.layers.0.mlp.experts.gate_proj')).toEqual(
      [0, 1, 2, 3].map((e) => `model.layers.0.mlp.experts.${e}.gate_proj.weight`),
    );
    expect(names.get('model.norm.weight')).toEqual(['model.norm.weight']);
    const all = [...model.stateDict().keys()];
    const expert1 = 'model.layers.0.mlp.experts.1.up_proj.weight';
    expect(() =>
      paramGroupsFromHfNames(model, [
        { weightDecay: 0.1, params: all.filter((n) => n !== expert1) },
        { weightDecay: 0, params: [expert1] },
      ]),
    ).toThrow(
      "paramGroupsFromHfNames: the HF names of 'model.layers.0.mlp.experts.up_proj' (model.layers.0.mlp.experts.0.up_proj.weight, model.layers.0.mlp.experts.1.up_proj.weight, model.layers.0.mlp.experts.2.up_proj.weight, …) are in different groups",
    );
    expect(() => paramGroupsFromHfNames(model, [{ weightDecay: 0.1, params: all.slice(1) }])).toThrow(
      `paramGroupsFromHfNames: '${all[0]}' is in no group`,
    );
    expect(() => paramGroupsFromHfNames(model, [{ weightDecay: 0.1, params: [...all, 'model.extra.weight'] }])).toThrow(
      'paramGroupsFromHfNames: 1 name(s) are not parameters of this model: model.extra.weight',
    );
    expect(() =>
      paramGroupsFromHfNames(model, [
        { weightDecay: 0.1, params: all },
        { weightDecay: 0, params: [all[0]!] },
      ]),
    ).toThrow(`'${all[0]}' is in groups 0 and 1`);
  });
});

describe('AdamW', () => {
  it('equals the unfused AdamW rule step by step over groups, k advancing at every step (lr = 0 too)', () => {
    checkProperty(
      fc.tuple(fc.integer(), shapesArb, fc.array(fc.constantFrom(0, 1e-3, 3e-2), { minLength: 1, maxLength: 4 })),
      ([seed, shapes, lrs]) => {
        const ps = withGrads(seed, shapes, 'float32');
        const half = Math.ceil(ps.length / 2);
        const opt = new AdamW(
          [
            { weightDecay: 0.1, params: ps.slice(0, half).map((p, i) => [`a${i}`, p]) },
            { weightDecay: 0, params: ps.slice(half).map((p, i) => [`b${i}`, p]) },
          ],
          { betas: [0.9, 0.95], eps: 1e-8 },
        );
        let ref = ps.map((p) => ({ param: p.detach().clone(), m: zerosLike(p), v: zerosLike(p) }));
        const gen = new Generator(seed ^ 0x5eed);
        lrs.forEach((lr, t) => {
          for (const p of ps) p.grad = randn(p.shape, { generator: gen });
          ref = ref.map((r, i) =>
            adamwReference(r.param, ps[i]!.grad!, r.m, r.v, {
              lr,
              beta1: 0.9,
              beta2: 0.95,
              eps: 1e-8,
              weightDecay: i < half ? 0.1 : 0,
              step: t + 1,
            }),
          );
          opt.update(lr);
          expect(opt.step).toBe(t + 1);
          ps.forEach((p, i) => {
            const [a, b] = [p.dataSync(), ref[i]!.param.dataSync()];
            for (let j = 0; j < a.length; j++)
              expect(Math.abs(a[j]! - b[j]!)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(b[j]!)));
          });
        });
      },
      30,
    );
  });

  it('updates a parameter without a gradient as a zero gradient: it still decays', () => {
    const p = tensor([1, -2], { dtype: 'float32' }).requiresGrad_();
    const opt = new AdamW([{ weightDecay: 0.5, params: [['p', p]] }]);
    opt.update(0.1);
    expect(Array.from(p.dataSync())).toEqual([Math.fround(0.95), Math.fround(-1.9)]);
    const m = opt.stateDict().tensors.get('p.exp_avg')!;
    expect(Array.from(m.dataSync())).toEqual([0, 0]);
  });

  it('saves and loads its state so that training continues bit-identically; a bad state changes nothing', () => {
    const make = () => {
      const ps = withGrads(7, [[3, 4], [4]], 'float32');
      return {
        ps,
        opt: new AdamW(
          defaultParamGroups(
            [
              ['w', ps[0]!],
              ['n', ps[1]!],
            ],
            0.1,
          ),
          { betas: [0.9, 0.95] },
        ),
      };
    };
    const grads = (t: number, ps: Tensor[]) =>
      ps.forEach((p, i) => (p.grad = randn(p.shape, { generator: new Generator(100 * t + i) })));
    const straight = make();
    for (let t = 0; t < 4; t++) (grads(t, straight.ps), straight.opt.update(1e-2));

    const first = make();
    for (let t = 0; t < 2; t++) (grads(t, first.ps), first.opt.update(1e-2));
    const state = first.opt.stateDict();
    // Fresh parameters with the first run's values, then the saved optimizer state.
    const resumed = { ps: first.ps.map((p) => p.detach().clone().requiresGrad_()) };
    const opt2 = new AdamW(
      defaultParamGroups(
        [
          ['w', resumed.ps[0]!],
          ['n', resumed.ps[1]!],
        ],
        0.1,
      ),
      { betas: [0.9, 0.95] },
    );
    opt2.loadStateDict(state);
    expect(opt2.step).toBe(2);
    for (let t = 2; t < 4; t++) (grads(t, resumed.ps), opt2.update(1e-2));
    resumed.ps.forEach((p, i) => expect(Array.from(p.dataSync())).toEqual(Array.from(straight.ps[i]!.dataSync())));

    // Mismatches fail, naming what differs, and leave the optimizer as it was.
    const fresh = make().opt;
    expect(() => fresh.loadStateDict({ ...state, betas: [0.9, 0.999] })).toThrow(
      'AdamW.loadStateDict: saved betas [0.9,0.999] eps 1e-8, this optimizer has betas [0.9,0.95] eps 1e-8',
    );
    expect(() => fresh.loadStateDict({ ...state, weightDecay: { ...state.weightDecay, n: 0.1 } })).toThrow(
      "AdamW.loadStateDict: 'n' was saved with weight decay 0.1, this optimizer uses 0",
    );
    const missing = new Map(state.tensors);
    missing.delete('n.exp_avg_sq');
    expect(() => fresh.loadStateDict({ ...state, tensors: missing })).toThrow("AdamW.loadStateDict: missing 'n.exp_avg_sq'");
    const wrong = new Map(state.tensors).set('w.exp_avg', zerosLike(randn([4, 3])));
    expect(() => fresh.loadStateDict({ ...state, tensors: wrong })).toThrow(
      "AdamW.loadStateDict: 'w.exp_avg' is [4,3], the parameter is [3,4]",
    );
    expect(fresh.step).toBe(0);
    expect(Array.from(fresh.stateDict().tensors.get('w.exp_avg')!.dataSync()).every((x) => x === 0)).toBe(true);
  });

  it('rejects bad hyper-parameters and duplicate parameters', () => {
    const [p] = withGrads(1, [[2]], 'float32');
    expect(() => new AdamW([{ weightDecay: 0, params: [['p', p!]] }], { betas: [1, 0.9] })).toThrow(
      'AdamW: betas must be in [0, 1), got [1,0.9]',
    );
    expect(
      () =>
        new AdamW([
          {
            weightDecay: 0,
            params: [
              ['p', p!],
              ['q', p!],
            ],
          },
        ]),
    ).toThrow("AdamW: parameter 'q' appears twice in the groups");
    expect(() => new AdamW([{ weightDecay: 0, params: [['p', p!]] }]).update(-1)).toThrow(
      'AdamW.update: lr must be a finite number ≥ 0, got -1',
    );
  });
});
