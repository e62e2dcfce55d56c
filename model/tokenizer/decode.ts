// Decoding ids back to text exactly as SentencePiece's `DecodeIds` (sentencepiece_processor.cc):
// CONTROL pieces vanish, UNKNOWN prints as the unk surface (" ⁇ "), ▁ becomes a space with the
// dummy-prefix space of the first visible piece dropped, and runs of byte pieces are joined and read
// as UTF-8 with SentencePiece's own rule for bad bytes (each one becomes U+FFFD on its own).

import { PieceType } from './model_proto.js';
import { SPACE_SYMBOL } from './normalizer.js';
import type { SentencePieceModel } from './unigram.js';

const REPLACEMENT = '\ufffd';

export function decodeIds(model: SentencePieceModel, ids: readonly number[]): string {
  const { types, pieces, options } = model;
  const dropFirstSpace = options.addDummyPrefix || options.removeExtraWhitespaces;
  let out = '';
  let bytes: number[] = [];
  // True until the first piece that is not CONTROL (bytes, unknown and user-defined pieces count).
  let atStart = true;
  for (const id of ids) {
    model.checkId(id, 'decode');
    const type = types[id]!;
    if (type === PieceType.BYTE) {
      bytes.push(parseInt(pieces[id]!.slice(3, 5), 16));
      atStart = false;
      continue;
    }
    if (bytes.length > 0) {
      out += decodeBytes(bytes);
      bytes = [];
    }
    if (type === PieceType.CONTROL) continue;
    if (type === PieceType.UNKNOWN) {
      out += options.unkSurface;
    } else {
      let piece = pieces[id]!;
      if (atStart && dropFirstSpace && piece.startsWith(SPACE_SYMBOL)) piece = piece.slice(1);
      out += piece.replaceAll(SPACE_SYMBOL, ' ');
    }
    atStart = false;
  }
  if (bytes.length > 0) out += decodeBytes(bytes);
  return out;
}

/**
 * UTF-8 → string by SentencePiece's DecodeUTF8: a well-formed sequence (no overlongs, no surrogates,
 * ≤ U+10FFFF) is one character; anything else consumes one byte and yields U+FFFD. (The WHATWG
 * decoder differs: it replaces a truncated sequence like E3 81 with a single U+FFFD.)
 */
export function decodeBytes(b: readonly number[]): string {
  let s = '';
  const trail = (i: number) => i < b.length && (b[i]! & 0xc0) === 0x80;
  for (let i = 0; i < b.length;) {
    const c = b[i]!;
    let cp = -1;
    let len = 1;
    if (c < 0x80) cp = c;
    else if ((c & 0xe0) === 0xc0 && trail(i + 1)) {
      cp = ((c & 0x1f) << 6) | (b[i + 1]! & 0x3f);
      len = 2;
      if (cp < 0x80) cp = -1;
    } else if ((c & 0xf0) === 0xe0 && trail(i + 1) && trail(i + 2)) {
      cp = ((c & 0x0f) << 12) | ((b[i + 1]! & 0x3f) << 6) | (b[i + 2]! & 0x3f);
      len = 3;
      if (cp < 0x800 || (cp >= 0xd800 && cp < 0xe000)) cp = -1;
    } else if ((c & 0xf8) === 0xf0 && trail(i + 1) && trail(i + 2) && trail(i + 3)) {
      cp = ((c & 0x07) << 18) | ((b[i + 1]! & 0x3f) << 12) | ((b[i + 2]! & 0x3f) << 6) | (b[i + 3]! & 0x3f);
      len = 4;
      if (cp < 0x10000 || cp > 0x10ffff) cp = -1;
    }
    if (cp < 0) {
      s += REPLACEMENT;
      i += 1;
    } else {
      s += String.fromCodePoint(cp);
      i += len;
    }
  }
  return s;
}
