// The WebAssembly emitter and kernels piece by piece: LEB128, a hand-built module that runs, the
// vectorised exp against Math.exp, the packers against their index formulas, the kernel switch, and
// the relaxed-SIMD (fused multiply-add) variant in a child process that enables it. The kernels'
// results against the plain references are in matmul.test.ts and test/core/attention.test.ts.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { tsxLoader } from '../../../bench/peak_memory.js';
import { checkProperty } from '../../../core/testing/index.js';
import { Code, F32, I32, V128 } from '../../../kernels/cpu/wasm/code.js';
import { encodeModule, s32, u32, type FunctionDef } from '../../../kernels/cpu/wasm/emitter.js';
import {
  getCpuKernels,
  parseCpuKernelsEnv,
  relaxedSimdSupported,
  reserveBytes,
  setCpuKernels,
  simdSupported,
  wasmHandle,
  wasmThread,
} from '../../../kernels/cpu/wasm/runtime.js';
import { emitExp } from '../../../kernels/cpu/wasm/softmax_kernel.js';

const LIMITS = { initial: 1, maximum: 16, shared: true };

/** Instantiate functions against a fresh shared memory. */
function instantiate(fns: FunctionDef[]) {
  const memory = new WebAssembly.Memory(LIMITS);
  const { exports } = new WebAssembly.Instance(new WebAssembly.Module(encodeModule(LIMITS, fns)), { env: { memory } });
  return { exports: exports as Record<string, (...a: number[]) => number>, f32: new Float32Array(memory.buffer) };
}

describe('wasm emitter', () => {
  it('encodes LEB128 as the spec examples', () => {
    expect(u32(0)).toEqual([0]);
    expect(u32(127)).toEqual([0x7f]);
    expect(u32(300)).toEqual([0xac, 0x02]);
    expect(u32(624485)).toEqual([0xe5, 0x8e, 0x26]);
    expect(s32(-1)).toEqual([0x7f]);
    expect(s32(63)).toEqual([0x3f]);
    expect(s32(64)).toEqual([0xc0, 0x00]);
    expect(s32(-64)).toEqual([0x40]);
    expect(s32(-123456)).toEqual([0xc0, 0xbb, 0x78]);
    expect(() => u32(-1)).toThrow('wasm emitter: u32 out of range: -1');
  });

  it('builds a module whose functions run: arithmetic, a loop, loads and stores, SIMD', () => {
    expect(simdSupported).toBe(true); // Node ≥ 16.4 validates SIMD and shared memory without flags
    const add = new Code('add', [I32, I32], [I32]);
    add.get(add.params[0]!).get(add.params[1]!).i32Add();
    // sum(n) = 1 + 2 + … + n, as a do-while loop.
    const sum = new Code('sum', [I32], [I32]);
    const [n] = sum.params as [ReturnType<Code['local']>];
    const [i, acc] = [sum.local(I32), sum.local(I32)];
    sum.i32(0).set(i).i32(0).set(acc);
    sum.loop(() => {
      sum.bump(i, 1);
      sum.get(acc).get(i).i32Add().set(acc);
      sum.get(i).get(n).i32LtS().brIf(0);
    });
    sum.get(acc);
    // axpy4(x, y): y[0..4] += 2·x[0..4] with f32x4, then returns y[3] + 0.5 as a scalar.
    const axpy = new Code('axpy4', [I32, I32], [F32]);
    const [x, y] = axpy.params as [ReturnType<Code['local']>, ReturnType<Code['local']>];
    axpy.get(y).get(y).v128Load().get(x).v128Load().f32x4Const(2).f32x4Mul().f32x4Add().v128Store();
    axpy.get(y).f32Load(12).f32(0.5).f32Add();
    const { exports, f32 } = instantiate([add.finish(), sum.finish(), axpy.finish()]);
    expect(exports.add!(2, 40)).toBe(42);
    expect(exports.sum!(100)).toBe(5050);
    f32.set([1, 2, 3, 4, 10, 20, 30, 40], 0);
    expect(exports.axpy4!(0, 16)).toBe(48.5);
    expect(Array.from(f32.subarray(4, 8))).toEqual([12, 24, 36, 48]);
  });

  it('refuses an unclosed block and a bad shuffle lane', () => {
    const f = new Code('bad', []);
    expect(() => f.f32x4Shuffle([0, 1, 2, 8])).toThrow('wasm bad: f32x4Shuffle lanes must be 0..7, got 0,1,2,8');
    expect(() => f.loop(() => f.finish())).toThrow('wasm bad: 1 block(s) left open');
  });
});

describe('wasm kernels', () => {
  it('vectorised exp is within 2 float32 ulps of Math.exp, and exactly 0 far below', () => {
    const f = new Code('exp4', [I32]);
    const [p] = f.params as [ReturnType<Code['local']>];
    const [x, n, r] = [f.local(V128), f.local(V128), f.local(V128)];
    f.get(p).v128Load().set(x);
    f.get(p);
    emitExp(f, x, n, r);
    f.v128Store();
    const { exports, f32 } = instantiate([f.finish()]);
    const exp4 = (xs: number[]) => {
      f32.set(xs, 0);
      exports.exp4!(0);
      return Array.from(f32.subarray(0, 4));
    };
    checkProperty(fc.array(fc.double({ min: -87, max: 0, noNaN: true }), { minLength: 4, maxLength: 4 }), (xs) => {
      const got = exp4(xs);
      xs.forEach((v, i) => {
        const want = Math.exp(Math.fround(v));
        expect(Math.abs(got[i]! - want)).toBeLessThanOrEqual(2 * 2 ** -23 * want);
      });
    });
    expect(exp4([-Infinity, -89, -1000, 0])).toEqual([0, 0, 0, 1]);
  });

  it('packers reorder staged blocks into the slivers the GEMM kernel reads', () => {
    reserveBytes(1 << 20);
    const t = wasmThread(wasmHandle());
    const cases = fc.record({
      width: fc.constantFrom<4 | 8>(4, 8),
      slivers: fc.integer({ min: 1, max: 5 }),
      kc: fc.integer({ min: 1, max: 9 }).map((k) => 4 * k),
      pad: fc.nat(3),
    });
    checkProperty(cases, ({ width, slivers, kc, pad }) => {
      const [src, dst] = [1024, 65536]; // float offsets in the shared memory
      const wide = slivers * width;
      // Deep: `wide` lines of kc (plus padding) floats; wide: kc lines of `wide` floats.
      for (const deep of [true, false]) {
        const line = (deep ? kc : wide) + pad;
        for (let i = 0; i < (deep ? wide : kc) * line; i++) t.f32[src + i] = i + 1;
        const fn = deep ? (width === 4 ? t.packDeep4 : t.packDeep8) : width === 4 ? t.packWide4 : t.packWide8;
        fn(src * 4, line * 4, slivers, kc, dst * 4);
        for (let s = 0; s < slivers; s++) {
          for (let p = 0; p < kc; p++) {
            for (let r = 0; r < width; r++) {
              const want = deep ? t.f32[src + (s * width + r) * line + p] : t.f32[src + p * line + s * width + r];
              if (t.f32[dst + (s * kc + p) * width + r] !== want)
                throw new Error(`${deep ? 'deep' : 'wide'}${width}: sliver ${s}, step ${p}, lane ${r}`);
            }
          }
        }
      }
    });
  });
});

describe('kernel switch (LLMJP4_CPU_KERNELS, setCpuKernels)', () => {
  it('parses the environment and rejects anything but ts or wasm', () => {
    expect(parseCpuKernelsEnv(undefined)).toBe('wasm');
    expect(parseCpuKernelsEnv('')).toBe('wasm');
    expect(parseCpuKernelsEnv('ts')).toBe('ts');
    expect(parseCpuKernelsEnv(undefined, false)).toBe('ts');
    expect(() => parseCpuKernelsEnv('gpu')).toThrow("LLMJP4_CPU_KERNELS must be 'ts' or 'wasm', got 'gpu'");
    expect(() => parseCpuKernelsEnv('wasm', false)).toThrow(
      'LLMJP4_CPU_KERNELS=wasm: this engine does not validate WebAssembly SIMD',
    );
    const was = getCpuKernels();
    expect(() => setCpuKernels('simd' as never)).toThrow("setCpuKernels: expected 'ts' or 'wasm', got 'simd'");
    expect(getCpuKernels()).toBe(was);
  });

  it('an environment choice reaches a fresh process', () => {
    const code = "import('./kernels/cpu/wasm/runtime.ts').then((m) => console.log(m.getCpuKernels()))";
    const run = (env: string) =>
      spawnSync(process.execPath, ['--import', tsxLoader(), '-e', code], {
        encoding: 'utf8',
        env: { ...process.env, LLMJP4_CPU_KERNELS: env },
      });
    expect(run('ts').stdout.trim()).toBe('ts');
    expect(run('wasm').stdout.trim()).toBe('wasm');
  });
});

describe('relaxed SIMD (f32x4.relaxed_madd)', () => {
  it('the fused multiply-add kernels match the references where the engine validates them', () => {
    // Node 20 validates relaxed SIMD only with --experimental-wasm-relaxed-simd; later Nodes by default.
    const child = fileURLToPath(new URL('./wasm_relaxed_child.ts', import.meta.url));
    const flags = relaxedSimdSupported ? [] : ['--experimental-wasm-relaxed-simd'];
    const r = spawnSync(process.execPath, [...flags, '--import', tsxLoader(), child], { encoding: 'utf8' });
    if (r.status !== 0 && /bad option/.test(r.stderr)) return; // an engine without the flag (and without relaxed SIMD)
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as {
      relaxedSupported: boolean;
      moduleRelaxed: boolean;
      worst: number;
      calls: { matmul: number; attention: number };
    };
    expect(out.relaxedSupported).toBe(true);
    expect(out.moduleRelaxed).toBe(true);
    expect(out.calls.matmul).toBeGreaterThan(0);
    expect(out.calls.attention).toBe(1);
    expect(out.worst).toBeLessThan(1e-4);
  });
});
