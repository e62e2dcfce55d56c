// The SentencePiece golden data (SentencePiece 0.1.97 on the real LLM-jp-4 model): every encode case
// gives identical ids, pieces and decoded text, every decode case identical text.
import { describe, expect, it } from 'vitest';
import { decodeBytes } from '../../../model/tokenizer/index.js';
import { golden, llmjp4 } from './fixtures.js';

const g = golden();

describe('tokenizer golden (SentencePiece 0.1.97)', () => {
  it('has the cases the README promises', () => {
    expect(g.encode_cases.length).toBe(745);
    expect(g.decode_cases.length).toBe(17);
  });

  it('encodes every case to the same ids and pieces, and decodes them back to the same text', () => {
    const tok = llmjp4();
    const failures: string[] = [];
    for (const c of g.encode_cases) {
      const { ids, pieces } = tok.tokenize(c.text);
      if (JSON.stringify(ids) !== JSON.stringify(c.ids))
        failures.push(`${c.id}: ids ${JSON.stringify(ids)} ≠ ${JSON.stringify(c.ids)}`);
      if (JSON.stringify(pieces) !== JSON.stringify(c.pieces)) failures.push(`${c.id}: pieces differ`);
      if (tok.decode(c.ids) !== c.decoded) failures.push(`${c.id}: decode differs`);
      if (JSON.stringify(tok.encodeIds(c.text)) !== JSON.stringify(c.ids)) failures.push(`${c.id}: encodeIds differs`);
    }
    expect(failures).toEqual([]);
  });

  it('decodes every decode-only case to the same text', () => {
    const tok = llmjp4();
    for (const c of g.decode_cases) expect(tok.decode(c.ids), c.id).toBe(c.decoded);
  });

  it('follows the rules NOTES.md lists', () => {
    const tok = llmjp4();
    expect(tok.encodeIds('')).toEqual([]);
    expect(tok.encodeIds(' ')).toEqual([688]);
    expect(tok.encodeIds('<mask>')).toEqual([609, 3]); // user-defined pieces win
    expect(tok.encodeIds('a<pad>b')).toEqual([616, 4, 836]);
    expect(tok.encodePieces('<s>')).toEqual(['▁<', 's', '>']); // control pieces never match text
    expect(tok.encodePieces('\n\tx')).toEqual(['▁', '<0x0A>', '<0x09>', 'x']); // byte fallback
    expect(tok.decode([1, 43204])).toBe('Hello');
    expect(tok.decode([362, 616])).toBe('\n a'); // a byte piece first keeps the next piece's space
    expect(tok.decode([0, 616])).toBe(' ⁇  a');
  });

  it('reads byte runs as SentencePiece does: each bad byte is one U+FFFD', () => {
    expect(decodeBytes([0xe3, 0x81])).toBe('\ufffd\ufffd'); // truncated sequence (WHATWG would give one)
    expect(decodeBytes([0xc0, 0x80])).toBe('\ufffd\ufffd'); // overlong
    expect(decodeBytes([0xed, 0xa0, 0x80])).toBe('\ufffd\ufffd\ufffd'); // a surrogate
    expect(decodeBytes([0xf0, 0x9f, 0x98, 0x80, 0x41])).toBe('😀A');
    expect(decodeBytes([0xef, 0xbf, 0xbd])).toBe('\ufffd'); // a real U+FFFD is one character
  });

  it('rejects ids out of range with a clear error', () => {
    const tok = llmjp4();
    expect(() => tok.decode([196608])).toThrow('decode: piece id 196608 is out of range [0, 196608)');
    expect(() => tok.decode([-1])).toThrow('out of range');
    expect(() => tok.decode([1.5])).toThrow('out of range');
  });
});
