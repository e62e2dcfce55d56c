// decode: the matrix-vector products of one decoded token at the LLM-jp-4 8B shapes (MLP up/gate and down,
// an attention projection, the lm_head), for every weight format, in GB/s of weight read — beside the
// memory-read bandwidth measured in the same run (a WebAssembly SIMD sum over 1 GiB on every core), the
// ceiling such a product can reach. Each kernel is timed against the TypeScript reference on the same weight.

import { WEIGHT_FORMATS, storedLength, type PackedWeight, type WeightFormat } from '../../kernels/cpu/quant/formats.js';
import { matvecReference } from '../../kernels/cpu/quant/matvec.js';
import { wasmMatvec } from '../../kernels/cpu/wasm/matvec.js';
import { readAll } from '../../kernels/cpu/wasm/read_bandwidth.js';
import { simdSupported } from '../../kernels/cpu/wasm/runtime.js';
import { allocWeight, freeWeight } from '../../kernels/cpu/wasm/weight_arena.js';
import type { BenchCase, SuiteOptions } from './types.js';

/** [out, in] of the 8B's decode products (HF layout): up/gate, down, q/o projection, lm_head (vocab 196,608). */
const SHAPES: readonly (readonly [string, number, number])[] = [
  ['mlp up', 14336, 4096],
  ['mlp down', 4096, 14336],
  ['attn q/o', 4096, 4096],
  ['lm_head', 196608, 4096],
];
const QUICK_SHAPES: typeof SHAPES = [
  ['mlp up', 96, 64],
  ['mlp down', 64, 96],
];

const bytesPerElement = (f: WeightFormat) => (f === 'float32' ? 4 : f === 'bfloat16' || f === 'float16' ? 2 : 1);

/** xorshift32: random bits at memory speed, for filling GBs of weights without a float32 copy. */
function fillRandom(u32: Uint32Array, seed: number): void {
  let s = seed | 1;
  for (let i = 0; i < u32.length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    u32[i] = s;
  }
}

/**
 * A random weight of `format` in the arena, every value finite: random bits with the exponent fixed so
 * that float32/bfloat16/float16 values lie in ±[0.5, 1) and every block scale is a small normal float16.
 */
function randomWeight(format: WeightFormat, [out, inDim]: readonly [number, number]): PackedWeight {
  const n = storedLength(format, [out, inDim]);
  const bytes = allocWeight(n * bytesPerElement(format));
  const u32 = new Uint32Array(bytes.buffer, bytes.byteOffset, Math.floor(bytes.byteLength / 4));
  fillRandom(u32, out * 31 + inDim);
  const shape = [out, inDim] as const;
  if (format === 'float32') {
    for (let i = 0; i < u32.length; i++) u32[i] = (u32[i]! & 0x807fffff) | 0x3f000000;
    return { format, data: new Float32Array(bytes.buffer, bytes.byteOffset, n), shape };
  }
  if (format === 'bfloat16' || format === 'float16') {
    const [keep, exp] = format === 'bfloat16' ? [0x807f807f, 0x3f003f00] : [0x83ff83ff, 0x38003800];
    for (let i = 0; i < u32.length; i++) u32[i] = ((u32[i]! & keep) | exp) >>> 0;
    return { format, data: new Uint16Array(bytes.buffer, bytes.byteOffset, n), shape };
  }
  const blockBytes = format === 'q8_0' ? 34 : 18;
  for (let b = 0; b < n; b += blockBytes) {
    bytes[b] = 0x00; // scale 0x2000 (2^-7): a normal float16
    bytes[b + 1] = 0x20;
  }
  return { format, data: bytes, shape };
}

/** One weight at a time: made on a case's first call (its warm-up), freed when another case needs its own. */
function weightSlot() {
  let key = '';
  let w: PackedWeight | null = null;
  const clear = () => {
    if (w) freeWeight(w.data);
    w = null;
    key = '';
  };
  const get = (format: WeightFormat, shape: readonly [number, number]): PackedWeight => {
    const k = `${format} ${shape}`;
    if (k !== key || w === null) {
      clear(); // free before allocating: the freed range is reused, the arena does not grow
      w = randomWeight(format, shape);
      key = k;
    }
    return w;
  };
  return { get, clear };
}

export function decodeCases(opts: SuiteOptions): BenchCase[] {
  if (!simdSupported) return [];
  const cases: BenchCase[] = [];
  const slot = weightSlot();
  // Memory bandwidth: one read of 1 GiB (16 MiB with --quick), in pieces over every thread — first and
  // again last, so that a change in the machine's load during the run shows.
  const readBytes = opts.quick ? 16 << 20 : 1 << 30;
  let buf: Uint8Array | null = null;
  const tasks = 8 * opts.threads;
  const readCase = (when: string): BenchCase => ({
    label: `memory read, ${when} (wasm SIMD sum of ${readBytes >= 1 << 30 ? '1 GiB' : '16 MiB'})`,
    run: () => {
      if (buf === null) {
        slot.clear();
        buf = allocWeight(readBytes);
        fillRandom(new Uint32Array(buf.buffer, buf.byteOffset, readBytes / 4), 7); // touch every page first
      }
      return readAll(buf, tasks);
    },
    bytes: readBytes,
    minSamples: 5,
  });
  cases.push(readCase('first'));
  const release = () => {
    if (buf) freeWeight(buf);
    buf = null;
  };
  for (const [name, out, inDim] of opts.quick ? QUICK_SHAPES : SHAPES) {
    for (const format of WEIGHT_FORMATS) {
      const x = Float32Array.from({ length: inDim }, (_, i) => Math.sin(i));
      const shape = [out, inDim] as const;
      const weightBytes = storedLength(format, shape) * bytesPerElement(format);
      cases.push({
        label: `matvec ${format} ${name} ${out}x${inDim}`,
        run: () => {
          release();
          return wasmMatvec(x, 1, slot.get(format, shape));
        },
        bytes: weightBytes,
        reference: () => matvecReference(x, 1, slot.get(format, shape)),
        minSamples: 5,
      });
    }
  }
  cases.push(readCase('last'));
  return cases;
}
