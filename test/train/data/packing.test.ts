// Packing laws: every token of every document appears once and in order, a separator follows each
// document, rows have exactly seqLen tokens (the tail fewer), labels are the ids or −100 where masked;
// the endless stream visits each document once per epoch and resumes identically from its cursor.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkProperty } from '../../../core/testing/index.js';
import { epochOrder, packDocuments, PackedStream, type Row } from '../../../train/data/packing.js';
import { docIds, fromDocs, type TokenDocs } from '../../../train/data/token_cache.js';

const SEP = 2;
// Document ids never equal the separator, so the separator's positions are visible in the output.
const docsArb = fc.array(fc.array(fc.integer({ min: 10, max: 99 }), { maxLength: 12 }), { minLength: 1, maxLength: 10 });
const withMaskArb = docsArb.chain((docs) =>
  fc.tuple(
    fc.constant(docs),
    fc.tuple(...docs.map((d) => fc.array(fc.integer({ min: 0, max: 1 }), { minLength: d.length, maxLength: d.length }))),
  ),
);

const flat = (rows: readonly Row[], key: 'ids' | 'labels') => rows.flatMap((r) => Array.from(r[key]));
const joined = (docs: number[][], sep: number | null) => docs.flatMap((d) => (sep === null ? d : [...d, sep]));

describe('packDocuments', () => {
  it('lays documents end to end with a separator after each, in rows of exactly seqLen, labels = ids', () => {
    checkProperty(
      fc.tuple(docsArb, fc.integer({ min: 2, max: 9 })),
      ([docs, seqLen]) => {
        const { rows, tail } = packDocuments(
          fromDocs(
            docs.map((ids) => ({ ids })),
            false,
          ),
          { seqLen, separator: SEP },
        );
        for (const r of rows) expect(r.ids.length).toBe(seqLen);
        if (tail) (expect(tail.ids.length).toBeGreaterThan(0), expect(tail.ids.length).toBeLessThan(seqLen));
        const all = tail ? [...rows, tail] : rows;
        expect(flat(all, 'ids')).toEqual(joined(docs, SEP));
        expect(flat(all, 'labels')).toEqual(flat(all, 'ids'));
        expect(flat(all, 'ids').filter((t) => t === SEP).length).toBe(docs.length);
      },
      300,
    );
  });

  it('with a mask, labels are −100 exactly where the mask is 0 (no separator)', () => {
    checkProperty(
      fc.tuple(withMaskArb, fc.integer({ min: 2, max: 9 })),
      ([[docs, masks], seqLen]) => {
        const packed = fromDocs(
          docs.map((ids, i) => ({ ids, mask: masks[i]! })),
          true,
        );
        const { rows, tail } = packDocuments(packed, { seqLen, separator: null });
        const all = tail ? [...rows, tail] : rows;
        const ids = joined(docs, null);
        const mask = masks.flat();
        expect(flat(all, 'ids')).toEqual(ids);
        expect(flat(all, 'labels')).toEqual(ids.map((t, i) => (mask[i] ? t : -100)));
      },
      200,
    );
  });

  it('rejects a sequence length below 2 and a mask the documents lack', () => {
    const docs = fromDocs([{ ids: [10, 11] }], false);
    expect(() => packDocuments(docs, { seqLen: 1, separator: SEP })).toThrow(/seqLen must be an integer ≥ 2/);
    expect(() => packDocuments(docs, { seqLen: 4, separator: SEP, useMask: true })).toThrow(/no mask/);
  });
});

describe('PackedStream', () => {
  const stream = (docs: TokenDocs, seqLen: number, seed = 0) =>
    new PackedStream(docs, { seqLen, separator: SEP, seed, name: 'x' });

  it("each epoch is every document once, in that epoch's seeded order, rows of exactly seqLen", () => {
    checkProperty(
      fc.tuple(docsArb, fc.integer({ min: 2, max: 7 }), fc.nat(1000)),
      ([docs, seqLen, seed]) => {
        const packed = fromDocs(
          docs.map((ids) => ({ ids })),
          false,
        );
        const s = stream(packed, seqLen, seed);
        const epochTokens = joined(docs, SEP).length;
        const twoEpochs = Math.ceil((2 * epochTokens) / seqLen);
        const rows = Array.from({ length: twoEpochs }, () => s.next());
        for (const r of rows) expect(r.ids.length).toBe(seqLen);
        const expected = [0, 1].flatMap((e) =>
          Array.from(epochOrder(docs.length, seed, 'x', e)).flatMap((d) => [...docs[d]!, SEP]),
        );
        expect(flat(rows, 'ids').slice(0, 2 * epochTokens)).toEqual(expected);
      },
      200,
    );
  });

  it('restore(state) continues identically, through JSON', () => {
    checkProperty(
      fc.tuple(docsArb, fc.integer({ min: 2, max: 7 }), fc.nat(40), fc.nat(1000)),
      ([docs, seqLen, k, seed]) => {
        const packed = fromDocs(
          docs.map((ids) => ({ ids })),
          false,
        );
        const a = stream(packed, seqLen, seed);
        for (let i = 0; i < k; i++) a.next();
        const saved = JSON.parse(JSON.stringify(a.state()));
        const b = stream(packed, seqLen, seed);
        b.restore(saved);
        for (let i = 0; i < 10; i++) expect(b.next()).toEqual(a.next());
      },
      200,
    );
  });

  it('orders are permutations that differ by seed, name and epoch; bad states and empty input are errors', () => {
    const o = Array.from(epochOrder(50, 1, 'ja', 0));
    expect([...o].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(Array.from(epochOrder(50, 1, 'ja', 0))).toEqual(o);
    for (const other of [epochOrder(50, 2, 'ja', 0), epochOrder(50, 1, 'en', 0), epochOrder(50, 1, 'ja', 1)])
      expect(Array.from(other)).not.toEqual(o);
    const docs = fromDocs([{ ids: [10, 11, 12] }, { ids: [13] }], false);
    const s = stream(docs, 3);
    expect(() => s.restore({ epoch: 0, position: 2, offset: 0 })).toThrow(/bad state/);
    expect(() => s.restore({ epoch: 0, position: 0, offset: 9 })).toThrow(/past the end/);
    expect(() => new PackedStream(fromDocs([{ ids: [] }], false), { seqLen: 4, separator: null, seed: 0, name: 'e' })).toThrow(
      /no tokens to pack/,
    );
    expect(Array.from(docIds(docs, 1))).toEqual([13]);
  });
});
