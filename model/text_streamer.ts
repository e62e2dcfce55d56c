// Incremental detokenisation for streaming: given ids one at a time, return only text that is final.
// A multi-byte character split over byte-fallback pieces (<0xE3><0x81><0x82>) is held back until it is
// complete, and SentencePiece's dummy-prefix space is handled as a decode of the whole sequence would:
// what `push`/`flush` return, concatenated, is decode(prompt + new ids) after decode(prompt).

import { PieceType, type Tokenizer } from './tokenizer/index.js';

const REPLACEMENT = '\ufffd';

export class TextStreamer {
  readonly #tok: Tokenizer;
  readonly #ids: number[];
  /** Ids whose text has been returned. */
  #printed: number;
  /**
   * Where the decoded window starts: a piece that is neither a byte nor a control piece, so no byte run
   * crosses it and it settles the dummy-prefix space the same way in both decodes that are compared.
   */
  #anchor = 0;
  /** decode(ids[anchor, printed)). */
  #before = '';

  constructor(tok: Tokenizer, prompt: readonly number[] = []) {
    this.#tok = tok;
    this.#ids = [...prompt];
    this.#printed = prompt.length;
    this.#moveAnchor();
  }

  /** Add one id; returns the text it completes ('' while a character is still partial). */
  push(id: number): string {
    this.#ids.push(id);
    const text = this.#window();
    if (text.endsWith(REPLACEMENT)) return ''; // maybe the first bytes of a character: wait for the rest
    return this.#emit(text);
  }

  /** Whatever is still held back (a character left incomplete decodes to U+FFFD, as decode does). */
  flush(): string {
    return this.#printed < this.#ids.length ? this.#emit(this.#window()) : '';
  }

  #window(): string {
    return this.#tok.decode(this.#ids.slice(this.#anchor));
  }

  #emit(text: string): string {
    let common = 0;
    const before = this.#before;
    while (common < before.length && common < text.length && before[common] === text[common]) common++;
    this.#printed = this.#ids.length;
    this.#moveAnchor();
    return text.slice(common);
  }

  /** The last anchor-able piece among the printed ids (or the start), and the text up to `printed` from it. */
  #moveAnchor(): void {
    const types = this.#tok.model.types;
    for (let i = this.#printed - 1; i >= this.#anchor; i--) {
      const t = types[this.#ids[i]!];
      if (t !== PieceType.BYTE && t !== PieceType.CONTROL) {
        this.#anchor = i;
        break;
      }
    }
    this.#before = this.#tok.decode(this.#ids.slice(this.#anchor, this.#printed));
  }
}
