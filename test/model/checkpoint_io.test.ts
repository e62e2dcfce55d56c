// Loading at any size, on small checkpoints: reads in tiny pieces equal whole reads; `llmjp4 init` writes
// createModel's weights (bit for bit in float32, rounded/quantized as ggml does otherwise) and they load
// back in every dtype; `quantize` then reload equals quantize-on-load; and every up-front refusal (a missing
// shard, a header promising more bytes than the file has, a model larger than memory) fails before allocating.
import {
  closeSync,
  ftruncateSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Tensor } from '../../core/index.js';
import { f32ToBf16 } from '../../kernels/cpu/quant/bfloat16.js';
import { f32ToF16 } from '../../kernels/cpu/quant/float16.js';
import { quantizeQ4_0 } from '../../kernels/cpu/quant/q4_0.js';
import { quantizeQ8_0 } from '../../kernels/cpu/quant/q8_0.js';
import { createModel } from '../../model/causal_lm.js';
import { configToJSON, type ModelConfig } from '../../model/config.js';
import { checkpointPlan } from '../../model/io/checkpoint_plan.js';
import { SafetensorsFile } from '../../model/io/safetensors_read.js';
import { saveSafetensors } from '../../model/io/safetensors_write.js';
import { preset } from '../../model/presets.js';
import { fromPretrained } from '../../model/pretrained.js';
import { writeRandomCheckpoint } from '../../train/cli/commands/init.js';
import { quantizeCheckpoint } from '../../train/cli/commands/quantize.js';

const root = mkdtempSync(join(tmpdir(), 'llmjp4-ckpt-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

// Rows of 64 so every Linear weight splits into blocks of 32; a pad token so the zeroed row is exercised.
const CONFIGS: Record<string, ModelConfig> = {
  llama: preset('tiny-llama', { vocab_size: 96, hidden_size: 64, intermediate_size: 96, num_hidden_layers: 2, pad_token_id: 3 }),
  qwen3_moe: preset('tiny-qwen3-moe', { vocab_size: 96, hidden_size: 64, moe_intermediate_size: 32, num_hidden_layers: 2 }),
};

/** A tensor's stored values (a stacked expert's slice: just its rows), as the typed array they are held in. */
const raw = (t: Tensor) => t.toBuf().data as Float32Array | Uint16Array | Uint8Array;
const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
const sameBytes = (a: ArrayBufferView, b: ArrayBufferView) => Buffer.compare(bytesOf(a), bytesOf(b)) === 0;

describe('reading in pieces', () => {
  it('a tensor read in 1-, 3- and 7-byte pieces equals the whole read, for every stored dtype', () => {
    const path = join(root, 'pieces.safetensors');
    saveSafetensors(path, {
      f32: { data: [1.5, -2, 3.25, 1e-30, 7], shape: [5], dtype: 'F32' },
      bf16: { data: [1, -2.5, 3, 0.125, 9, 10, 11], shape: [7], dtype: 'BF16' },
      f16: { data: [1, 2, 3], shape: [3], dtype: 'F16' },
      i64: { data: [1, -2, 3], shape: [3], dtype: 'I64' },
      u8: { data: [0, 255, 7, 9, 1], shape: [5], dtype: 'U8' },
    });
    const whole = SafetensorsFile.open(path);
    for (const pieceBytes of [1, 3, 7]) {
      const f = SafetensorsFile.open(path, { pieceBytes });
      for (const name of whole.tensors.keys()) {
        expect(sameBytes(f.readRaw(name), whole.readRaw(name)), `${name} @ ${pieceBytes}`).toBe(true);
        expect(Array.from(f.read(name).data)).toEqual(Array.from(whole.read(name).data));
      }
      f.close();
    }
    // 16-bit floats are read as their bit patterns; the float read widens them.
    expect(whole.readRaw('bf16')).toBeInstanceOf(Uint16Array);
    expect(Array.from(whole.read('bf16').data)).toEqual([1, -2.5, 3, 0.125, 9, 10, 11]);
    whole.close();
  });

  it('LLMJP4_READ_PIECE_BYTES and LLMJP4_CONVERT_CHUNK_VALUES change how a load reads, never what it loads', () => {
    const dir = join(root, 'env-pieces');
    writeRandomCheckpoint(dir, CONFIGS.llama!, 'bfloat16', 1);
    const whole = fromPretrained(dir, { dtype: 'auto' }).stateDict();
    process.env.LLMJP4_READ_PIECE_BYTES = '5';
    try {
      for (const [k, t] of fromPretrained(dir, { dtype: 'auto' }).stateDict())
        expect(sameBytes(raw(t), raw(whole.get(k)!)), k).toBe(true);
    } finally {
      delete process.env.LLMJP4_READ_PIECE_BYTES;
    }
    // Converting on load goes a few rows at a time: one row per chunk gives the same tensors as one chunk.
    for (const opts of [{ dtype: 'float32' }, { dtype: 'float16' }, { quantize: 'q4_0' }] as const) {
      const oneChunk = fromPretrained(dir, opts).stateDict();
      process.env.LLMJP4_CONVERT_CHUNK_VALUES = '1';
      try {
        for (const [k, t] of fromPretrained(dir, opts).stateDict())
          expect(sameBytes(raw(t), raw(oneChunk.get(k)!)), k).toBe(true);
      } finally {
        delete process.env.LLMJP4_CONVERT_CHUNK_VALUES;
      }
    }
    // Read straight into the array the CPU backend keeps (shared memory for a large weight): no copy on upload.
    const embed = fromPretrained(dir, { dtype: 'auto' }).model.embed_tokens.weight;
    expect(embed.dtype).toBe('bfloat16');
    expect((embed.storage.data as Uint16Array).buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(() => SafetensorsFile.open(join(dir, 'model.safetensors'), { pieceBytes: 2 ** 31 })).toThrow(
      /pieceBytes must be an integer/,
    );
  });
});

describe('llmjp4 init → fromPretrained', () => {
  for (const [arch, config] of Object.entries(CONFIGS)) {
    const reference = createModel(config, { seed: 5 }).stateDict(); // float32, HF's init
    const f32 = (k: string) => raw(reference.get(k)!) as Float32Array;

    it(`${arch}: the plan lists the model's state dict, names and shapes, in creation order`, () => {
      const plan = checkpointPlan(config);
      expect(plan.map((t) => t.name).sort()).toEqual([...reference.keys()].sort());
      for (const t of plan) expect(t.shape, t.name).toEqual(reference.get(t.name)!.shape);
    });

    it(`${arch}: float32 is createModel(config, { seed }) bit for bit`, () => {
      const dir = join(root, `${arch}-float32`);
      writeRandomCheckpoint(dir, config, 'float32', 5);
      const loaded = fromPretrained(dir).stateDict();
      for (const [k] of reference) expect(sameBytes(raw(loaded.get(k)!), f32(k)), k).toBe(true);
    });

    for (const dtype of ['bfloat16', 'float16'] as const) {
      it(`${arch}: ${dtype} loads kept as stored (Linear weights and the embedding), the rest in float32`, () => {
        const dir = join(root, `${arch}-${dtype}`);
        writeRandomCheckpoint(dir, config, dtype, 5);
        const narrow = dtype === 'bfloat16' ? f32ToBf16 : f32ToF16;
        const model = fromPretrained(dir, { dtype: 'auto' });
        for (const [k, t] of model.stateDict()) {
          const kept = t.dtype === dtype;
          expect(kept || t.dtype === 'float32', `${k} is ${t.dtype}`).toBe(true);
          expect(kept, k).toBe(/_proj\.weight$|lm_head|embed_tokens/.test(k));
          // Either the 16-bit patterns themselves, or their float32 values: both from the same rounding.
          const want = narrow(f32(k));
          expect(sameBytes(kept ? raw(t) : narrow(raw(t) as Float32Array), want), k).toBe(true);
        }
        // --dtype float32 widens the same file to float32 on load.
        for (const [, t] of fromPretrained(dir, { dtype: 'float32' }).stateDict()) expect(t.dtype).toBe('float32');
      });
    }

    for (const format of ['q8_0', 'q4_0'] as const) {
      it(`${arch}: ${format} stores ggml's blocks of the bfloat16 weights, and quantize → reload = quantize on load`, () => {
        const dir = join(root, `${arch}-${format}`);
        writeRandomCheckpoint(dir, config, format, 5);
        const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
        expect(cfg.quantization_config).toMatchObject({ format });
        const quantize = format === 'q8_0' ? quantizeQ8_0 : quantizeQ4_0;
        const fromInit = fromPretrained(dir).stateDict();
        for (const [k, t] of fromInit) {
          if (/_proj\.weight$|lm_head/.test(k)) {
            expect(t.dtype, k).toBe(format);
            // What ggml's quantizer makes of the bfloat16-rounded weight.
            const bf = new Float32Array(new Uint32Array(Array.from(f32ToBf16(f32(k)), (h) => h << 16)).buffer);
            expect(sameBytes(raw(t), quantize(bf, t.shape)), k).toBe(true);
          } else expect(t.dtype, k).not.toBe(format);
        }
        // The same model three ways: init q*, quantize(init bfloat16), bfloat16 quantized on load.
        const bfDir = join(root, `${arch}-bf16-for-${format}`);
        writeRandomCheckpoint(bfDir, config, 'bfloat16', 5);
        const qDir = join(root, `${arch}-quantized-${format}`);
        quantizeCheckpoint(bfDir, qDir, format);
        const reloaded = fromPretrained(qDir, { dtype: 'auto' }).stateDict();
        const onLoad = fromPretrained(bfDir, { dtype: 'auto', quantize: format }).stateDict();
        for (const [k, t] of onLoad) {
          expect(reloaded.get(k)!.dtype, k).toBe(t.dtype);
          expect(sameBytes(raw(reloaded.get(k)!), raw(t)), k).toBe(true);
        }
        expect(() => quantizeCheckpoint(qDir, join(root, 'twice'), format)).toThrow(/already quantized/);
        expect(() => fromPretrained(qDir, { quantize: format === 'q8_0' ? 'q4_0' : 'q8_0' })).toThrow(/is stored as q/);
      });
    }
  }

  it('shards at --max-shard-bytes as HF does, with an index, and loads back the same', () => {
    const dir = join(root, 'sharded');
    writeRandomCheckpoint(dir, CONFIGS.llama!, 'float32', 5, { maxShardBytes: 60_000 });
    const files = readdirSync(dir)
      .filter((f) => f.endsWith('.safetensors'))
      .sort();
    expect(files.length).toBeGreaterThan(2);
    files.forEach((f, i) =>
      expect(f).toBe(`model-${String(i + 1).padStart(5, '0')}-of-${String(files.length).padStart(5, '0')}.safetensors`),
    );
    const index = JSON.parse(readFileSync(join(dir, 'model.safetensors.index.json'), 'utf8'));
    expect(new Set(Object.values(index.weight_map))).toEqual(new Set(files));
    const ref = createModel(CONFIGS.llama!, { seed: 5 }).stateDict();
    for (const [k, t] of fromPretrained(dir).stateDict()) expect(sameBytes(raw(t), raw(ref.get(k)!)), k).toBe(true);
  });
});

describe('refused before allocating', () => {
  it('a shard the index names but the folder lacks: the error names the file', () => {
    const dir = join(root, 'missing-shard');
    writeRandomCheckpoint(dir, CONFIGS.llama!, 'float32', 5, { maxShardBytes: 60_000 });
    const gone = join(
      dir,
      'model-00002-of-' +
        readdirSync(dir)
          .find((f) => f.startsWith('model-00001-of-'))!
          .slice(15),
    );
    rmSync(gone);
    expect(() => fromPretrained(dir)).toThrow(new RegExp(`missing: .*${gone.replace(/[.]/g, '\\.')}`));
  });

  it('a header declaring a 3 GiB tensor in a short file names the file and the tensor', () => {
    const dir = join(root, 'truncated');
    writeRandomCheckpoint(dir, CONFIGS.llama!, 'float32', 5);
    const path = join(dir, 'model.safetensors');
    const name = 'model.embed_tokens.weight';
    const header = Buffer.from(
      JSON.stringify({ [name]: { dtype: 'F32', shape: [3 * 2 ** 28], data_offsets: [0, 3 * 2 ** 30] } }),
    );
    const fd = openSync(path, 'w');
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(header.length));
    writeSync(fd, len);
    writeSync(fd, header);
    writeSync(fd, Buffer.alloc(1024));
    closeSync(fd);
    expect(() => fromPretrained(dir)).toThrow(
      new RegExp(`${path.replace(/[.]/g, '\\.')}.*'${name.replace(/[.]/g, '\\.')}'.*outside`),
    );
  });

  it('a model larger than memory (sparse 3 GiB tensors) is refused with the bytes and the fix', () => {
    // The real 8B's shapes (one layer) without the bytes: a header written by hand, the file extended
    // with ftruncate (sparse: nothing on disk), config.json as savePretrained writes it.
    const dir = join(root, 'too-large');
    mkdirSync(dir);
    const config = preset('llm-jp-4-8b', { num_hidden_layers: 1 });
    const json: Record<string, unknown> = { __metadata__: { format: 'pt' } };
    let at = 0;
    for (const t of checkpointPlan(config)) {
      const bytes = t.shape.reduce((a, b) => a * b, 1) * 2;
      json[t.name] = { dtype: 'BF16', shape: t.shape, data_offsets: [at, at + bytes] };
      at += bytes;
    }
    const header = Buffer.from(JSON.stringify(json));
    const path = join(dir, 'model.safetensors');
    const fd = openSync(path, 'w');
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(header.length));
    writeSync(fd, len);
    writeSync(fd, header);
    ftruncateSync(fd, 8 + header.length + at);
    closeSync(fd);
    writeFileSync(join(dir, 'config.json'), JSON.stringify(configToJSON(config, 'LlamaForCausalLM')));
    const before = process.memoryUsage().rss;
    // float32 (the default): 7.3 GB of weights + one 16M-value chunk to widen; bfloat16 as stored 3.7 GB.
    expect(() => fromPretrained(dir, { availableBytes: 3e9 })).toThrow(
      new RegExp(
        `${dir}: the model needs 7\\.4\\d GB .* but 3\\.00 GB of memory is available to it .*; it would fit with --quantize q8_0 \\(2\\.\\d\\d GB\\) or --quantize q4_0 \\(2\\.\\d\\d GB\\)$`,
      ),
    );
    expect(() => fromPretrained(dir, { availableBytes: 1e9 })).toThrow(/no smaller format fits either/);
    // Nothing near the 3.2 GB of the embedding was allocated on the way to the refusals.
    expect(process.memoryUsage().rss - before).toBeLessThan(5e8);
  });

  it('quantizing a weight whose rows are not a multiple of 32 names the tensor', () => {
    const dir = join(root, 'odd-rows');
    writeRandomCheckpoint(dir, preset('tiny-llama', { vocab_size: 40, hidden_size: 40, intermediate_size: 48 }), 'float32', 0);
    expect(() => fromPretrained(dir, { quantize: 'q8_0' })).toThrow(
      /tensor 'model\.layers\.0\.self_attn\.q_proj\.weight' \[\d+,40\] cannot be q8_0/,
    );
  });
});
