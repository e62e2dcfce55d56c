// The ModelProto reader/writer: the real LLM-jp-4 file parses to the options NOTES.md lists and
// re-serializes byte for byte; the wire codec round-trips negative int32s, floats and unknown fields.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkProperty } from '../../../core/testing/index.js';
import { decodeMessage, encodeMessage, type MessageSchema } from '../../../model/tokenizer/protobuf.js';
import { parseModelProto, PieceType, serializeModelProto } from '../../../model/tokenizer/index.js';
import { MODEL_PATH } from './fixtures.js';

describe('ModelProto', () => {
  const bytes = readFileSync(MODEL_PATH);
  const m = parseModelProto(bytes, MODEL_PATH);

  it('reads the real model: 196,608 pieces, its types and options', () => {
    const pieces = m.pieces!;
    expect(pieces.length).toBe(196608);
    expect(pieces.slice(0, 4).map((p) => [p.piece, p.type])).toEqual([
      ['<unk>', PieceType.UNKNOWN],
      ['<s>', PieceType.CONTROL],
      ['</s>', PieceType.CONTROL],
      ['<mask>', PieceType.USER_DEFINED],
    ]);
    expect(pieces[351]!.piece).toBe('<RESERVED_343>');
    expect([pieces[352]!.piece, pieces[607]!.piece, pieces[607]!.type]).toEqual(['<0x00>', '<0xFF>', PieceType.BYTE]);
    expect([pieces[609]!.piece, pieces[68052]!.piece]).toEqual(['▁', '\ufeff']); // a BOM piece survives decoding
    const t = m.trainer_spec!;
    expect([t.model_type, t.vocab_size, t.byte_fallback, t.split_digits, t.allow_whitespace_only_pieces, t.pad_id]).toEqual([
      1,
      196608,
      true,
      true,
      true,
      -1,
    ]);
    expect(t.user_defined_symbols!.length).toBe(349);
    expect(m.normalizer_spec).toEqual({
      name: 'identity',
      precompiled_charsmap: new Uint8Array(0),
      remove_extra_whitespaces: false,
    });
  });

  it('writes the real model back byte for byte', () => {
    expect(Buffer.from(serializeModelProto(m)).equals(bytes)).toBe(true);
  });
});

describe('protobuf wire codec', () => {
  const schema: MessageSchema = {
    name: 'T',
    fields: [
      { num: 1, name: 'i', kind: 'int32' },
      { num: 2, name: 'f', kind: 'float' },
      { num: 3, name: 's', kind: 'string', repeated: true },
      { num: 4, name: 'u', kind: 'uint64' },
      { num: 5, name: 'b', kind: 'bool' },
      { num: 6, name: 'raw', kind: 'bytes' },
    ],
  };

  it('round-trips int32 (negative ones as 10-byte varints), float32, strings, uint64, bools, bytes', () => {
    const value = fc.record({
      i: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
      f: fc.float({ noNaN: true }),
      s: fc.array(fc.string({ unit: 'binary' }), { minLength: 1 }), // an empty repeated field is absent
      u: fc.maxSafeNat(),
      b: fc.boolean(),
      raw: fc.uint8Array({ maxLength: 20 }),
    });
    checkProperty(value, (v) => expect(decodeMessage(encodeMessage(v, schema), schema, 'x')).toEqual(v), 200);
    expect([...encodeMessage({ i: -1 }, schema)]).toEqual([8, 255, 255, 255, 255, 255, 255, 255, 255, 255, 1]);
  });

  it('keeps unknown fields and writes them back', () => {
    const small: MessageSchema = { name: 'S', fields: [{ num: 1, name: 'i', kind: 'int32' }] };
    const bytes = encodeMessage({ i: 5, s: ['x'], f: 1.5 }, schema);
    const read = decodeMessage(bytes, small, 'x');
    expect(read.i).toBe(5);
    expect(read._unknown!.map((u) => u.num)).toEqual([2, 3]);
    expect([...encodeMessage(read, small)]).toEqual([...bytes]);
  });

  it('rejects a wrong wire type and invalid UTF-8, naming the field', () => {
    expect(() => decodeMessage(new Uint8Array([0x0a, 0]), schema, 'f.bin')).toThrow(
      'f.bin: wire type 2, expected 0 for a int32 in T.i',
    );
    expect(() => decodeMessage(new Uint8Array([0x1a, 1, 0xff]), schema, 'f.bin')).toThrow('f.bin: invalid UTF-8 in T.s[0]');
    expect(() => decodeMessage(new Uint8Array([0x08, 0x80]), schema, 'f.bin')).toThrow('f.bin: truncated varint in T.i');
  });
});
