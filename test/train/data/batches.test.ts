// The stage batches on a small prepared corpus: int32 [B, T] tensors, the mixture's sources in
// proportion, mid-training half instruction text, SFT labels only on assistant tokens (packed or padded),
// and every stream's JSON cursor resuming identically.
import { beforeAll, describe, expect, it } from 'vitest';
import { midtrainBatches, pretrainBatches, sftBatches, type Batch, type BatchStream } from '../../../train/data/batches.js';
import { prepareData, subCorpus, type PreparedData } from '../../../train/data/prepare.js';
import { smallCorpus, SMALL } from './fixture.js';

let data: PreparedData;
beforeAll(() => {
  data = prepareData({ ...smallCorpus(), ...SMALL });
});

const rows = (t: Batch['inputIds']) => t.toArraySync() as number[][];

/** Draw k batches, save the cursor through JSON, and check a restored stream continues identically. */
function checkResume(make: () => BatchStream, k: number): void {
  const a = make();
  for (let i = 0; i < k; i++) a.next();
  const b = make();
  b.restore(JSON.parse(JSON.stringify(a.state())));
  for (let i = 0; i < 3; i++) {
    const [x, y] = [a.next(), b.next()];
    expect(rows(y.inputIds)).toEqual(rows(x.inputIds));
    expect(rows(y.labels)).toEqual(rows(x.labels));
    expect(y.sources).toEqual(x.sources);
  }
}

describe('pretrainBatches', () => {
  it('gives int32 [B, T] ids with labels = ids, sources in proportion to the weights', () => {
    const s = pretrainBatches(data, { batchSize: 4, seqLen: 32, weights: { en: 3, ja: 1 } });
    const sources: string[] = [];
    for (let i = 0; i < 10; i++) {
      const b = s.next();
      expect([b.inputIds.shape, b.inputIds.dtype, b.labels.shape, b.labels.dtype]).toEqual([[4, 32], 'int32', [4, 32], 'int32']);
      expect(rows(b.labels)).toEqual(rows(b.inputIds));
      expect(b.targets).toBe(4 * 31);
      sources.push(...b.sources);
    }
    expect(sources.filter((x) => x === 'en').length).toBe(30);
    // Documents start with BOS and end with EOS.
    const text = data.tokenizer.decodeWithSpecial(
      rows(pretrainBatches(data, { batchSize: 1, seqLen: 2000, weights: { ja: 1 } }).next().inputIds)[0]!,
    );
    expect(text.startsWith('<|startoftext|>')).toBe(true);
    expect(text).toContain('<|return|><|startoftext|>');
  });

  it("defaults to LLM-jp-4's shares of the sub-corpora present, resumes identically, and checks its options", () => {
    const s = pretrainBatches(data, { batchSize: 50, seqLen: 16 });
    const en = s.next().sources.filter((x) => x === 'en').length;
    expect(Math.abs(en - (50 * 0.735) / (0.735 + 0.155))).toBeLessThanOrEqual(1); // no code, zh or ko here
    checkResume(() => pretrainBatches(data, { batchSize: 3, seqLen: 16, seed: 5, weights: { en: 1, ja: 1 } }), 7);
    expect(() => pretrainBatches(data, { batchSize: 2, seqLen: 16, weights: { fr: 1 } })).toThrow(/no sub-corpus 'fr'/);
    expect(() => pretrainBatches(data, { batchSize: 0, seqLen: 16 })).toThrow(/batchSize must be a positive integer/);
  });
});

describe('midtrainBatches', () => {
  it('takes half its rows from instruction text, trained on every token', () => {
    const s = midtrainBatches(data, { batchSize: 10, seqLen: 32, weights: { en: 1, ja: 1 } });
    const b = s.next();
    expect(b.sources.filter((x) => x === 'sft').length).toBe(5);
    expect(Math.abs(b.sources.filter((x) => x === 'en').length - b.sources.filter((x) => x === 'ja').length)).toBeLessThanOrEqual(
      1,
    );
    expect(rows(b.labels)).toEqual(rows(b.inputIds));
    checkResume(() => midtrainBatches(data, { batchSize: 4, seqLen: 24, weights: { en: 1, ja: 1 } }), 5);
  });
});

describe('sftBatches', () => {
  const assistantText = (b: Batch) => rows(b.labels).map((r) => data.tokenizer.decodeWithSpecial(r.filter((x) => x !== -100)));

  it('packed: labels only on the assistant tokens, which decode to final-channel replies', () => {
    const s = sftBatches(data, { batchSize: 8, seqLen: 256 });
    const b = s.next();
    const ids = rows(b.inputIds);
    const labels = rows(b.labels);
    for (const [r, row] of labels.entries())
      for (const [t, l] of row.entries()) expect(l === -100 || l === ids[r]![t]).toBe(true);
    const joined = assistantText(b).join('');
    expect(joined).toContain('<|return|>');
    expect(joined).not.toContain('<|start|>user');
    expect(b.targets).toBeLessThan(8 * 255);
    checkResume(() => sftBatches(data, { batchSize: 2, seqLen: 64, seed: 3 }), 6);
  });

  it('padded: one record per row, right-padded, attention mask 0 on padding; too-long records are skipped', () => {
    const s = sftBatches(data, { batchSize: 3, seqLen: 512, mode: 'pad' }) as BatchStream & { skipped: number };
    const b = s.next();
    expect(b.attentionMask!.shape).toEqual([3, 512]);
    const att = rows(b.attentionMask!);
    const ids = rows(b.inputIds);
    const labels = rows(b.labels);
    for (let r = 0; r < 3; r++) {
      const n = att[r]!.indexOf(0) === -1 ? 512 : att[r]!.indexOf(0);
      expect(att[r]!.slice(n).every((x) => x === 0)).toBe(true);
      expect(ids[r]!.slice(n).every((x) => x === data.tokenizer.padId)).toBe(true);
      expect(labels[r]!.slice(n).every((x) => x === -100)).toBe(true);
      expect(data.tokenizer.decodeWithSpecial(ids[r]!.slice(0, n)).startsWith('<|start|>system')).toBe(true);
      expect(assistantText(b)[r]!).toMatch(/^<\|channel\|>final<\|message\|>[\s\S]*<\|return\|>$/);
    }
    // Independently of the stream: the train records whose tokens exceed seqLen, read off the prepared data.
    const sft = subCorpus(data, 'sft').train;
    const lengths = Array.from({ length: sft.offsets.length - 1 }, (_, d) => sft.offsets[d + 1]! - sft.offsets[d]!);
    const tooLong = lengths.filter((n) => n > 512).length;
    expect(tooLong).toBeGreaterThan(0); // the fixture exercises the skipping
    expect(s.skipped).toBe(tooLong);
    // And the stream really leaves them out: two epochs of one-row batches show every other record, each once per epoch.
    const one = sftBatches(data, { batchSize: 1, seqLen: 512, mode: 'pad' });
    const seen = new Set<string>();
    for (let i = 0; i < 2 * lengths.length; i++) seen.add(rows(one.next().inputIds)[0]!.join(','));
    expect(seen.size).toBe(lengths.length - tooLong);
    checkResume(() => sftBatches(data, { batchSize: 2, seqLen: 512, mode: 'pad', seed: 1 }), 4);
    expect(() => sftBatches(data, { batchSize: 2, seqLen: 8, mode: 'pad' })).toThrow(/no record of 'sft' fits in 8 tokens/);
    expect(() => sftBatches(data, { batchSize: 2, seqLen: 64, source: 'ja' })).toThrow(/'ja' is not instruction records/);
  });
});
