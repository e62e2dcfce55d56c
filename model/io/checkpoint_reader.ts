// Opening an HF checkpoint folder for loading at any size: every shard the index names must exist and
// every header must be sound before anything is allocated; then the load is planned (each tensor's held
// dtype) and refused if it cannot fit in memory. Tensors are then read one at a time, straight into their
// final array (shared memory when large, as the CPU backend keeps it), converted there if asked, and dropped.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { getBackend, Tensor } from '../../core/index.js';
import type { TypedArray } from '../../core/dtype.js';
import { bf16ToF32, f32ToBf16 } from '../../kernels/cpu/quant/bfloat16.js';
import { f16ToF32, f32ToF16 } from '../../kernels/cpu/quant/float16.js';
// The CPU backend moves arrays of this many elements or more into shared memory on upload: arrays that
// start there are kept as they are, so a large weight is never copied.
import { SHARED_MIN } from '../../kernels/cpu/shared.js';
import { allocForWeight } from '../../kernels/cpu/wasm/weight_arena.js';
import { quantizeQ4_0 } from '../../kernels/cpu/quant/q4_0.js';
import { quantizeQ8_0 } from '../../kernels/cpu/quant/q8_0.js';
import { WEIGHTS_INDEX_NAME, WEIGHTS_NAME } from './checkpoint_writer.js';
import {
  checkFits,
  chunkElements,
  heldBytes,
  planLoad,
  type HeldDtype,
  type LoadChoice,
  type PlannedLoad,
  type TensorSource,
} from './load_plan.js';
import { readQuantMetadata } from './quant_layout.js';
import { refuseNonFinite16, refuseNonFiniteFloats, refuseNonFloat } from './weight_checks.js';
import { SafetensorsFile, STORED, type OpenOptions, type StoredArray } from './safetensors_read.js';

/**
 * Which file holds each tensor: every tensor of model.safetensors when it exists, else the index's
 * weight_map. Beside both, the single file wins, as in HF's from_pretrained (it looks for
 * model.safetensors before the index). Nothing is opened.
 */
export function weightFileMap(dir: string): Map<string, string> {
  const index = join(dir, WEIGHTS_INDEX_NAME);
  const single = join(dir, WEIGHTS_NAME);
  const out = new Map<string, string>();
  if (existsSync(single)) {
    const f = SafetensorsFile.open(single);
    for (const name of f.tensors.keys()) out.set(name, single);
    f.close();
    return out;
  }
  if (!existsSync(index)) throw new Error(`fromPretrained: ${dir} has neither ${WEIGHTS_NAME} nor ${WEIGHTS_INDEX_NAME}`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(index, 'utf8'));
  } catch (e) {
    throw new Error(`${index}: not valid JSON (${(e as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw new Error(`${index}: must be a JSON object with a weight_map, got ${JSON.stringify(json)}`);
  const map = (json as { weight_map?: unknown }).weight_map;
  if (typeof map !== 'object' || map === null || Array.isArray(map))
    throw new Error(`${index}: weight_map must be an object of tensor name → file name, got ${JSON.stringify(map)}`);
  for (const [name, file] of Object.entries(map)) {
    if (typeof file !== 'string' || file.includes('/') || file.includes('\\'))
      throw new Error(`${index}: weight_map['${name}'] is not a file name in the folder`);
    out.set(name, join(dir, file));
  }
  return out;
}

/** An opened checkpoint: its load plan, and tensors made one at a time in their held dtypes. */
export interface OpenCheckpoint {
  readonly plan: readonly PlannedLoad[];
  /** The tensor held as planned (read now; the caller keeps it or drops it). */
  get(name: string): Tensor | undefined;
  readonly names: string[];
  close(): void;
}

export interface CheckpointOpenOptions extends OpenOptions {
  /** Bytes the weights may take (default: available memory less headroom); tests pass a small number. */
  availableBytes?: number;
}

/** Open `dir`'s weights for `choice`: missing shards, bad headers and a load that cannot fit all fail here. */
export function openCheckpoint(dir: string, choice: LoadChoice, opts: CheckpointOpenOptions = {}): OpenCheckpoint {
  const where = weightFileMap(dir);
  const paths = [...new Set(where.values())];
  const missing = paths.filter((p) => !existsSync(p));
  if (missing.length > 0)
    throw new Error(
      `fromPretrained: ${dir}: ${WEIGHTS_INDEX_NAME} names ${missing.length} shard(s) that are missing: ${missing.join(', ')}`,
    );
  const files = new Map<string, SafetensorsFile>();
  try {
    for (const p of paths) files.set(p, SafetensorsFile.open(p, opts));
    const sources = new Map<string, TensorSource>();
    const quants = new Map([...files].map(([p, f]) => [p, readQuantMetadata(p, f.metadata, f.tensors)]));
    // A tensor in two shards is ambiguous whichever the index names: refuse it, naming both files.
    const holder = new Map<string, string>();
    for (const [p, f] of files)
      for (const name of f.tensors.keys()) {
        const other = holder.get(name);
        if (other !== undefined) throw new Error(`fromPretrained: ${dir}: tensor '${name}' is in both ${other} and ${p}`);
        holder.set(name, p);
      }
    for (const [name, p] of where) {
      const f = files.get(p)!;
      const info = f.tensors.get(name);
      if (!info) throw new Error(`${join(dir, WEIGHTS_INDEX_NAME)}: names '${name}' in ${p}, which does not hold it`);
      const quant = quants.get(p)!.get(name);
      if (!quant) refuseNonFloat(p, name, info.dtype);
      sources.set(name, { file: p, info, quant });
    }
    const plan = planLoad(sources, choice);
    checkFits(dir, plan, choice, opts.availableBytes);
    const byName = new Map(plan.map((t) => [t.name, t]));
    return {
      plan,
      names: [...where.keys()],
      get: (name) => {
        const t = byName.get(name);
        if (!t) return undefined;
        try {
          return readHeld(files.get(t.file)!, t);
        } catch (e) {
          // V8's "Invalid typed array length" names neither the file nor the tensor.
          if (e instanceof RangeError)
            throw new Error(
              `${t.file}: tensor '${name}' [${t.shape}] (${t.bytes} bytes as ${t.held}) cannot be allocated: ${e.message}`,
            );
          throw e;
        }
      },
      close: () => files.forEach((f) => f.close()),
    };
  } catch (e) {
    files.forEach((f) => f.close());
    throw e;
  }
}

/**
 * The final array of a tensor held as `held`: where the CPU backend would move it on upload, so the upload
 * keeps it instead of copying — a weight arena for a large 16-bit or block weight (the decode kernels read
 * it there in place), shared memory for any other large array, an ordinary one when small.
 */
function allocFinal(held: HeldDtype, n: number): StoredArray {
  if (held === 'float32') return n < SHARED_MIN ? new Float32Array(n) : new Float32Array(new SharedArrayBuffer(4 * n));
  if (held === 'float64') return n < SHARED_MIN ? new Float64Array(n) : new Float64Array(new SharedArrayBuffer(8 * n));
  const ctor = held === 'bfloat16' || held === 'float16' ? Uint16Array : Uint8Array;
  return n < SHARED_MIN ? new ctor(n) : allocForWeight<Uint16Array | Uint8Array>(ctor, n);
}

const HELD_CTOR = {
  float32: Float32Array,
  float64: Float64Array,
  bfloat16: Uint16Array,
  float16: Uint16Array,
  q8_0: Uint8Array,
  q4_0: Uint8Array,
} as const;

/** Read one tensor and make it its held dtype: read straight into the final array when stored so, else convert once. */
function readHeld(f: SafetensorsFile, t: PlannedLoad): Tensor {
  const make = (data: TypedArray, dtype: HeldDtype) => Tensor.fromArray(getBackend(), data, dtype, [...t.shape]);
  if (t.held === 'int32' || t.held === 'bool') {
    const r = f.read(t.name);
    return make(r.data, t.held);
  }
  const ctor = HELD_CTOR[t.held];
  if (t.transient === 0) {
    const out = allocFinal(t.held, t.bytes / ctor.BYTES_PER_ELEMENT);
    const raw = f.readRaw(t.name, out);
    if (raw instanceof Float32Array || raw instanceof Float64Array) refuseNonFiniteFloats(f.path, t.name, raw);
    else if (raw instanceof Uint16Array) refuseNonFinite16(f.path, t.name, raw, t.info.dtype === 'BF16' ? 'BF16' : 'F16');
    return make(raw as TypedArray, t.held);
  }
  // Converting: a chunk of whole rows at a time is read, widened to float32 and written into the final
  // array in its held dtype, so the peak is the weights plus one chunk, never a second copy of the tensor.
  const n = t.shape.reduce((a, b) => a * b, 1);
  const cols = t.shape[t.shape.length - 1] ?? 1;
  const chunk = chunkElements(t.shape);
  const out = allocFinal(t.held, heldBytes(t.held, t.shape) / ctor.BYTES_PER_ELEMENT);
  const rawChunk = new STORED[t.info.dtype](chunk);
  const wide = new Float32Array(chunk);
  for (let at = 0; at < n; at += chunk) {
    const m = Math.min(chunk, n - at);
    const raw = f.readRawPart(t.name, at, rawChunk.subarray(0, m) as StoredArray);
    const f32 = wide.subarray(0, m);
    if (raw instanceof Uint16Array) (t.info.dtype === 'BF16' ? bf16ToF32 : f16ToF32)(raw, f32);
    else f32.set(raw as Float32Array | Float64Array);
    // Checked before narrowing: a value too large for float32 (an F64 1e300) becomes Inf here and is refused too.
    refuseNonFiniteFloats(f.path, t.name, f32, at);
    switch (t.held) {
      case 'float32':
      case 'float64':
        (out as Float32Array | Float64Array).set(f32, at);
        break;
      case 'bfloat16':
        f32ToBf16(f32, (out as Uint16Array).subarray(at, at + m));
        break;
      case 'float16':
        f32ToF16(f32, (out as Uint16Array).subarray(at, at + m));
        break;
      case 'q8_0':
      case 'q4_0': {
        const blocks = (t.held === 'q8_0' ? quantizeQ8_0 : quantizeQ4_0)(f32, [m / cols, cols]);
        (out as Uint8Array).set(blocks, heldBytes(t.held, [at]));
        break;
      }
    }
  }
  return make(out as TypedArray, t.held);
}
