// The gpu.js runtime behind the GPU backend: one gpu.js instance in one mode, each kernel compiled once
// and cached, kernels chained on device handles, host data in through one upload kernel, values out
// only through `read`. In webgpu mode kernel calls are Promises, so every call is queued in program
// order and the handle it returns fills in later; the other modes run each call at once.
// It knows nothing about tensors, dtypes or shapes beyond flat float32 arrays.

import { DeviceArray, Memory, MAX_ELEMENTS, type DeviceValue } from './device_array.js';

/** Every gpu.js mode this backend knows; which of them exist depends on the platform (platform.ts). */
export type GpuMode = 'webgpu' | 'headlessgl' | 'webgl2' | 'webgl' | 'webasm' | 'cpu';

/** A kernel: a name (the cache key and the label in errors) and gpu.js source over `this.thread.x`. */
export interface KernelSource {
  readonly name: string;
  /**
   * `function (a, b, n) { ... return v; }` as text: one output element per thread, flat index
   * `this.thread.x`. Text, not a function, so no TypeScript/esbuild transform can touch what gpu.js parses.
   */
  readonly source: string;
}

/** A kernel argument: a device array, a number (passed as float32) or a small host array (shapes, offsets). */
export type Arg = DeviceArray | number | Float32Array;

// gpu.js is CommonJS and ships loose typings; these are the few members this file uses.
interface GpuKernel {
  (...args: unknown[]): unknown;
  setOutput(output: number[]): GpuKernel;
  kernel?: GlKernel & { constructor: { name: string }; fallbackReason?: string | null; output?: number[] };
}
/** The parts of a gpu.js GL kernel that detachOwnOutput touches. */
interface GlKernel {
  texture?: { texture: unknown; newTexture(): void } | null;
  _textureSwitched?: boolean;
}
interface GpuInstance {
  createKernel(source: string, settings: Record<string, unknown>): GpuKernel;
  destroy(): void | Promise<void>;
  context?: { finish?(): void } | null;
}
export interface GpuJs {
  GPU: { new (settings: { mode: string }): GpuInstance; isHeadlessGLSupported?: boolean };
}

/**
 * Settings every kernel shares: output on the device (`pipeline`), a fresh output per call
 * (`immutable`, or the next call would overwrite it), any size without recompiling where the mode
 * allows (`dynamicOutput`/`dynamicArguments`), loops as long as the largest array (gpu.js stops
 * every loop at `loopMaxIterations`, 1000 by default, silently), and float32 throughout.
 */
const KERNEL_SETTINGS = {
  output: [1],
  pipeline: true,
  immutable: true,
  dynamicOutput: true,
  dynamicArguments: true,
  loopMaxIterations: MAX_ELEMENTS,
  precision: 'single',
  tactic: 'precision',
};

interface Compiled {
  readonly kernel: GpuKernel;
  checked: boolean;
}

/** The gpu.js kernel class each mode must end up running (anything else is gpu.js falling back). */
const KERNEL_CLASS: Record<GpuMode, string> = {
  webgpu: 'WebGPUKernel',
  headlessgl: 'HeadlessGLKernel',
  webgl2: 'WebGL2Kernel',
  webgl: 'WebGLKernel',
  webasm: 'WebAssemblyKernel',
  cpu: 'CPUKernel',
};

/**
 * headlessgl: before a kernel reads its own previous output, give the kernel a fresh output texture.
 * Left to gpu.js (immutable kernels), the kernel renders into a texture it kept from an earlier call,
 * sized for that call — wrong values, or the wrong number of them, when sizes change.
 */
function detachOwnOutput(k: GpuKernel, values: readonly unknown[]): void {
  const gl = k.kernel;
  const own = gl?.texture?.texture;
  if (!gl || own === undefined || own === null) return;
  if (!values.some((v) => (v as { texture?: unknown } | null)?.texture === own)) return;
  gl.texture!.newTexture();
  gl._textureSwitched = true;
}

const UPLOAD: KernelSource = { name: 'upload', source: 'function (x) { return x[this.thread.x]; }' };

export class Runtime {
  readonly memory: Memory;
  readonly async: boolean;
  readonly #kernels = new Map<string, Compiled>();
  #queue: Promise<void> = Promise.resolve();
  /** An empty array for absent optional inputs (a bias); untracked, never freed. */
  readonly empty = new DeviceArray(0);
  /** What empty arrays are bound as (gpu.js cannot bind a zero-length buffer); made by init(). */
  #placeholder: unknown = null;

  constructor(
    readonly mode: GpuMode,
    private readonly gpu: GpuInstance,
  ) {
    this.async = mode === 'webgpu';
    this.memory = new Memory(
      (v) => v.delete(),
      (fn) => this.defer(fn),
    );
  }

  /** Make the device-side placeholder for empty arguments (before any kernel runs). */
  async init(): Promise<void> {
    this.empty.cell.value = new Float32Array(0);
    this.#placeholder = await this.#deviceValue(new Float32Array(1));
  }

  /** Run `k` with one thread per output element; returns the output's handle at once. */
  run(k: KernelSource, length: number, args: readonly Arg[]): DeviceArray {
    if (length > MAX_ELEMENTS) {
      throw new Error(
        `gpu (${this.mode}): ${k.name} would write ${length} elements; the gpu backend handles at most 2^24 = ${MAX_ELEMENTS} per array (flat indices are float32 inside kernels)`,
      );
    }
    for (const a of args) {
      if (a instanceof DeviceArray && a.disposed)
        throw new Error(
          `gpu (${this.mode}): ${k.name} was given a tensor whose device memory was already released (disposed, or freed at the end of a scope)`,
        );
    }
    const out = this.alloc(length);
    if (length === 0) return out;
    const compiled = this.#compile(k);
    if (!this.async) {
      try {
        out.cell.value = this.#call(compiled, length, args) as DeviceValue;
        this.#checkMode(k, compiled);
      } catch (e) {
        this.memory.dispose(out);
        throw e;
      }
      return out;
    }
    this.#enqueue([out], args, async () => {
      out.cell.value = (await this.#call(compiled, length, args)) as DeviceValue;
      this.#checkMode(k, compiled);
    });
    return out;
  }

  /** A new tracked handle; empty arrays get their (empty) value at once. */
  alloc(length: number): DeviceArray {
    const a = this.memory.track(new DeviceArray(length));
    if (length === 0) a.cell.value = new Float32Array(0);
    return a;
  }

  /**
   * Host work on device arrays (the CPU fallback): read `ins`, compute on the host, and store the
   * results in `outs` — new handles, or inputs updated in place. Runs now in the synchronous modes
   * and in queue order in webgpu mode.
   */
  hostWork(outs: readonly DeviceArray[], ins: readonly DeviceArray[], work: (values: Float32Array[]) => Float32Array[]): void {
    const store = (o: DeviceArray, v: DeviceValue) => (o.length === 0 ? undefined : this.memory.replace(o, v));
    if (!this.async) {
      const results = work(ins.map((a) => this.readSync(a)));
      outs.forEach((o, i) => store(o, this.#deviceValue(results[i]!) as DeviceValue));
      return;
    }
    this.#enqueue(outs, ins, async () => {
      // (Not read(): an input updated in place is also an output, whose `ready` is this very task.
      // An input disposed since this task was queued is still readable: its free is queued after us.)
      const results = work(await Promise.all(ins.map((a) => this.#readNow(a, true))));
      for (let i = 0; i < outs.length; i++) store(outs[i]!, (await this.#deviceValue(results[i]!)) as DeviceValue);
    });
  }

  /**
   * Give `target` the values of `source` (in place, for AdamW): its old buffer is freed and `source`
   * is released without freeing the buffer it handed over. In webgpu mode this happens in queue order.
   */
  moveInto(target: DeviceArray, source: DeviceArray): void {
    const move = () => {
      this.memory.replace(target, source.cell.value!);
      source.cell.value = null;
    };
    if (this.async) {
      this.#enqueue([target], [source], async () => move());
    } else {
      move();
    }
    this.memory.dispose(source);
  }

  /** Host float32 data onto the device — the one way data enters the backend. */
  upload(data: Float32Array): DeviceArray {
    // webasm and cpu keep arrays in host memory anyway: the array is the device value.
    if (this.mode !== 'webasm' && this.mode !== 'cpu') return this.run(UPLOAD, data.length, [data]);
    if (data.length > MAX_ELEMENTS) this.run(UPLOAD, data.length, []); // throws the size error
    const a = this.alloc(data.length);
    if (data.length > 0) a.cell.value = data;
    return a;
  }

  /** A device value holding `data`, made now (a Promise in webgpu mode): the upload kernel, run outside the queue. */
  #deviceValue(data: Float32Array): unknown {
    if (this.mode === 'webasm' || this.mode === 'cpu' || data.length === 0) return data;
    return this.#call(this.#compile(UPLOAD), data.length, [data]);
  }

  /**
   * Call a compiled kernel for `length` outputs. The size is checked on the kernel instance gpu.js
   * currently runs (it swaps instances when argument types change), and the result's size after: a
   * mismatch is a gpu.js state bug, reported rather than returned.
   */
  #call(c: Compiled, length: number, args: readonly Arg[]): unknown {
    const values = args.map((a) => this.#argValue(a));
    if (c.kernel.kernel?.output?.[0] !== length) c.kernel.setOutput([length]);
    if (this.mode === 'headlessgl' || this.mode === 'webgl2' || this.mode === 'webgl') detachOwnOutput(c.kernel, values);
    const r = c.kernel(...values);
    const made = (r as { output?: number[] } | null)?.output?.[0];
    if (made !== undefined && made !== length)
      throw new Error(`gpu (${this.mode}): internal error: asked gpu.js for ${length} elements, it made ${made}`);
    return r;
  }

  /** The values of `a`, once every kernel queued before this call has run. */
  async read(a: DeviceArray): Promise<Float32Array> {
    if (a.ready) await a.ready;
    return this.#readNow(a);
  }

  /**
   * Read without waiting for `a.ready`: inside a queued task, where everything before it has run.
   * `queued`: the read belongs to work queued before any later dispose() of `a`, whose free waits for it.
   */
  async #readNow(a: DeviceArray, queued = false): Promise<Float32Array> {
    const v = this.#readable(a, queued);
    if (v instanceof Float32Array) return v.slice();
    const r = await v.toArray();
    return r instanceof Float32Array ? r : Float32Array.from(r as ArrayLike<number>);
  }

  /** The values of `a` now: only in the synchronous modes (webgpu reads through a Promise). */
  readSync(a: DeviceArray): Float32Array {
    const v = this.#readable(a);
    if (v instanceof Float32Array) return v.slice();
    const r = v.toArray();
    if (r instanceof Promise) throw new Error(`gpu (${this.mode}): reads asynchronously; use await t.data()`);
    return r instanceof Float32Array ? r : Float32Array.from(r as ArrayLike<number>);
  }

  #readable(a: DeviceArray, queued = false): DeviceValue {
    if (a.error) throw a.error;
    if (a.disposed && !queued)
      throw new Error(
        `gpu (${this.mode}): cannot read a tensor whose device memory was already released (disposed, or freed at the end of a scope)`,
      );
    if (a.value === null)
      throw new Error(`gpu (${this.mode}): the tensor has not been computed yet; read it with await t.data()`);
    return a.value;
  }

  /** Wait until every queued kernel has run (webgpu) and the device is idle (GL). */
  async sync(): Promise<void> {
    await this.#queue;
    this.gpu.context?.finish?.();
  }

  /** In webgpu mode, run `fn` after everything queued so far; at once otherwise. */
  defer(fn: () => void): void {
    if (!this.async) fn();
    else this.#queue = this.#queue.then(fn, fn);
  }

  /**
   * Queue work that fills `outs` from `ins` (webgpu). A failure is stored in the outputs, and every
   * later kernel reading them fails the same way, so the error surfaces when a result is read.
   */
  #enqueue(outs: readonly DeviceArray[], ins: readonly Arg[], work: () => Promise<void>): void {
    const task = this.#queue
      .then(async () => {
        for (const a of ins) if (a instanceof DeviceArray && a.error) throw a.error;
        await work();
      })
      .catch((e: unknown) => {
        for (const o of outs) o.error ??= e instanceof Error ? e : new Error(String(e));
      });
    this.#queue = task;
    for (const o of outs) o.ready = task;
  }

  #argValue(a: Arg): unknown {
    if (!(a instanceof DeviceArray)) return a;
    if (a.length === 0) return this.#placeholder;
    if (a.value === null)
      throw new Error(`gpu (${this.mode}): internal error: an input has no device value (disposed: ${a.disposed})`);
    return a.value;
  }

  #compile(k: KernelSource): Compiled {
    let c = this.#kernels.get(k.name);
    if (!c) {
      c = { kernel: this.gpu.createKernel(k.source, { ...KERNEL_SETTINGS }), checked: false };
      this.#kernels.set(k.name, c);
    }
    return c;
  }

  /** gpu.js replaces a kernel it cannot build with its own cpu kernel, silently; we refuse to. */
  #checkMode(k: KernelSource, c: Compiled): void {
    if (c.checked) return;
    c.checked = true;
    const actual = c.kernel.kernel?.constructor.name;
    if (actual !== undefined && actual !== KERNEL_CLASS[this.mode]) {
      const why = c.kernel.kernel?.fallbackReason ?? 'no reason given';
      throw new Error(
        `gpu (${this.mode}): gpu.js ran kernel '${k.name}' as a ${actual} instead of a ${KERNEL_CLASS[this.mode]} (${why})`,
      );
    }
  }

  /** Number of compiled kernels (each op and variant compiles once). */
  get compiledKernels(): number {
    return this.#kernels.size;
  }

  destroy(): void {
    void this.gpu.destroy();
    this.#kernels.clear();
  }
}
