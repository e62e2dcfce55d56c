// The Unigram trainer on a slice of the demo texts (Botchan and A Christmas Carol): the model has
// LLM-jp-4's layout and options, loads from its file, round-trips the text it was trained on, is
// the same every run, and its seeds obey the piece rules.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  PieceType,
  SentencePieceModel,
  serializeModelProto,
  Tokenizer,
  llmjp4ReservedPieces,
} from '../../../model/tokenizer/index.js';
import { META_PIECES, trainFromDir, trainUnigram, writeModel } from '../../../model/tokenizer/trainer.js';
import { countWords, isValidPiece } from '../../../model/tokenizer/trainer_corpus.js';
import { isValidSeed, seedPieces } from '../../../model/tokenizer/trainer_seed.js';

const DATA = resolve(import.meta.dirname, '../../../train/data/corpus');
const slice = (name: string, chars: number) => readFileSync(join(DATA, name), 'utf8').slice(0, chars);
const lines = [
  ...slice('ja/soseki_botchan.txt', 40000).split('\n'),
  ...slice('en/dickens_a_christmas_carol.txt', 40000).split('\n'),
].filter((l) => l !== '');

describe('Unigram trainer', () => {
  const model = trainUnigram(lines, { vocabSize: 3000 });

  it('writes LLM-jp-4’s layout: 352 special pieces, 256 bytes, then normal pieces by score', () => {
    const pieces = model.pieces!;
    expect(pieces.length).toBe(3000);
    expect(pieces.slice(0, 352).map((p) => p.piece)).toEqual(llmjp4ReservedPieces());
    expect(pieces.slice(0, 352).map((p) => p.type)).toEqual([
      PieceType.UNKNOWN,
      PieceType.CONTROL,
      PieceType.CONTROL,
      ...Array(349).fill(PieceType.USER_DEFINED),
    ]);
    expect(
      pieces
        .slice(352, META_PIECES)
        .every((p, b) => p.type === PieceType.BYTE && p.piece === `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`),
    ).toBe(true);
    const normal = pieces.slice(META_PIECES);
    expect(normal.every((p) => p.type === undefined && p.score! < 0)).toBe(true);
    expect(normal.every((p, i) => i === 0 || p.score! <= normal[i - 1]!.score!)).toBe(true);
    expect(
      normal.every((p) =>
        isValidPiece(
          [...p.piece!].map((c) => c.codePointAt(0)!),
          16,
        ),
      ),
    ).toBe(true);
    expect(model.trainer_spec).toMatchObject({
      model_type: 1,
      vocab_size: 3000,
      byte_fallback: true,
      split_digits: true,
      allow_whitespace_only_pieces: true,
      unk_id: 0,
      bos_id: 1,
      eos_id: 2,
      pad_id: -1,
    });
    expect(model.normalizer_spec).toEqual({
      name: 'identity',
      precompiled_charsmap: new Uint8Array(0),
      remove_extra_whitespaces: false,
    });
  });

  it('saves a file the reader loads, with the same special tokens, round-tripping its training text', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'llmjp4-tok-')), 'small.model');
    writeModel(path, model);
    const tok = Tokenizer.fromFile(path);
    expect([tok.bosId, tok.eosId, tok.padId, tok.id('start')]).toEqual([1, 2, 4, 10]);
    for (const line of lines) expect(tok.decode(tok.encodeIds(line))).toBe(line);
    // It compresses: fewer tokens than characters on the Japanese text.
    const ja = lines.slice(0, 20).join('\n');
    expect(tok.encodeIds(ja).length).toBeLessThan(0.75 * [...ja].length);
    // Characters it never saw go to bytes, not <unk>.
    expect(tok.encodePieces('𠮷')).toEqual(['▁', '<0xF0>', '<0xA0>', '<0xAE>', '<0xB7>']);
  });

  it('is deterministic', () => {
    const again = trainUnigram(lines, { vocabSize: 3000 });
    expect(Buffer.from(serializeModelProto(again)).equals(Buffer.from(serializeModelProto(model)))).toBe(true);
  });

  it('trains from a folder of .txt and .jsonl files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'llmjp4-corpus-'));
    writeFileSync(join(dir, 'a.txt'), lines.slice(0, 100).join('\n'));
    writeFileSync(
      join(dir, 'b.jsonl'),
      lines
        .slice(100, 200)
        .map((l) => JSON.stringify({ instruction: l, output: [l] }))
        .join('\n'),
    );
    writeFileSync(join(dir, 'LICENSE.txt'), 'not training text');
    const m = new SentencePieceModel(trainFromDir(dir, { vocabSize: 900 }));
    expect(m.proto.trainer_spec!.input).toEqual([join(dir, 'a.txt'), join(dir, 'b.jsonl')]);
    expect(m.vocabSize).toBeLessThanOrEqual(900);
    expect(() => trainFromDir(join(dir, 'missing'), { vocabSize: 900 })).toThrow('does not exist');
    expect(() => trainUnigram(lines, { vocabSize: 600 })).toThrow('vocab size must be an integer above 608');
  });

  it('seeds only valid pieces, characters first', () => {
    const words = countWords(lines);
    const chars = new Set([...lines.join('')].map((c) => c.codePointAt(0)!).concat([0x2581]));
    const seeds = [...seedPieces(words, chars, { seedSize: 5000, maxLength: 16 }).keys()];
    expect(seeds.every((p) => isValidSeed(p, 16))).toBe(true);
    expect(seeds.slice(0, 3)).toContain('▁');
    expect(countWords(['a  b', ' c'])).toEqual(
      new Map([
        ['▁a', 1],
        ['▁▁b', 1],
        ['▁▁c', 1],
      ]),
    );
  });
});
