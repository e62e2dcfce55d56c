// createModel(config, { init: 'empty' }): every parameter a placeholder (shape and dtype, no storage) with the
// state dict's keys, shapes and order unchanged; loading fills it (same logits as the model it came from),
// the load errors are the same, and using it unloaded fails naming a placeholder.
import { describe, expect, it } from 'vitest';
import { noGrad, tensor } from '../../core/index.js';
import { createModel } from '../../model/create_model.js';
import { preset } from '../../model/presets.js';

const ids = tensor([[1, 5, 9, 3]], { dtype: 'int32' });

describe.each(['tiny-llama', 'tiny-qwen3-moe'])('createModel init: empty (%s)', (name) => {
  const config = preset(name, { num_hidden_layers: 2 });

  it('has the random model’s keys, shapes and order, and no storage', () => {
    const full = createModel(config, { seed: 4 });
    const empty = createModel(config, { init: 'empty' });
    const shapes = (m: typeof full) => [...m.stateDict()].map(([k, t]) => [k, t.shape, t.dtype]);
    expect(shapes(empty)).toEqual(shapes(full));
    expect(empty.parameters().every((p) => p.isPlaceholder)).toBe(true);
    expect(() => empty.forward(ids)).toThrow(/placeholder without storage.*init: 'empty'.*load its weights first/);
  });

  it('loadStateDict sets every parameter: the logits equal the source model’s', () => {
    const full = createModel(config, { seed: 4 });
    const empty = createModel(config, { init: 'empty' });
    const sd = full.stateDict();
    empty.loadStateDict((k) => sd.get(k), 'float32');
    expect(empty.parameters().some((p) => p.isPlaceholder)).toBe(false);
    expect(empty.parameters().every((p) => p.requiresGrad)).toBe(true);
    const [a, b] = noGrad(() => [full.forward(ids).logits.dataSync(), empty.forward(ids).logits.dataSync()]);
    expect(b).toEqual(a);
  });

  it('missing and mis-shaped keys fail as for a random model', () => {
    const sd = createModel(config, { seed: 1 }).stateDict();
    const key = 'model.layers.1.self_attn.o_proj.weight';
    const errorOf = (init: 'random' | 'empty', get: (k: string) => ReturnType<typeof sd.get>) => {
      try {
        createModel(config, { init }).loadStateDict(get, 'float32');
      } catch (e) {
        return (e as Error).message;
      }
      return 'no error';
    };
    const missing = (k: string) => (k === key ? undefined : sd.get(k));
    const wrong = (k: string) => (k === key ? sd.get(k)!.narrow(0, 0, 1) : sd.get(k));
    expect(errorOf('empty', missing)).toBe(errorOf('random', missing));
    expect(errorOf('empty', missing)).toMatch(/missing 'model.layers.1.self_attn.o_proj.weight'/);
    expect(errorOf('empty', wrong)).toBe(errorOf('random', wrong));
    expect(errorOf('empty', wrong)).toMatch(/'model.layers.1.self_attn.o_proj.weight' is \[1,/);
  });
});
