// The GPU backend as a whole, in every gpu.js mode that works here: which modes work (printed), mode
// selection by name and environment, the CPU fallback (visible, listed, equal to the GPU kernels,
// in-place and aux outputs included), deterministic memory release (dispose, scope, a whole training
// step of a tiny decoder block leaving no live buffers), three training steps equal to the CPU backend,
// and the errors a user can hit.
import { afterAll, describe, expect, it } from 'vitest';
import { cpu, dispose, keep, memoryStats, randn, scope, selectBackend, tensor, type Tensor } from '../../../core/index.js';
import { assertSame, toBackend } from '../../../core/testing/index.js';
import { AUTO_ORDER, createGpuBackend, type GpuBackend } from '../../../kernels/gpu/index.js';
import type { Runtime } from '../../../kernels/gpu/runtime.js';
import { GPU_KERNELS } from '../../../kernels/gpu/table.js';
import { available, forEachMode, MODES, TOL } from './harness.js';
import { batch, forward, initMoments, initParams, trainStep } from './tiny_block.js';

it('reports which gpu.js modes work here', () => {
  console.log('[gpu modes]', JSON.stringify(MODES, null, 1));
  // WebAssembly and gpu.js's JavaScript mode exist in every Node.
  expect(MODES.webasm === true || MODES.webasm === 'not selected by LLMJP4_TEST_GPU_MODES').toBe(true);
});

describe('selectBackend', () => {
  const saved = { b: process.env.LLMJP4_BACKEND, m: process.env.LLMJP4_GPU_MODE };
  afterAll(() => {
    for (const [k, v] of [
      ['LLMJP4_BACKEND', saved.b],
      ['LLMJP4_GPU_MODE', saved.m],
    ] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  it('cpu by default; gpu and its mode by argument or LLMJP4_BACKEND / LLMJP4_GPU_MODE; clear errors', async () => {
    delete process.env.LLMJP4_BACKEND;
    expect(await selectBackend()).toBe(cpu);
    process.env.LLMJP4_BACKEND = 'gpu';
    process.env.LLMJP4_GPU_MODE = 'cpu';
    const g = (await selectBackend()) as GpuBackend;
    expect([g.name, g.mode]).toEqual(['gpu:cpu', 'cpu']);
    g.destroy();
    await expect(selectBackend({ backend: 'tpu' })).rejects.toThrow("backend: unknown backend 'tpu'; choose cpu or gpu");
    await expect(selectBackend({ backend: 'gpu', mode: 'metal' })).rejects.toThrow("backend: unknown gpu mode 'metal'");
  });

  it.skipIf(!available('webasm'))(
    'auto takes the first mode that works and says which, and why it skipped the others',
    async () => {
      const g = await createGpuBackend({ mode: 'auto' });
      expect(AUTO_ORDER).toContain(g.mode);
      expect(g.skipped.length).toBe(AUTO_ORDER.indexOf(g.mode));
      for (const why of g.skipped) expect(why).toMatch(/^gpu: mode \w+ does not work here: /);
      g.destroy();
    },
  );
});

forEachMode((gpu, mode) => {
  it('exactly the keys the GPU table lacks fall back (the list is printed; empty today)', () => {
    console.log(`[gpu fallbacks, ${mode}]`, JSON.stringify(gpu().fallbacks));
    const gpuKeys = new Set(Object.keys(GPU_KERNELS({} as Runtime)));
    expect(gpu().fallbacks).toEqual(Object.keys(cpu.kernels).filter((k) => !gpuKeys.has(k)));
  });

  it('a missing kernel falls back to the CPU visibly — once per key — with equal results, aux and in-place outputs included', async () => {
    const warnings: string[] = [];
    const without = ['softmax', 'linear', 'crossEntropy', 'adamw'] as const;
    const g = await createGpuBackend({ mode, without, onFallback: (m) => warnings.push(m) });
    expect(g.fallbacks).toEqual(
      [...without].sort((a, b) => Object.keys(cpu.kernels).indexOf(a) - Object.keys(cpu.kernels).indexOf(b)),
    );
    const P = initParams(g);
    const M = initMoments(P);
    const { ids, targets } = batch(g);
    for (let step = 1; step <= 2; step++) trainStep(P, M, ids, targets, step);
    const y = randn([3, 4], { backend: g }).softmax(-1);
    await y.data();
    const Pc = initParams(cpu);
    const Mc = initMoments(Pc);
    const bc = batch(cpu);
    for (let step = 1; step <= 2; step++) trainStep(Pc, Mc, bc.ids, bc.targets, step);
    for (const n of Object.keys(P)) await assertSame(P[n]!, Pc[n]!, TOL.fused, `fallback training, parameter ${n}`);
    expect(warnings.length).toBe(without.length);
    expect(warnings[0]).toMatch(/^llmjp4 gpu:\w+: no GPU kernel for '\w+'; it runs on the CPU/);
    g.destroy();
  });

  it('the MoE kernels cannot fall back (their plan is backend-specific): a clear error', async () => {
    await expect(createGpuBackend({ mode, without: ['moeBackward'] })).rejects.toThrow(
      "gpu: 'moeBackward' cannot fall back to the CPU",
    );
  });

  it('three training steps of a tiny decoder block = the CPU backend (loss and every parameter)', async () => {
    const P = initParams(gpu());
    const M = initMoments(P);
    const { ids, targets } = batch(gpu());
    const Pc = initParams(cpu);
    const Mc = initMoments(Pc);
    const bc = batch(cpu);
    for (let step = 1; step <= 3; step++) {
      const loss = trainStep(P, M, ids, targets, step);
      const lossc = trainStep(Pc, Mc, bc.ids, bc.targets, step);
      await assertSame(loss, lossc, TOL.fused, `loss at step ${step}`);
    }
    for (const n of Object.keys(P)) await assertSame(P[n]!, Pc[n]!, TOL.fused, `parameter ${n} after 3 steps`);
    for (const t of [...Object.values(P), ...Object.values(M.m), ...Object.values(M.v), ids, targets]) t.dispose();
  });

  // Counted by running totals: the finalizer backstop may free garbage from earlier tests at any
  // moment, so live counts alone would not be deterministic; made − released is.
  it('a training step inside scope() releases every buffer it made but the loss; dispose() frees now', async () => {
    const b = gpu();
    const P = initParams(b);
    const M = initMoments(P);
    const { ids, targets } = batch(b);
    trainStep(P, M, ids, targets, 1).dispose(); // builds the cached RoPE tables, which are meant to live on
    for (let step = 2; step <= 3; step++) {
      await b.sync(); // webgpu frees in queue order
      const s0 = memoryStats(b)!;
      const loss = scope(() => trainStep(P, M, ids, targets, step), b);
      expect(Number.isFinite((await loss.data())[0])).toBe(true);
      await b.sync();
      const s1 = memoryStats(b)!;
      expect(s1.allocated - s0.allocated - (s1.disposed - s0.disposed)).toBe(1); // the loss
      loss.dispose();
      await b.sync();
      expect(memoryStats(b)!.disposed).toBe(s1.disposed + 1);
    }
    const all: Tensor[] = [...Object.values(P), ...Object.values(M.m), ...Object.values(M.v), ids, targets];
    const s2 = memoryStats(b)!;
    dispose(all);
    await b.sync();
    const s3 = memoryStats(b)!;
    expect([s3.disposed - s2.disposed, s2.buffers - s3.buffers]).toEqual([all.length, all.length]);
  });

  it('scope keeps what it returns and what keep() marks; nested scopes hand results outwards', async () => {
    const b = gpu();
    await b.sync();
    const s0 = memoryStats(b)!;
    let kept: Tensor | null = null;
    const out = scope(() => {
      const x = tensor([1, 2, 3], { backend: b });
      kept = keep(x.mul(2));
      const inner = scope(() => x.add(1).exp(), b);
      return { y: inner.sum(), list: [inner] };
    }, b);
    await assertSame(out.list[0]!, cpuOf([1, 2, 3]).add(1).exp(), TOL.elementwise, 'scoped result');
    expect(Array.from(await kept!.data())).toEqual([2, 4, 6]);
    await b.sync();
    const s1 = memoryStats(b)!;
    expect(s1.allocated - s0.allocated - (s1.disposed - s0.disposed)).toBe(3);
    dispose(out.y, out.list, kept);
    await b.sync();
    expect(memoryStats(b)!.disposed - s1.disposed).toBe(3);
    await expect(out.y.data()).rejects.toThrow('device memory was already released');
  });

  it('float32 storage only: float64 is refused, int32 beyond ±2^24 is refused, int32/bool round-trip exactly', async () => {
    const b = gpu();
    expect(() => tensor([1.5], { dtype: 'float64', backend: b })).toThrow('gpu: float64 tensors are not supported');
    expect(() => tensor([1 << 25], { dtype: 'int32', backend: b })).toThrow('is beyond ±2^24');
    const i = tensor([-7, 0, 16777216], { dtype: 'int32', backend: b });
    expect(Array.from(await i.data())).toEqual([-7, 0, 16777216]);
    expect(Array.from(await i.gt(0).data())).toEqual([0, 0, 1]);
    expect((await i.data()) instanceof Int32Array).toBe(true);
    if (mode === 'webgpu') expect(() => i.dataSync()).toThrow('reads asynchronously; use await t.data()');
    else expect(Array.from(i.dataSync())).toEqual([-7, 0, 16777216]);
  });

  it('moves tensors to and from the CPU backend, strided views staying strided', async () => {
    const x = randn([3, 4]).permute(1, 0);
    const y = await toBackend(x, gpu());
    expect(y.strides).toEqual(x.strides);
    await assertSame(y.contiguous(), x.contiguous(), TOL.exact, 'moved view');
    expect(forward.length).toBe(3);
  });
});

function cpuOf(values: number[]): Tensor {
  return tensor(values, { backend: cpu });
}
