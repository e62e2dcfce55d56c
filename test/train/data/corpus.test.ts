// Corpus discovery and the held-out split: the repository's corpus reads as the six LLM-jp-4
// sub-corpora, documents are cut at line ends without losing a line, and the split is deterministic,
// disjoint, complete and independent of the input order.
import fc from 'fast-check';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkProperty } from '../../../core/testing/index.js';
import { chunkText, loadCorpus, readSubCorpus } from '../../../train/data/corpus.js';
import { splitHeldOut } from '../../../train/data/split.js';

describe('loadCorpus', () => {
  it('reads the repository corpus as ja, en, zh, ko, sft and the project source as code', () => {
    const subs = loadCorpus();
    expect(subs.map((s) => s.name)).toEqual(['en', 'ja', 'ko', 'sft', 'zh', 'code']);
    expect(subs.find((s) => s.name === 'sft')!.kind).toBe('instruct');
    const ids = subs.flatMap((s) => s.docs.map((d) => d.id));
    expect(new Set(ids).size).toBe(ids.length);
    const code = subs.find((s) => s.name === 'code')!;
    const files = new Set(code.docs.map((d) => d.id.replace(/#\d+$/, '')));
    expect(files.has('code/core/tensor.ts')).toBe(true);
    expect(files.has('code/train/eval_items.ts')).toBe(false); // the multiple-choice answers stay out
    expect([...files].some((f) => f.includes('.test.ts') || f.startsWith('code/test/'))).toBe(false);
    const sft = subs.find((s) => s.name === 'sft')!;
    if (sft.kind !== 'instruct') throw new Error('unreachable');
    expect(sft.docs.length).toBe(427 + 151 + 450);
    expect(sft.docs[0]).toMatchObject({ id: 'sft/en_dolly_subset_CC-BY-SA-3.0.jsonl#dolly_en_000', input: '' });
  });

  it('fails clearly on a missing folder, a mixed folder, a bad record and an unknown name', () => {
    const dir = mkdtempSync(join(tmpdir(), 'llmjp4-corpus-'));
    expect(() => loadCorpus(join(dir, 'nope'))).toThrow(/corpus folder .*nope does not exist/);
    mkdirSync(join(dir, 'mixed'));
    writeFileSync(join(dir, 'mixed', 'a.txt'), 'text\n');
    writeFileSync(join(dir, 'mixed', 'b.jsonl'), '{"instruction":"q","output":"a"}\n');
    expect(() => readSubCorpus(join(dir, 'mixed'), 'mixed')).toThrow(/mixes \.txt and \.jsonl/);
    mkdirSync(join(dir, 'bad'));
    writeFileSync(join(dir, 'bad', 'x.jsonl'), '{"instruction":"q","output":"a"}\n{"instruction":"q"}\n');
    expect(() => readSubCorpus(join(dir, 'bad'), 'bad')).toThrow(/x\.jsonl line 2 has no 'output' string/);
    writeFileSync(join(dir, 'bad', 'x.jsonl'), 'not json\n');
    expect(() => readSubCorpus(join(dir, 'bad'), 'bad')).toThrow(/line 1 is not JSON/);
    expect(() => loadCorpus(undefined, { only: ['xx'], code: false })).toThrow(/no sub-corpus named xx/);
  });
});

describe('chunkText', () => {
  it('keeps every non-blank line once and in order, and cuts only at line ends past docChars', () => {
    const line = fc.oneof(
      fc.constant(''),
      fc.string({ maxLength: 30 }).map((s) => s.replaceAll('\n', ' ')),
    );
    checkProperty(
      fc.tuple(fc.array(line, { maxLength: 40 }), fc.integer({ min: 1, max: 120 })),
      ([lines, docChars]) => {
        const text = lines.join('\n');
        const chunks = chunkText(text, docChars);
        const visible = (t: string) => t.split('\n').filter((l) => l.trim() !== '');
        expect(chunks.flatMap(visible)).toEqual(visible(text));
        for (const c of chunks) expect(c.trim()).not.toBe('');
        const longest = Math.max(0, ...lines.map((l) => l.length));
        for (const c of chunks) expect(c.length).toBeLessThanOrEqual(docChars + longest + 1);
      },
      200,
    );
  });
});

describe('splitHeldOut', () => {
  const docsArb = fc
    .uniqueArray(fc.string({ minLength: 1, maxLength: 12 }), { minLength: 0, maxLength: 80 })
    .map((ids) => ids.map((id) => ({ id })));

  it('is disjoint and complete, keeps the input order, holds out round(f·n) clamped to [1, n−1], and ignores the input order', () => {
    checkProperty(
      fc.tuple(docsArb, fc.double({ min: 0.01, max: 0.9, noNaN: true }), fc.integer()),
      ([docs, f, seed]) => {
        const { train, valid } = splitHeldOut(docs, { validFraction: f });
        const ids = (xs: { id: string }[]) => xs.map((d) => d.id);
        expect(new Set([...ids(train), ...ids(valid)]).size).toBe(docs.length);
        expect(train.length + valid.length).toBe(docs.length);
        const order = new Map(docs.map((d, i) => [d.id, i]));
        for (const part of [train, valid])
          for (let i = 1; i < part.length; i++) expect(order.get(part[i]!.id)!).toBeGreaterThan(order.get(part[i - 1]!.id)!);
        const n = docs.length;
        expect(valid.length).toBe(n < 2 ? 0 : Math.min(n - 1, Math.max(1, Math.round(f * n))));
        // Another input order, same split.
        const shuffled = [...docs].sort(
          (a, b) => ((a.id.charCodeAt(0) * 31 + seed) % 7) - ((b.id.charCodeAt(0) * 31 + seed) % 7),
        );
        expect(ids(splitHeldOut(shuffled, { validFraction: f }).valid).sort()).toEqual(ids(valid).sort());
      },
      150,
    );
  });

  it('depends on the salt, and rejects duplicate ids and bad fractions', () => {
    const docs = Array.from({ length: 100 }, (_, i) => ({ id: `doc${i}` }));
    const a = splitHeldOut(docs).valid.map((d) => d.id);
    expect(a.length).toBe(5);
    expect(splitHeldOut(docs).valid.map((d) => d.id)).toEqual(a);
    expect(splitHeldOut(docs, { salt: 'other' }).valid.map((d) => d.id)).not.toEqual(a);
    expect(() => splitHeldOut([{ id: 'x' }, { id: 'x' }])).toThrow(/'x' appears twice/);
    expect(() => splitHeldOut(docs, { validFraction: 1 })).toThrow(/validFraction must be in \[0, 1\)/);
  });
});
