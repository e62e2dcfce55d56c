// Probes of the model loader's bad inputs (issue 18, items 3, 6 and the model side of 7): sizes in config.json
// bounded by memory before anything is built, wrong JSON types refused by field, integer or non-finite
// weights refused naming the tensor, ambiguous files (a tensor in two shards, an index beside a single file),
// a tokenizer larger than the model, a >2 GiB tensor and duplicate header names — each a clear error naming
// the file and what was expected.
import { closeSync, mkdtempSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { tensor } from '../../core/index.js';
import { createModel } from '../../model/create_model.js';
import { parseConfig } from '../../model/config.js';
import { SafetensorsFile } from '../../model/io/safetensors_read.js';
import { saveSafetensors } from '../../model/io/safetensors_write.js';
import { fromPretrained, savePretrained } from '../../model/pretrained.js';
import { preset } from '../../model/presets.js';
import { Tokenizer } from '../../model/tokenizer/index.js';
import { parseModelProto } from '../../model/tokenizer/model_proto.js';
import { runCli } from '../helpers/cli.js';

const TOKENIZER = join(import.meta.dirname, '..', 'fixtures', 'tokenizer', 'llm-jp-tokenizer_ver4.0_alpha1.0.model');
const tmp = () => mkdtempSync(join(tmpdir(), 'llmjp4-model-probe-'));
const small = {
  hidden_size: 32,
  intermediate_size: 64,
  num_hidden_layers: 1,
  num_attention_heads: 2,
  num_key_value_heads: 1,
  head_dim: 16,
};
const smallConfig = (over: Record<string, unknown> = {}) => ({ ...preset('tiny-llama', { ...small, vocab_size: 64 }), ...over });

/** A checkpoint folder of the small model; `over` edits config.json afterwards. */
function checkpoint(over: Record<string, unknown> = {}, opts: { maxShardBytes?: number } = {}): string {
  const dir = tmp();
  savePretrained(createModel(parseConfig(smallConfig()), { seed: 1 }), dir, opts);
  const path = join(dir, 'config.json');
  writeFileSync(path, JSON.stringify({ ...JSON.parse(readFileSync(path, 'utf8')), ...over }));
  return dir;
}

/** A safetensors file written by hand (so a header may name a tensor twice): entries of [name, dtype, shape, bytes]. */
function rawSafetensors(path: string, entries: [string, string, number[], Uint8Array][]): void {
  let at = 0;
  const fields = entries.map(([name, dtype, shape, b]) => {
    const f = `${JSON.stringify(name)}:${JSON.stringify({ dtype, shape, data_offsets: [at, at + b.length] })}`;
    at += b.length;
    return f;
  });
  const header = new TextEncoder().encode(`{${fields.join(',')}}`);
  const len = new Uint8Array(8);
  new DataView(len.buffer).setBigUint64(0, BigInt(header.length), true);
  writeFileSync(path, Buffer.concat([len, header, ...entries.map((e) => e[3])]));
}

describe('config.json sizes are bounded by memory before anything is allocated (item 3)', () => {
  it.each([
    ['vocab_size', { vocab_size: 3e7, hidden_size: 4096, head_dim: 128, num_attention_heads: 32 }, /vocab_size 30000000/],
    [
      'num_hidden_layers',
      { num_hidden_layers: 1e6, hidden_size: 1024, head_dim: 64, num_attention_heads: 16 },
      /num_hidden_layers 1000000/,
    ],
  ])('%s: fromPretrained and createModel refuse, naming config.json and the bytes', (_f, over, field) => {
    const dir = checkpoint(over);
    const t0 = performance.now();
    expect(() => fromPretrained(dir)).toThrow(
      /config\.json: the model it describes has .* parameters, .* GB even as q4_0 blocks, but .* GB of memory is available/,
    );
    expect(() => fromPretrained(dir)).toThrow(field);
    expect(() => createModel(parseConfig(smallConfig(over)))).toThrow(
      /createModel: .* GB as float32, but .* GB of memory is available/,
    );
    expect(performance.now() - t0).toBeLessThan(5000); // failed fast, nothing built
  });

  it('num_experts 1e6: refused naming the experts', () => {
    const c = parseConfig({ ...preset('tiny-qwen3-moe', { hidden_size: 1024, head_dim: 64 }), num_experts: 1e6 });
    expect(() => createModel(c)).toThrow(/num_experts 1000000.*most of it is num_hidden_layers × num_experts/);
  });

  it('max_position_embeddings 1e12 with a huge --max-new-tokens: the KV cache is refused naming its bytes', async () => {
    const dir = checkpoint({ max_position_embeddings: 1e12 });
    const r = await runCli('generate', '--model', dir, '--ids', '1,2', '--max-new-tokens', '1000000000000');
    expect(r.code).not.toBe(0);
    expect(r.err.join('\n')).toMatch(
      /KV cache for 1000000000002 positions .* needs .* GB \(\d+ bytes\) but .* GB of memory is available/,
    );
  });
});

describe('config.json types (item 4, model side)', () => {
  it.each([
    [{ tie_word_embeddings: 'false' }, /tie_word_embeddings must be true or false, got "false"/],
    [{ rope_theta: '1e4' }, /rope_theta must be a number, got "1e4"/],
    [{ rms_norm_eps: null }, /rms_norm_eps must be a number, got null/],
  ])('%j is refused naming config.json and the field', (over, msg) => {
    const dir = checkpoint(over);
    expect(() => fromPretrained(dir)).toThrow(/config\.json: /);
    expect(() => fromPretrained(dir)).toThrow(msg);
  });

  it('a null config.json or index names the file', () => {
    const dir = checkpoint();
    writeFileSync(join(dir, 'config.json'), 'null');
    expect(() => fromPretrained(dir)).toThrow(/config\.json: must be a JSON object, got null/);
    const sharded = checkpoint({}, { maxShardBytes: 2000 });
    writeFileSync(join(sharded, 'model.safetensors.index.json'), 'null');
    expect(() => fromPretrained(sharded)).toThrow(
      /model\.safetensors\.index\.json: must be a JSON object with a weight_map, got null/,
    );
  });
});

describe('weights (item 6)', () => {
  let dir: string;
  let state: Map<string, ReturnType<typeof tensor>>;
  beforeAll(() => {
    dir = checkpoint();
    state = createModel(parseConfig(smallConfig()), { seed: 1 }).stateDict();
  });
  const withWeight = (name: string, t: ReturnType<typeof tensor>, floatDtype?: 'BF16' | 'F16') => {
    const d = checkpoint();
    const tensors = new Map([...state].map(([k, v]) => [k, k === name ? t : v]));
    saveSafetensors(join(d, 'model.safetensors'), tensors, { floatDtype });
    return d;
  };

  it('an integer tensor in a float slot is refused naming the tensor and dtype', () => {
    const w = state.get('model.norm.weight')!;
    const d = withWeight('model.norm.weight', tensor(new Int32Array(w.shape[0]!).fill(7), { shape: w.shape, dtype: 'int32' }));
    expect(() => fromPretrained(d)).toThrow(
      /tensor 'model\.norm\.weight' is stored as I32, but a model weight must be floating point/,
    );
  });

  it.each([NaN, Infinity])('a %s weight is refused naming the tensor, for every held dtype', (bad) => {
    const w = state.get('model.layers.0.mlp.up_proj.weight')!;
    const data = Float32Array.from(w.dataSync() as Float32Array);
    data[5] = bad;
    const d = withWeight('model.layers.0.mlp.up_proj.weight', tensor(data, { shape: w.shape }));
    for (const opts of [{}, { dtype: 'bfloat16' as const }, { quantize: 'q8_0' as const }])
      expect(() => fromPretrained(d, opts)).toThrow(
        /tensor 'model\.layers\.0\.mlp\.up_proj\.weight' holds (NaN|Infinity) at element 5/,
      );
    // Stored 16-bit and kept so (--dtype auto): the bit patterns are checked.
    for (const st of ['BF16', 'F16'] as const)
      expect(() =>
        fromPretrained(withWeight('model.layers.0.mlp.up_proj.weight', tensor(data, { shape: w.shape }), st), { dtype: 'auto' }),
      ).toThrow(/tensor 'model\.layers\.0\.mlp\.up_proj\.weight' holds (NaN|Infinity) at element 5/);
  });

  it('a tensor present in two shards is refused naming both files', () => {
    const d = checkpoint({}, { maxShardBytes: 3000 });
    const index = JSON.parse(readFileSync(join(d, 'model.safetensors.index.json'), 'utf8')) as {
      weight_map: Record<string, string>;
    };
    const files = [...new Set(Object.values(index.weight_map))];
    const moved = Object.keys(index.weight_map).find((k) => index.weight_map[k] === files[0])!;
    // Add the first shard's tensor to the last shard too (the index still names the first).
    const last = SafetensorsFile.open(join(d, files.at(-1)!));
    const entries = new Map([...last.tensors.keys()].map((k) => [k, tensor(last.read(k).data, { shape: last.read(k).shape })]));
    last.close();
    entries.set(moved, state.get(moved)!);
    saveSafetensors(join(d, files.at(-1)!), entries);
    expect(() => fromPretrained(d)).toThrow(
      new RegExp(`tensor '${moved.replace(/\./g, '\\.')}' is in both .*${files[0]} and .*${files.at(-1)}`),
    );
  });

  it('an index beside a different model.safetensors: the single file wins, as in HF', () => {
    const d = checkpoint({}, { maxShardBytes: 3000 });
    const other = createModel(parseConfig(smallConfig()), { seed: 9 });
    saveSafetensors(join(d, 'model.safetensors'), other.stateDict());
    const loaded = fromPretrained(d);
    const key = 'model.embed_tokens.weight';
    expect(loaded.stateDict().get(key)!.toArraySync()).toEqual(other.stateDict().get(key)!.toArraySync());
  });

  it('a tokenizer larger than the model vocabulary is refused by generate and chat, naming both sizes', async () => {
    for (const cmd of [['generate', '--prompt', 'hi'], ['chat']]) {
      const r = await runCli(cmd[0]!, '--model', dir, '--tokenizer', TOKENIZER, ...cmd.slice(1));
      expect(r.code).not.toBe(0);
      expect(r.err.join('\n')).toMatch(/the tokenizer has \d+ pieces but the model's vocab_size is 64/);
    }
  });
});

// Not caught: a flip inside a piece's text that leaves valid UTF-8 and no duplicate is another valid
// piece (SentencePiece files carry no checksum); a flip to invalid UTF-8 or a duplicate piece is refused.
describe('a flipped byte in tokenizer.model (item 6)', () => {
  // The score (a float32 after tag 0x15) of a normal piece mid-vocabulary, found after its text's bytes.
  const bytes = readFileSync(TOKENIZER);
  const proto = parseModelProto(bytes, TOKENIZER);
  const k = proto.pieces!.findIndex((p, i) => i > 100000 && (p.type ?? 1) === 1);
  const text = new TextEncoder().encode(proto.pieces![k]!.piece!);
  const needle = Buffer.concat([Buffer.from([0x0a, text.length]), text, Buffer.from([0x15])]);
  const scoreAt = Buffer.from(bytes).indexOf(needle) + needle.length;
  const flipped = (at: number, bit: number) => {
    const c = Uint8Array.from(bytes);
    c[at]! ^= 1 << bit;
    return c;
  };

  it('in a score: the sign or an exponent bit is refused, naming the piece', () => {
    expect(new DataView(bytes.buffer, bytes.byteOffset + scoreAt, 4).getFloat32(0, true)).toBe(proto.pieces![k]!.score);
    expect(() => Tokenizer.fromBytes(flipped(scoreAt + 3, 7), 'tok.model')).toThrow(
      new RegExp(`tok\\.model: pieces\\[${k}\\] .* a Unigram score is a log-probability`),
    );
    for (const bit of [0, 1, 2])
      expect(() => Tokenizer.fromBytes(flipped(scoreAt + 3, bit), 'tok.model')).toThrow(
        /normal pieces are sorted by score; corrupt file\?/,
      );
  });
});

describe('unclear errors made clear (item 7, model side)', () => {
  it('duplicate tensor names in a header are named as such', () => {
    const path = join(tmp(), 'dup.safetensors');
    rawSafetensors(path, [
      ['a', 'F32', [1], new Uint8Array(4)],
      ['a', 'F32', [1], new Uint8Array(4)],
    ]);
    expect(() => SafetensorsFile.open(path)).toThrow(`duplicate tensor name 'a' in ${path}`);
  });

  it('a tensor too large for one typed array names the file and the tensor', () => {
    // A sparse file: 5e9 bytes of U8 take no disk, and past the typed-array limit no memory either.
    const path = join(tmp(), 'huge.safetensors');
    const n = 5e9;
    const header = new TextEncoder().encode(JSON.stringify({ big: { dtype: 'U8', shape: [n], data_offsets: [0, n] } }));
    const fd = openSync(path, 'w');
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(header.length));
    writeSync(fd, len);
    writeSync(fd, header);
    writeSync(fd, new Uint8Array(1), 0, 1, 8 + header.length + n - 1);
    closeSync(fd);
    const f = SafetensorsFile.open(path);
    expect(() => f.read('big')).toThrow(new RegExp(`${path}: tensor 'big' U8 \\[5000000000\\] .* cannot be read into memory`));
    f.close();
  });
});
