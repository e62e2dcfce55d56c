// Creating tensors and reading them back: nested/typed arrays, fills, ranges, eye, seeded random
// draws that are the same on every machine, *Like variants, 0-d tensors, data()/item()/toArray().
import { describe, expect, it } from 'vitest';
import {
  arange,
  eye,
  full,
  fullLike,
  Generator,
  manualSeed,
  ones,
  onesLike,
  rand,
  randint,
  randn,
  randnLike,
  tensor,
  zeros,
  zerosLike,
} from '../../core/index.js';
import { checkProperty, shape } from '../../core/testing/index.js';
import fc from 'fast-check';

describe('tensor()', () => {
  it('infers shape and dtype from nested arrays, typed arrays and numbers', () => {
    const t = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(t.shape).toEqual([2, 3]);
    expect(t.dtype).toBe('float32');
    expect(tensor(new Float64Array([1, 2])).dtype).toBe('float64');
    expect(tensor(new Int32Array([1, 2])).dtype).toBe('int32');
    expect(tensor([true, false]).dtype).toBe('bool');
    expect(tensor(3.5).shape).toEqual([]);
    expect(tensor([]).shape).toEqual([0]);
    expect(tensor(new Float32Array(6), { shape: [2, 3] }).shape).toEqual([2, 3]);
    expect(tensor([1.7, -2.7], { dtype: 'int32' }).toArraySync()).toEqual([1, -2]);
  });

  it('rejects ragged arrays, non-numbers and wrong sizes', () => {
    expect(() => tensor([[1, 2], [3]])).toThrow('tensor: ragged nested array: expected length 2 at depth 1');
    expect(() => tensor([[1, 2], 3] as never)).toThrow(/ragged/);
    expect(() => tensor(['a'] as never)).toThrow('tensor: expected numbers or booleans, got string');
    expect(() => tensor(new Float32Array(5), { shape: [2, 3] })).toThrow('tensor: 5 values cannot have shape [2,3]');
  });

  it('reads back as typed array, number and nested arrays, sync and async', async () => {
    const t = tensor(
      [
        [1, 2],
        [3, 4],
      ],
      { dtype: 'float64' },
    );
    expect(Array.from(await t.data())).toEqual([1, 2, 3, 4]);
    expect(await t.toArray()).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(await t.sum().item()).toBe(10);
    expect(t.transpose(0, 1).toArraySync()).toEqual([
      [1, 3],
      [2, 4],
    ]);
    expect(() => t.itemSync()).toThrow('item: expected a tensor with one element, got shape [2,2]');
    const copy = t.dataSync();
    copy[0] = 99;
    expect(t.dataSync()[0]).toBe(1);
  });
});

describe('fills, ranges, eye', () => {
  it('zeros / ones / full / *Like', () => {
    expect(zeros([2, 2]).toArraySync()).toEqual([
      [0, 0],
      [0, 0],
    ]);
    expect(ones([2], { dtype: 'int32' }).dtype).toBe('int32');
    expect(full([2], 2.5).toArraySync()).toEqual([2.5, 2.5]);
    expect(full([1], 1e40).toArraySync()).toEqual([Infinity]);
    expect(full([2], 7, { dtype: 'bool' }).toArraySync()).toEqual([1, 1]);
    const like = randn([3, 2], { dtype: 'float64' });
    expect(zerosLike(like).dtype).toBe('float64');
    expect(onesLike(like).shape).toEqual([3, 2]);
    expect(fullLike(like, 4, { dtype: 'float32' }).dtype).toBe('float32');
    expect(randnLike(like).shape).toEqual([3, 2]);
    expect(() => zeros([2, -1])).toThrow('full: invalid shape [2,-1]');
  });

  it('arange like PyTorch (int32 for integer arguments, float32 otherwise)', () => {
    expect(arange(4).toArraySync()).toEqual([0, 1, 2, 3]);
    expect(arange(4).dtype).toBe('int32');
    expect(arange(1, 2, 0.25).toArraySync()).toEqual([1, 1.25, 1.5, 1.75]);
    expect(arange(5, 1, -2).toArraySync()).toEqual([5, 3]);
    expect(arange(3, 1).shape).toEqual([0]);
    expect(() => arange(0, 1, 0)).toThrow('arange: bad range start=0 end=1 step=0');
  });

  it('eye', () => {
    expect(eye(2, 3).toArraySync()).toEqual([
      [1, 0, 0],
      [0, 1, 0],
    ]);
  });
});

describe('seeded random numbers', () => {
  it('are pinned: the same seed gives these exact numbers on every machine', () => {
    // These literals are the contract: a change to the generator must fail here.
    manualSeed(42);
    expect(Array.from(randint(0, 1000, [6]).dataSync())).toEqual(PINNED_RANDINT);
    manualSeed(42);
    expect(Array.from(rand([3], { dtype: 'float64' }).dataSync())).toEqual(PINNED_RAND64);
    manualSeed(42);
    expect(Array.from(randn([3], { dtype: 'float64' }).dataSync())).toEqual(PINNED_RANDN64);
    const g = new Generator(7);
    expect([g.nextUint32(), g.nextUint32()]).toEqual(PINNED_UINT32_SEED7);
  });

  it('the generator is xoshiro128** (the reference sequence from state {1, 2, 3, 4})', () => {
    const g = new Generator();
    g.setState([1, 2, 3, 4]);
    expect(Array.from({ length: 6 }, () => g.nextUint32())).toEqual([11520, 0, 5927040, 70819200, 2031721883, 1637235492]);
  });

  it('a generator replays exactly from a saved state, and explicit generators are independent of the global one', () => {
    const g = new Generator(123);
    g.nextUint32();
    const state = g.getState();
    const a = randn([5], { generator: g }).dataSync();
    g.setState(state);
    const b = randn([5], { generator: g }).dataSync();
    expect(Array.from(a)).toEqual(Array.from(b));
    manualSeed(1);
    const x = rand([4]).dataSync();
    manualSeed(1);
    randn([10], { generator: new Generator(5) });
    expect(Array.from(rand([4]).dataSync())).toEqual(Array.from(x));
    expect(() => g.setState([1, 2])).toThrow('Generator.setState: expected four uint32 words');
  });

  it('property: rand in [0, 1), randint in [low, high), randn roughly standard', () => {
    checkProperty(fc.tuple(shape({ minRank: 1, maxRank: 3, maxDim: 5 }), fc.integer({ min: 0, max: 1e6 })), ([s, seed]) => {
      const g = new Generator(seed);
      for (const v of rand(s, { generator: g }).dataSync()) expect(v >= 0 && v < 1).toBe(true);
      for (const v of randint(-3, 4, s, { generator: g }).dataSync()) expect(v >= -3 && v < 4 && Number.isInteger(v)).toBe(true);
    });
    manualSeed(0);
    const z = randn([20000], { dtype: 'float64' });
    expect(Math.abs(z.mean().itemSync())).toBeLessThan(0.03);
    expect(Math.abs(z.var().itemSync() - 1)).toBeLessThan(0.05);
  });
});

const PINNED_RANDINT = [924, 897, 282, 142, 180, 290];
const PINNED_RAND64 = [0.6606157208001621, 0.1117019639532224, 0.0791056456144914];
const PINNED_RANDN64 = [1.1226591822802086, 0.9491474351894811, 0.40412785633822706];
const PINNED_UINT32_SEED7 = [1004282400, 2200021487];
