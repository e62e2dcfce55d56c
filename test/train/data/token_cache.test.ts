// The token cache: entries round-trip, a second run reads instead of tokenizing, a change to one
// document's text re-tokenizes only its sub-corpus, another tokenizer re-tokenizes everything, and a
// truncated or corrupt entry is rebuilt rather than trusted.
import fc from 'fast-check';
import { appendFileSync, copyFileSync, mkdtempSync, readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkProperty } from '../../../core/testing/index.js';
import { prepareData } from '../../../train/data/prepare.js';
import { cacheKey, cachedTokenDocs, fromDocs, readTokenCache, writeTokenCache } from '../../../train/data/token_cache.js';
import { smallCorpus, SMALL } from './fixture.js';

describe('token cache file', () => {
  it('round-trips documents with and without a mask', () => {
    const dir = mkdtempSync(join(tmpdir(), 'llmjp4-tc-'));
    const docs = fc.array(fc.array(fc.integer({ min: -5, max: 200000 }), { maxLength: 20 }), { maxLength: 8 });
    checkProperty(
      fc.tuple(docs, fc.boolean()),
      ([ds, withMask]) => {
        const td = fromDocs(
          ds.map((ids) => ({ ids, mask: ids.map((x) => x & 1) })),
          withMask,
        );
        const path = join(dir, 'x.bin');
        writeTokenCache(path, 'k1', td);
        expect(readTokenCache(path, 'k1')).toEqual(td);
        expect(readTokenCache(path, 'k2')).toBeNull(); // another key is a miss
      },
      40,
    );
  });

  it('computes on a miss, reads on a hit, and rebuilds a truncated or corrupt entry', () => {
    const dir = mkdtempSync(join(tmpdir(), 'llmjp4-tc-'));
    let calls = 0;
    const compute = () => (calls++, fromDocs([{ ids: [5, 6, 7] }, { ids: [8] }], false));
    const key = cacheKey(['a', 'b']);
    const first = cachedTokenDocs(dir, 'ja.train', key, compute);
    expect([first.hit, calls]).toEqual([false, 1]);
    expect(cachedTokenDocs(dir, 'ja.train', key, compute).hit).toBe(true);
    expect(calls).toBe(1);
    truncateSync(first.path, readFileSync(first.path).length - 3);
    expect(cachedTokenDocs(dir, 'ja.train', key, compute).hit).toBe(false);
    appendFileSync(first.path, 'x');
    expect(cachedTokenDocs(dir, 'ja.train', key, compute).hit).toBe(false);
    writeFileSync(first.path, 'garbage');
    const again = cachedTokenDocs(dir, 'ja.train', key, compute);
    expect([again.hit, calls]).toEqual([false, 4]);
    expect(Array.from(again.docs.ids)).toEqual([5, 6, 7, 8]);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]); // atomic writes leave nothing behind
    // A new key for the same name replaces the stale entry; other names stay.
    cachedTokenDocs(dir, 'ja.valid', key, compute);
    const next = cachedTokenDocs(dir, 'ja.train', cacheKey(['a', 'c']), compute);
    expect(readdirSync(dir).sort()).toEqual([
      `ja.train-${cacheKey(['a', 'c']).slice(0, 16)}.bin`,
      `ja.valid-${key.slice(0, 16)}.bin`,
    ]);
    expect(next.hit).toBe(false);
    expect(() => cachedTokenDocs(dir, '../evil', key, compute)).toThrow(/entry name/);
  });

  it('keys are length-prefixed: moving a boundary between parts changes the key', () => {
    expect(cacheKey(['ab', 'c'])).not.toBe(cacheKey(['a', 'bc']));
    expect(cacheKey(['ab', 'c'])).toBe(cacheKey(['ab', 'c']));
  });
});

describe('prepareData and the cache', () => {
  it('re-tokenizes exactly what changed: one text, or everything for another tokenizer', () => {
    const { corpusDir, cacheDir } = smallCorpus();
    const first = prepareData({ corpusDir, cacheDir, ...SMALL });
    expect(first.tokenizedTokens).toBeGreaterThan(0);
    const second = prepareData({ corpusDir, cacheDir, ...SMALL });
    expect(second.tokenizedTokens).toBe(0);
    for (const [i, s] of second.subCorpora.entries()) expect(s).toEqual(first.subCorpora[i]);
    // Edit the first line of one English file (the small tokenizer is cached by its training text, so
    // it is retrained too; pin it by passing the first run's file, so only the texts change).
    const tokenizer = join(cacheDir, 'pinned.model');
    copyFileSync(first.tokenizerPath, tokenizer);
    prepareData({ corpusDir, cacheDir, ...SMALL, tokenizer });
    const carol = join(corpusDir, 'en', 'carol.txt');
    writeFileSync(carol, 'An edited first line.\n' + readFileSync(carol, 'utf8'));
    const edited = prepareData({ corpusDir, cacheDir, ...SMALL, tokenizer });
    const en = edited.subCorpora.find((s) => s.name === 'en')!;
    const enTokens = en.train.ids.length + en.valid.ids.length;
    expect(edited.tokenizedTokens).toBeGreaterThan(0);
    expect(edited.tokenizedTokens).toBeLessThanOrEqual(enTokens); // ja and sft came from the cache
    // Another tokenizer (the real LLM-jp-4 one) misses every entry.
    const real = prepareData({
      corpusDir,
      cacheDir,
      ...SMALL,
      tokenizer: 'test/fixtures/tokenizer/llm-jp-tokenizer_ver4.0_alpha1.0.model',
      only: ['ja'],
    });
    const ja = real.subCorpora[0]!;
    expect(real.tokenizedTokens).toBe(ja.train.ids.length + ja.valid.ids.length);
  });
});
