// safetensors in and out: every dtype round-trips, savePretrained → fromPretrained is bit-exact (one file
// and sharded), and corrupt or truncated files — fast-check-generated headers, flipped bytes, cut files —
// fail with an error naming the file, never a crash, a hang or silently wrong tensors.
import fc from 'fast-check';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fcParams } from '../../core/testing/index.js';
import { fromPretrained, fromPretrainedBytes, savePretrained } from '../../model/pretrained.js';
import { createModel } from '../../model/causal_lm.js';
import { preset } from '../../model/presets.js';
import { parseHeader, SafetensorsFile, ST_DTYPES, type StDType } from '../../model/io/safetensors_read.js';
import { floatToBf16, floatToHalf, saveSafetensors } from '../../model/io/safetensors_write.js';
import { halfToFloat, bf16ToFloat } from '../../model/io/safetensors_read.js';
import { GOLDEN } from '../helpers/golden.js';

const dir = mkdtempSync(join(tmpdir(), 'llmjp4-st-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function bitsEqual(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  return a.length === b.length && Array.from(a).every((x, i) => Object.is(x, b[i]));
}

describe('safetensors writer', () => {
  it('round-trips every dtype exactly (values representable in it)', () => {
    const values: Record<StDType, number[]> = {
      F64: [0, -0, 1.5, -1e300, 5e-324, Math.PI],
      F32: [0, -0, 1.5, Math.fround(Math.PI), 3.4028234663852886e38, Math.fround(1e-40)],
      F16: [0, -0, 1, -2.5, 65504, 2 ** -24],
      BF16: [0, -0, 1, -2.5, 3.3895313892515355e38, 2 ** -133],
      I64: [0, -1, 2147483647, -2147483648, 5, 6],
      I32: [0, -1, 2147483647, -2147483648, 5, 6],
      I8: [0, -1, 127, -128, 5, 6],
      U8: [0, 1, 255, 128, 5, 6],
      BOOL: [0, 1, 1, 0, 0, 1],
    };
    const path = join(dir, 'dtypes.safetensors');
    saveSafetensors(
      path,
      Object.fromEntries(Object.entries(values).map(([d, v]) => [d, { data: v, shape: [2, 3], dtype: d as StDType }])),
      { metadata: { format: 'pt' } },
    );
    const f = SafetensorsFile.open(path);
    expect(f.metadata).toEqual({ format: 'pt' });
    for (const [d, v] of Object.entries(values)) {
      const r = f.read(d);
      expect(r.shape).toEqual([2, 3]);
      expect(r.dtype).toBe(ST_DTYPES[d as StDType].to);
      expect(bitsEqual(r.data, v), d).toBe(true);
    }
    f.close();
  });

  it('F16 and BF16 encoding round to nearest even and invert the decoders', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffff }), (h) => {
        const f = halfToFloat(h);
        if (!Number.isNaN(f)) expect(floatToHalf(f)).toBe(h);
        const b = bf16ToFloat(h);
        if (!Number.isNaN(b)) expect(floatToBf16(b)).toBe(h);
      }),
      fcParams(2000),
    );
    // Halfway cases go to the even neighbour; overflow goes to infinity.
    expect(halfToFloat(floatToHalf(1 + 2 ** -11))).toBe(1);
    expect(halfToFloat(floatToHalf(1 + 3 * 2 ** -11))).toBe(1 + 2 ** -9);
    expect(halfToFloat(floatToHalf(1e6))).toBe(Infinity);
    expect(bf16ToFloat(floatToBf16(1 + 2 ** -8))).toBe(1);
  });

  it('refuses duplicate names and wrong lengths, naming them', () => {
    expect(() => saveSafetensors(join(dir, 'x.safetensors'), { a: { data: [1, 2], shape: [3], dtype: 'F32' } })).toThrow(
      /'a' has 2 values for shape \[3\]/,
    );
    expect(() => saveSafetensors(join(dir, 'x.safetensors'), { __metadata__: { data: [1], shape: [1], dtype: 'F32' } })).toThrow(
      /reserved/,
    );
  });
});

describe('savePretrained → fromPretrained', () => {
  for (const variant of ['llama_tiny', 'qwen3moe_tiny', 'qwen3moe_tiny_dense0']) {
    it(`${variant}: bit-exact, one file and sharded, and the golden file loads as HF wrote it`, () => {
      const m = fromPretrained(join(GOLDEN, variant));
      const one = join(dir, `${variant}-one`),
        sharded = join(dir, `${variant}-sharded`);
      savePretrained(m, one);
      savePretrained(m, sharded, { maxShardBytes: 40_000 });
      expect(existsSync(join(sharded, 'model.safetensors.index.json'))).toBe(true);
      expect(readdirSync(sharded).filter((f) => /^model-\d{5}-of-\d{5}\.safetensors$/.test(f)).length).toBeGreaterThan(2);
      expect(SafetensorsFile.open(join(one, 'model.safetensors')).metadata).toEqual({ format: 'pt' });
      const want = m.stateDict();
      // From bytes in memory (as the browser playground loads it): the same tensors.
      const bytesOf = (d: string) =>
        readdirSync(d)
          .filter((f) => f.endsWith('.safetensors'))
          .map((name) => ({ name, bytes: new Uint8Array(readFileSync(join(d, name))) }));
      const config = JSON.parse(readFileSync(join(one, 'config.json'), 'utf8'));
      for (const back of [
        fromPretrained(one),
        fromPretrained(sharded),
        fromPretrainedBytes(config, bytesOf(one)),
        fromPretrainedBytes(config, bytesOf(sharded)),
      ]) {
        const got = back.stateDict();
        expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
        for (const [k, t] of want) expect(bitsEqual(got.get(k)!.dataSync(), t.dataSync()), k).toBe(true);
      }
      // Saving the sharded form again as one file removes the stale index (and vice versa).
      savePretrained(m, sharded);
      expect(existsSync(join(sharded, 'model.safetensors.index.json'))).toBe(false);
      expect(
        bitsEqual(
          fromPretrained(sharded).stateDict().get('model.norm.weight')!.dataSync(),
          want.get('model.norm.weight')!.dataSync(),
        ),
      ).toBe(true);
    });
  }

  it('a tied checkpoint leaves lm_head out and ties it back on load', () => {
    const m = createModel(preset('tiny-llama', { tie_word_embeddings: true, num_hidden_layers: 1 }), { seed: 3 });
    const out = join(dir, 'tied');
    savePretrained(m, out);
    expect(SafetensorsFile.open(join(out, 'model.safetensors')).tensors.has('lm_head.weight')).toBe(false);
    const back = fromPretrained(out);
    expect(back.lm_head.weight).toBe(back.model.embed_tokens.weight);
  });

  it('missing, mis-shaped and unexpected tensors are errors naming the key', () => {
    const m = createModel(preset('tiny-llama', { num_hidden_layers: 1 }), { seed: 1 });
    const good = join(dir, 'keys');
    savePretrained(m, good);
    const sd = m.stateDict();
    const write = (mutate: (s: Map<string, any>) => void) => {
      const s = new Map<string, any>(sd);
      mutate(s);
      saveSafetensors(join(good, 'model.safetensors'), s, { metadata: { format: 'pt' } });
    };
    write((s) => s.delete('model.norm.weight'));
    expect(() => fromPretrained(good)).toThrow(/missing 'model\.norm\.weight'/);
    write((s) => s.set('model.norm.weight', { data: [1, 2], shape: [2], dtype: 'F32' }));
    expect(() => fromPretrained(good)).toThrow(/'model\.norm\.weight' is \[2\], the model expects/);
    write((s) => s.set('model.layers.7.mlp.extra.weight', { data: [1], shape: [1], dtype: 'F32' }));
    expect(() => fromPretrained(good)).toThrow(/does not use: model\.layers\.7\.mlp\.extra\.weight/);
    rmSync(join(good, 'config.json'));
    expect(() => fromPretrained(good)).toThrow(/has no config\.json/);
  });
});

describe('corrupt and truncated safetensors files fail clearly', () => {
  const source = join(GOLDEN, 'qwen3moe_tiny_dense0', 'model.safetensors');
  const bytes = readFileSync(source);
  const headerLen = Number(bytes.readBigUInt64LE(0));
  const bad = join(dir, 'bad.safetensors');

  /** Open and read every tensor; an error must be an Error naming the file. Returns whether it threw. */
  function openAll(path: string): boolean {
    try {
      const f = SafetensorsFile.open(path);
      for (const name of f.tensors.keys()) f.read(name);
      f.close();
      return false;
    } catch (e) {
      expect(e).toBeInstanceOf(Error);
      expect((e as Error).message).toContain(path);
      return true;
    }
  }

  it('every truncation is refused', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: bytes.length - 1 }), (n) => {
        writeFileSync(bad, bytes.subarray(0, n));
        expect(openAll(bad)).toBe(true);
      }),
      fcParams(50),
    );
    writeFileSync(bad, bytes.subarray(0, 4 + headerLen));
    expect(() => SafetensorsFile.open(bad)).toThrow(/truncated|larger than the file/);
  });

  it('flipped header bytes give an error or a still-consistent file, never a crash', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 8 + headerLen - 1 }), fc.integer({ min: 1, max: 255 }), (at, x) => {
        const copy = Buffer.from(bytes);
        copy[at] ^= x;
        writeFileSync(bad, copy);
        openAll(bad);
      }),
      fcParams(200),
    );
  });

  it('fast-check-generated headers are validated: accepted ones cover the data exactly', () => {
    const dtype = fc.constantFrom(...Object.keys(ST_DTYPES), 'F8', 'int', 7 as unknown as string);
    const entry = fc.record({
      dtype,
      shape: fc.oneof(fc.array(fc.integer({ min: -1, max: 4 }), { maxLength: 3 }), fc.constant('x' as unknown as number[])),
      data_offsets: fc.oneof(
        fc.tuple(fc.integer({ min: -2, max: 64 }), fc.integer({ min: -2, max: 64 })),
        fc.array(fc.nat(64), { maxLength: 3 }),
      ),
    });
    fc.assert(
      fc.property(fc.dictionary(fc.string({ maxLength: 4 }), entry, { maxKeys: 4 }), fc.nat(64), (header, dataBytes) => {
        let parsed;
        try {
          parsed = parseHeader('gen.safetensors', header, dataBytes);
        } catch (e) {
          expect((e as Error).message).toMatch(/^gen\.safetensors: invalid safetensors header: /);
          return;
        }
        let covered = 0;
        for (const t of parsed.tensors.values()) {
          expect(t.end - t.begin).toBe(t.shape.reduce((a, b) => a * b, 1) * ST_DTYPES[t.dtype].bytes);
          covered += t.end - t.begin;
        }
        expect(covered).toBe(dataBytes);
      }),
      fcParams(200),
    );
  });

  it('a header length beyond the file, a non-JSON header and an unknown dtype are named', () => {
    const big = Buffer.from(bytes);
    big.writeBigUInt64LE(BigInt(bytes.length));
    writeFileSync(bad, big);
    expect(() => SafetensorsFile.open(bad)).toThrow(/header length .* larger than the file/);
    const junk = Buffer.from(bytes);
    junk[8] = 0x7b + 1;
    writeFileSync(bad, junk);
    expect(() => SafetensorsFile.open(bad)).toThrow(/not JSON/);
    writeFileSync(bad, Buffer.concat([Buffer.from([16, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('{"a":{"dtype":"Q"')]));
    expect(() => SafetensorsFile.open(bad)).toThrow(/header length|not JSON/);
  });
});
