// The per-kernel profile (core/profile.ts): every kernel call counted once under its own name and phase,
// bytes and FLOPs from the shapes, backward kernels counted as backward, nothing recorded when off.

import { afterEach, describe, expect, it } from 'vitest';
import { enableProfile, linear, profileRows, profileTable, randn, resetProfile, tensor } from '../../core/index.js';
import { flopsOf } from '../../core/profile.js';

afterEach(() => {
  enableProfile(false);
  resetProfile();
});

const row = (kernel: string, phase: string) => profileRows().find((r) => r.kernel === kernel && r.phase === phase);

describe('profile', () => {
  it('records nothing while off', () => {
    enableProfile(false);
    tensor([1, 2, 3]).exp();
    expect(profileRows()).toEqual([]);
  });

  it('counts each kernel call by name and phase, with the bytes it moved and the FLOPs of a product', () => {
    enableProfile(true);
    const x = randn([4, 8]).requiresGrad_();
    const w = randn([16, 8]).requiresGrad_();
    resetProfile(); // randn's own kernels are not part of this
    const y = linear(x, w); // [4, 16]
    y.exp().sum().backward();
    const fwd = row('linear', 'forward')!;
    expect(fwd.calls).toBe(1);
    expect(fwd.bytes).toBe(4 * (4 * 8 + 16 * 8 + 4 * 16));
    expect(fwd.flops).toBe(2 * 4 * 16 * 8);
    expect(row('exp', 'forward')!.calls).toBe(1);
    expect(row('sum', 'forward')!.calls).toBe(1);
    // The gradients are products too (dx = dy·w, dw = dyᵀ·x), run inside backward.
    const mm = row('matmul', 'backward')!;
    expect(mm.calls).toBe(2);
    expect(mm.flops).toBe(2 * (2 * 4 * 16 * 8));
    expect(row('linear', 'backward')?.calls ?? 0).toBe(0);
    const table = profileTable();
    expect(table).toMatch(/^kernel\s+phase\s+calls\s+total ms\s+share\s+GB\/s\s+GFLOP\/s/);
    expect(table).toContain('all kernels');
  });

  it('counts matmul, linear and attention FLOPs by their formulas', () => {
    const b = (shape: number[]) => ({ shape, dtype: 'float32' as const });
    expect(flopsOf('matmul', [b([2, 3, 4]), b([4, 5])], { transA: false, transB: false })).toBe(2 * 2 * 3 * 5 * 4);
    expect(flopsOf('matmul', [b([4, 3]), b([5, 4])], { transA: true, transB: true })).toBe(2 * 3 * 5 * 4);
    expect(flopsOf('linear', [b([2, 7, 8]), b([16, 8])], {})).toBe(2 * 14 * 16 * 8);
    expect(flopsOf('attention', [b([1, 2, 8, 4]), b([1, 1, 8, 4])], { causal: false })).toBe(2 * 2 * 2 * 8 * 8 * 4);
    expect(flopsOf('attention', [b([1, 2, 8, 4]), b([1, 1, 8, 4])], { causal: true })).toBe((2 * 2 * 2 * 8 * 8 * 4) / 2);
    expect(flopsOf('exp', [b([3]), b([3])], {})).toBe(0);
  });
});
