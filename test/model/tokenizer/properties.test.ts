// Laws of the tokenizer on the real LLM-jp-4 model over arbitrary Unicode text (every plane, control
// characters, long whitespace runs, special-token look-alikes; lone surrogates excluded): decoding
// undoes encoding (up to ▁ → space), ids stay in range, nothing throws; and corrupt model files fail
// with an Error that names the file, never a TypeError or a hang.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkProperty } from '../../../core/testing/index.js';
import {
  PieceType,
  SentencePieceModel,
  Tokenizer,
  serializeModelProto,
  type ModelProto,
} from '../../../model/tokenizer/index.js';
import { llmjp4 } from './fixtures.js';

/** One code point from anywhere in Unicode except the surrogate block. */
const anyCodePoint = fc
  .oneof(
    fc.integer({ min: 0, max: 0xd7ff }),
    fc.integer({ min: 0xe000, max: 0x10ffff }),
    fc.integer({ min: 0x3000, max: 0x9fff }),
    fc.integer({ min: 0, max: 0x7f }),
  )
  .map((c) => String.fromCodePoint(c));

/** Pieces of text that stress the encoder: spaces and their runs, controls, specials, ▁ itself. */
const tricky = fc.oneof(
  fc.constantFrom(
    ' ',
    '\n',
    '\t',
    '\r',
    '\u3000',
    '\u00a0',
    '\u0000',
    '\u007f',
    '\ufeff',
    '\u200b',
    '\u0301',
    '\ufffd',
    '<mask>',
    '<s>',
    '<|end|>',
    '<|start|>',
    '12345',
    'Ａ１',
    'ｶﾀｶﾅ',
    '𠮷',
    '😀',
  ),
  fc.integer({ min: 1, max: 300 }).map((n) => ' '.repeat(n)),
  fc.integer({ min: 1, max: 40 }).map((n) => '\n'.repeat(n)),
);

const text = fc
  .array(fc.oneof(anyCodePoint, tricky, fc.string({ maxLength: 8 })), { maxLength: 40 })
  .map((parts) => parts.join(''));
const noSpaceSymbol = text.map((s) => s.replaceAll('\u2581', ''));

describe('tokenizer properties (LLM-jp-4 model)', () => {
  it('decode(encode(s)) == s for text without a literal ▁, and ▁ decodes to a space', () => {
    const tok = llmjp4();
    checkProperty(noSpaceSymbol, (s) => expect(tok.decode(tok.encodeIds(s))).toBe(s), 300);
    checkProperty(text, (s) => expect(tok.decode(tok.encodeIds(s))).toBe(s.replaceAll('\u2581', ' ')), 100);
  });

  it('every id is in range, never <unk> (byte fallback), and pieces are the ids’ pieces', () => {
    const tok = llmjp4();
    checkProperty(
      text,
      (s) => {
        const { ids, pieces } = tok.tokenize(s);
        for (const id of ids) expect(id >= 1 && id < tok.vocabSize && Number.isInteger(id)).toBe(true);
        expect(pieces).toEqual(ids.map((id) => tok.idToPiece(id)));
        // HF level: the same text, except that old special names (`<mask>`) stay text there.
        if (!/<[A-Za-z_0-9/]+>/.test(s)) expect(tok.encode(s, { addBos: false })).toEqual(ids);
      },
      200,
    );
  });

  it('HF-level encoding with special tokens round-trips through decodeWithSpecial', () => {
    const tok = llmjp4();
    const names = ['<|start|>', '<|end|>', '<|message|>', '<|channel|>', '<|return|>', '<|reserved_100|>'];
    const withSpecials = fc
      .array(
        fc.oneof(
          noSpaceSymbol.filter((s) => !s.includes('<|')),
          fc.constantFrom(...names),
        ),
        { maxLength: 8 },
      )
      .map((p) => p.join(''));
    checkProperty(
      withSpecials,
      (s) => {
        const ids = tok.encode(s, { addBos: false, allowSpecial: true });
        expect(tok.decodeWithSpecial(ids)).toBe(s);
        expect(tok.encode(s)[0]).toBe(tok.bosId);
      },
      150,
    );
  });

  it('encodes long inputs in one pass (a 200,000-character whitespace run and a 1 MB mixed text)', () => {
    const tok = llmjp4();
    const spaces = ' '.repeat(200_000);
    expect(tok.decode(tok.encodeIds(spaces))).toBe(spaces);
    const mixed = '吾輩は猫である。 Hello,\tworld!\n😀 '.repeat(40_000);
    expect(tok.decode(tok.encodeIds(mixed))).toBe(mixed);
  });
});

/** A small valid model: <unk>, <s>, </s>, 256 byte pieces, a few normal pieces. */
function tinyModel(): ModelProto {
  const normal = ['▁', 'a', 'b', '▁a', 'ab', '▁ab', 'こ', 'こん'];
  return {
    pieces: [
      { piece: '<unk>', score: 0, type: PieceType.UNKNOWN },
      { piece: '<s>', score: 0, type: PieceType.CONTROL },
      { piece: '</s>', score: 0, type: PieceType.CONTROL },
      ...Array.from({ length: 256 }, (_, b) => ({
        piece: `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`,
        score: 0,
        type: PieceType.BYTE,
      })),
      ...normal.map((piece, i) => ({ piece, score: -1 - i })),
    ],
    trainer_spec: { vocab_size: 259 + normal.length, byte_fallback: true, pad_id: -1 },
    normalizer_spec: { name: 'identity', remove_extra_whitespaces: false },
  };
}

describe('corrupt model files', () => {
  const bytes = serializeModelProto(tinyModel());

  it('the tiny model itself loads and encodes', () => {
    const tok = Tokenizer.fromBytes(bytes, 'tiny.model');
    expect(tok.encodePieces('ab こんにちは')).toEqual([
      '▁ab',
      '▁',
      'こん',
      '<0xE3>',
      '<0x81>',
      '<0xAB>',
      '<0xE3>',
      '<0x81>',
      '<0xA1>',
      '<0xE3>',
      '<0x81>',
      '<0xAF>',
    ]);
  });

  it('byte flips and truncations either load a valid model or throw an Error naming the file', () => {
    const mutation = fc.record({
      flips: fc.array(fc.tuple(fc.nat(bytes.length - 1), fc.integer({ min: 1, max: 255 })), { maxLength: 4 }),
      cut: fc.option(fc.nat(bytes.length - 1), { nil: undefined }),
    });
    checkProperty(
      mutation,
      ({ flips, cut }) => {
        const b = bytes.slice(0, cut ?? bytes.length);
        for (const [at, x] of flips) if (at < b.length) b[at]! ^= x;
        let model: SentencePieceModel;
        try {
          model = SentencePieceModel.fromBytes(b, 'tiny.model');
        } catch (e) {
          expect(e).toBeInstanceOf(Error);
          expect((e as Error).constructor).toBe(Error); // not a TypeError / RangeError from a bad read
          expect((e as Error).message).toMatch(/^tiny\.model: /);
          return;
        }
        // Whatever loaded must still encode and decode without throwing.
        model.encode('ab こん\n');
      },
      400,
    );
  });

  it('names the problem: empty, truncated, not a model, unsupported options', () => {
    const load = (b: Uint8Array) => () => SentencePieceModel.fromBytes(b, 'x.model');
    expect(load(new Uint8Array(0))).toThrow('x.model: empty file');
    expect(load(bytes.slice(0, bytes.length - 3))).toThrow(/^x\.model: truncated/);
    expect(load(new TextEncoder().encode('{"not": "a model"}'))).toThrow(/^x\.model: /);
    const m = tinyModel();
    expect(load(serializeModelProto({ ...m, trainer_spec: { ...m.trainer_spec, model_type: 2 } }))).toThrow(
      'x.model: model_type BPE is not supported (only UNIGRAM)',
    );
    expect(load(serializeModelProto({ ...m, pieces: m.pieces!.slice(1) }))).toThrow('x.model: no UNKNOWN piece');
    expect(load(serializeModelProto({ ...m, pieces: [...m.pieces!, { piece: 'a' }] }))).toThrow("piece 'a' is defined twice");
    expect(load(serializeModelProto({ ...m, pieces: m.pieces!.filter((p) => p.piece !== '<0x41>') }))).toThrow(
      'only 255 of the 256 byte pieces',
    );
    expect(
      load(serializeModelProto({ ...m, normalizer_spec: { name: 'nmt_nfkc', precompiled_charsmap: new Uint8Array([1, 2]) } })),
    ).toThrow('only the identity normalizer is supported');
    expect(() => SentencePieceModel.fromFile('/nonexistent/x.model')).toThrow('cannot read tokenizer model /nonexistent/x.model');
  });
});
