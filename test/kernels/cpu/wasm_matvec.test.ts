// The WebAssembly SIMD decode kernels against matvecReference for every weight format: fast-check shapes
// (odd output counts, tails, 1–11 rows), magnitudes 2^-30…2^6, every finite bfloat16/float16 pattern,
// threads forced on, the relaxed-SIMD build (in a child process), and the weight arena: several
// memories, freed ranges reused, a weight outside the arenas taking the reference.

import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { tsxLoader } from '../../../bench/peak_memory.js';
import { checkProperty } from '../../../core/testing/index.js';
import { packWeight, unpackWeight, WEIGHT_FORMATS, type PackedWeight } from '../../../kernels/cpu/quant/formats.js';
import { matvecReference } from '../../../kernels/cpu/quant/matvec.js';
import { getNumThreads, poolStats, setNumThreads } from '../../../kernels/cpu/threads/pool.js';
import { matvecStats, matvecTuning, wasmMatvec } from '../../../kernels/cpu/wasm/matvec.js';
import { relaxedSimdSupported, simdSupported } from '../../../kernels/cpu/wasm/runtime.js';
import {
  allocForWeight,
  allocWeightArray,
  arenaOf,
  arenaStats,
  arenaTuning,
  freeWeight,
  placeInArena,
} from '../../../kernels/cpu/wasm/weight_arena.js';

/** A copy of a packed weight placed in the arena. */
function inArena(p: PackedWeight): PackedWeight {
  // Each format's array type: the constructor of the one it was packed in.
  const data = allocWeightArray(p.data.constructor as typeof Float32Array, p.data.length);
  data.set(p.data as never);
  return { ...p, data } as PackedWeight;
}

/**
 * The kernel equals the reference to float32 rounding: the reference sums in a double, the kernel in
 * float32 lanes in another order, so the bound is the float32 summation bound, (in + 4)·2^-24·Σ|x·w|
 * (in + 4 roundings at most along any lane's path, block scales included), plus underflow.
 */
function expectClose(x: Float32Array, rows: number, w: PackedWeight, y: Float32Array): void {
  const ref = matvecReference(x, rows, w);
  const absW = packWeight('float32', unpackWeight(w).map(Math.abs), w.shape as [number, number]);
  const mag = matvecReference(x.map(Math.abs), rows, absW);
  const inDim = w.shape[1];
  for (let i = 0; i < ref.length; i++) {
    const tol = (inDim + 4) * 2 ** -24 * mag[i]! + (inDim + 4) * 2 ** -149;
    if (!(Math.abs(y[i]! - ref[i]!) <= tol))
      throw new Error(`${w.format} [${w.shape}] rows ${rows}: y[${i}] = ${y[i]}, reference ${ref[i]} (tolerance ${tol})`);
  }
}

/** Values whose magnitudes span 2^-30 … 2^6 (float16 subnormals included), signed zeros too. */
const value = fc
  .tuple(fc.float({ min: -1, max: 1, noNaN: true }), fc.integer({ min: -30, max: 6 }))
  .map(([v, e]) => Math.fround(v * 2 ** e));

const matvecCase = fc
  .record({
    format: fc.constantFrom(...WEIGHT_FORMATS),
    outDim: fc.integer({ min: 1, max: 37 }),
    inUnits: fc.integer({ min: 1, max: 70 }),
    rows: fc.integer({ min: 1, max: 11 }),
  })
  .chain(({ format, outDim, inUnits, rows }) => {
    // Block formats take whole blocks of 32; the others any length (tails of 0–7 past the 8-wide steps).
    const inDim = format === 'q8_0' || format === 'q4_0' ? 32 * Math.ceil(inUnits / 24) : inUnits;
    return fc.record({
      format: fc.constant(format),
      shape: fc.constant([outDim, inDim] as [number, number]),
      rows: fc.constant(rows),
      w: fc.array(value, { minLength: outDim * inDim, maxLength: outDim * inDim }),
      x: fc.array(value, { minLength: rows * inDim, maxLength: rows * inDim }),
    });
  });

const saved = { ...matvecTuning, threads: getNumThreads(), arenaBytes: arenaTuning.arenaBytes };
afterEach(() => {
  Object.assign(matvecTuning, { minTaskRows: saved.minTaskRows, tasksPerThread: saved.tasksPerThread });
  arenaTuning.arenaBytes = saved.arenaBytes;
  setNumThreads(saved.threads);
});

describe('wasm matvec', () => {
  it('runs on this engine (WebAssembly SIMD validates)', () => {
    expect(simdSupported).toBe(true);
  });

  it('equals matvecReference for every format, 1–11 rows, odd shapes and tails', () => {
    const before = matvecStats().wasm;
    let calls = 0;
    checkProperty(
      matvecCase,
      ({ format, shape, rows, w, x }) => {
        const p = inArena(packWeight(format, Float32Array.from(w), shape));
        const xs = Float32Array.from(x);
        expectClose(xs, rows, p, wasmMatvec(xs, rows, p));
        freeWeight(p.data);
        calls++;
      },
      150,
    );
    expect(matvecStats().wasm - before).toBe(calls); // every call took the arena kernels
  });

  it('splits output rows over threads and gives the same result', () => {
    setNumThreads(2);
    Object.assign(matvecTuning, { minTaskRows: 4, tasksPerThread: 8 });
    const before = poolStats().tasks;
    for (const format of WEIGHT_FORMATS) {
      const [outDim, inDim] = [203, 96];
      const w = Float32Array.from({ length: outDim * inDim }, (_, i) => Math.sin(i * 0.37) * 3);
      const x = Float32Array.from({ length: 3 * inDim }, (_, i) => Math.cos(i * 0.11));
      const p = inArena(packWeight(format, w, [outDim, inDim]));
      expectClose(x, 3, p, wasmMatvec(x, 3, p));
      freeWeight(p.data);
    }
    expect(poolStats().tasks - before).toBeGreaterThanOrEqual(5 * Math.ceil(203 / 16));
  });

  it('decodes every finite bfloat16 and float16 pattern exactly (x = one-hot rows)', () => {
    // W [n, 8] holds the patterns; x's 8 rows are e_0 … e_7, so y[r, o] = W[o, r]·1 + zeros, exactly.
    const eye = Float32Array.from({ length: 64 }, (_, i) => (i % 9 === 0 ? 1 : 0));
    for (const format of ['bfloat16', 'float16'] as const) {
      const finite = (h: number) => (format === 'float16' ? (h & 0x7c00) !== 0x7c00 : (h & 0x7f80) !== 0x7f80);
      const patterns = Uint16Array.from({ length: 65536 }, (_, h) => h).filter(finite);
      const n = Math.floor(patterns.length / 8);
      const p = inArena({ format, data: patterns.subarray(0, n * 8), shape: [n, 8] });
      const y = wasmMatvec(eye, 8, p);
      const expected = unpackWeight(p);
      for (let o = 0; o < n; o++)
        for (let r = 0; r < 8; r++)
          if (y[r * n + o] !== expected[o * 8 + r])
            throw new Error(`${format} pattern ${patterns[o * 8 + r]!.toString(16)}: ${y[r * n + o]} ≠ ${expected[o * 8 + r]}`);
      freeWeight(p.data);
    }
  });

  it('places weights in several arenas when one is full, and reuses freed ranges', () => {
    arenaTuning.arenaBytes = 1 << 16;
    const weights = WEIGHT_FORMATS.flatMap((format) =>
      [0, 1].map((k) => {
        const w = Float32Array.from({ length: 64 * 160 }, (_, i) => Math.sin(i + k));
        return inArena(packWeight(format, w, [64, 160]));
      }),
    );
    const ids = new Set(weights.map((p) => arenaOf(p.data)!.id));
    expect(ids.size).toBeGreaterThan(1); // float32 alone is 40 KiB a weight: they cannot share one 64 KiB arena
    const x = Float32Array.from({ length: 2 * 160 }, (_, i) => 1 / (1 + i));
    for (const p of weights) expectClose(x, 2, p, wasmMatvec(x, 2, p));
    // A freed range is handed out again: the next allocation of that size lands at the same place.
    const last = weights.at(-1)!;
    const { byteOffset, byteLength } = last.data;
    const arena = arenaOf(last.data)!;
    freeWeight(last.data);
    const again = allocWeightArray(Uint8Array, byteLength);
    expect([arenaOf(again), again.byteOffset]).toEqual([arena, byteOffset]);
    expect(arenaStats().length).toBeGreaterThanOrEqual(ids.size);
    for (const p of weights.slice(0, -1)) freeWeight(p.data);
    freeWeight(again);
  });

  it('upload places a weight in an arena once: a copy of a plain array, the same array when already there', () => {
    const plain = Uint16Array.from({ length: 4096 }, (_, i) => i);
    const placed = placeInArena(plain);
    expect(placed).not.toBe(plain);
    expect(arenaOf(placed)).not.toBeNull();
    expect(placed).toEqual(plain);
    const read = allocForWeight(Uint8Array, 34 * 64); // where a loader reads a q8_0 weight straight into
    expect(arenaOf(read)).not.toBeNull();
    expect(placeInArena(read)).toBe(read);
  });

  it('reads a view of some rows of a stacked weight in place (one MoE expert of many)', () => {
    const [experts, outDim, inDim] = [4, 24, 64];
    const w = Float32Array.from({ length: experts * outDim * inDim }, (_, i) => Math.sin(i * 0.01));
    const stacked = inArena(packWeight('q4_0', w, [experts * outDim, inDim]));
    const perExpert = stacked.data.length / experts;
    const x = Float32Array.from({ length: inDim }, (_, i) => 1 - i / inDim);
    for (const e of [0, 2, 3]) {
      const expert: PackedWeight = {
        format: 'q4_0',
        data: stacked.data.subarray(e * perExpert, (e + 1) * perExpert) as Uint8Array,
        shape: [outDim, inDim],
      };
      const alone = packWeight('q4_0', w.subarray(e * outDim * inDim, (e + 1) * outDim * inDim), [outDim, inDim]);
      const before = matvecStats().wasm;
      expectClose(x, 1, alone, wasmMatvec(x, 1, expert));
      expect(matvecStats().wasm).toBe(before + 1);
    }
    freeWeight(stacked.data);
  });

  it('refuses a weight larger than one arena, naming the sizes', () => {
    arenaTuning.arenaBytes = 1 << 16;
    expect(() => allocWeightArray(Float32Array, 1 << 15)).toThrow(
      'weight arena: 131072 bytes do not fit one WebAssembly memory (at most 65536 bytes)',
    );
  });

  it('runs a weight outside the arenas on the TypeScript reference', () => {
    const p = packWeight(
      'q8_0',
      Float32Array.from({ length: 5 * 64 }, (_, i) => i % 7),
      [5, 64],
    );
    const x = Float32Array.from({ length: 64 }, (_, i) => i / 64);
    const before = matvecStats();
    expect(wasmMatvec(x, 1, p)).toEqual(matvecReference(x, 1, p));
    expect(matvecStats().reference - before.reference).toBe(1);
    expect(matvecStats().wasm).toBe(before.wasm);
  });

  it('with relaxed SIMD (fused multiply-add) equals matvecReference too, where the engine validates it', () => {
    // Node 20 validates relaxed SIMD only with --experimental-wasm-relaxed-simd; later Nodes by default.
    const child = fileURLToPath(new URL('./wasm_matvec_relaxed_child.ts', import.meta.url));
    const flags = relaxedSimdSupported ? [] : ['--experimental-wasm-relaxed-simd'];
    const r = spawnSync(process.execPath, [...flags, '--import', tsxLoader(), child], { encoding: 'utf8' });
    if (r.status !== 0 && /bad option/.test(r.stderr)) return; // an engine without the flag (and without relaxed SIMD)
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { relaxedSupported: boolean; calls: number; worst: number };
    expect(out.relaxedSupported).toBe(true);
    expect(out.calls).toBe(5 * 6);
    expect(out.worst).toBeLessThanOrEqual(1);
  });
});
