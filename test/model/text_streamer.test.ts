// Streaming detokenisation with the real LLM-jp-4 tokenizer: what is streamed, concatenated, is exactly
// decode(prompt + new) after decode(prompt); a character spread over byte-fallback pieces is never
// split or garbled, and text is released as soon as a character is complete.
import fc from 'fast-check';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkProperty } from '../../core/testing/index.js';
import { TextStreamer } from '../../model/text_streamer.js';
import { Tokenizer } from '../../model/tokenizer/index.js';

const tok = Tokenizer.fromFile(
  join(import.meta.dirname, '..', 'fixtures', 'tokenizer', 'llm-jp-tokenizer_ver4.0_alpha1.0.model'),
);
const byteIds = (s: string) =>
  [...new TextEncoder().encode(s)].map((b) => tok.pieceToId(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`));

/** Units of a token stream: one whole character as byte pieces, ordinary pieces, or control tokens. */
const whole = [
  ...['あ', '猫', '🍣', 'é', '€', '𠮷'].map(byteIds),
  ...['吾輩は猫である。', ' Hello world', 'こんにちは', '\n', ' 東京'].map((s) => tok.encodeIds(s)),
  [1],
  [2],
  [4],
  [tok.pieceToId('<|start|>')],
];
const unit = fc.constantFrom(...whole);
/** A lone byte: the start or the middle of a character with nothing to complete it. */
const loneByte = fc.constantFrom(...byteIds('あ🍣').map((id) => [id]));

/** Push every id, returning the chunks (the flush last) and what had been released at each unit's end. */
function stream(prompt: number[], units: number[][]): { chunks: string[]; atUnitEnds: string[] } {
  const s = new TextStreamer(tok, prompt);
  const chunks: string[] = [];
  const atUnitEnds: string[] = [];
  for (const u of units) {
    for (const id of u) chunks.push(s.push(id));
    atUnitEnds.push(chunks.join(''));
  }
  chunks.push(s.flush());
  return { chunks, atUnitEnds };
}

describe('TextStreamer', () => {
  it('streams decode(prompt + new) after decode(prompt), never splitting a character', () => {
    checkProperty(
      fc.record({ prompt: fc.array(unit, { maxLength: 3 }), gen: fc.array(unit, { minLength: 1, maxLength: 8 }) }),
      ({ prompt, gen }) => {
        const p = prompt.flat();
        const all = [...p, ...gen.flat()];
        const { chunks, atUnitEnds } = stream(p, gen);
        const expected = tok.decode(all).slice(tok.decode(p).length);
        expect(chunks.join('')).toBe(expected);
        for (const c of chunks) expect(c).not.toContain('\ufffd');
        // Released as soon as complete: at the end of each unit, everything so far is out.
        gen.forEach((_, i) => expect(expected.startsWith(atUnitEnds[i]!)).toBe(true));
        gen.forEach((_, i) =>
          expect(atUnitEnds[i]).toBe(tok.decode([...p, ...gen.slice(0, i + 1).flat()]).slice(tok.decode(p).length)),
        );
      },
    );
  });

  it('with broken byte sequences, still streams exactly what decode gives (U+FFFD per bad byte)', () => {
    checkProperty(
      fc.record({
        prompt: fc.array(unit, { maxLength: 2 }),
        gen: fc.array(fc.oneof(unit, loneByte), { minLength: 1, maxLength: 10 }),
      }),
      ({ prompt, gen }) => {
        const p = prompt.flat();
        const { chunks } = stream(p, gen);
        expect(chunks.join('')).toBe(tok.decode([...p, ...gen.flat()]).slice(tok.decode(p).length));
      },
    );
  });

  it('holds a partial character back and keeps the space a whole decode would print', () => {
    const s = new TextStreamer(tok, tok.encode('猫'));
    const [e0, e1, e2] = byteIds('あ');
    expect([s.push(e0!), s.push(e1!), s.push(e2!)]).toEqual(['', '', 'あ']);
    const hello = tok.encodeIds('Hello'); // '▁Hello'
    expect(tok.idToPiece(hello[0]!).startsWith('▁')).toBe(true);
    expect(hello.map((id) => s.push(id)).join('')).toBe(' Hello'); // not the start of the text: the space stays
    const fresh = new TextStreamer(tok, [1]); // after BOS only, decode drops the dummy-prefix space
    expect(hello.map((id) => fresh.push(id)).join('') + fresh.flush()).toBe('Hello');
    const cut = new TextStreamer(tok);
    expect([cut.push(e0!), cut.push(e1!), cut.flush()]).toEqual(['', '', '\ufffd\ufffd']);
  });
});
