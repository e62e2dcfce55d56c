// The LLM-jp-4 tokenizer as a user meets it: SentencePiece-exact `encodeIds`/`decode` (what `sp.encode`
// and `sp.decode` return), and the Hugging Face-level `encode`/`decodeWithSpecial`, which add BOS and
// map special-token names to ids around text that is tokenized normally. Chat rendering is chat.ts.

import { decodeIds } from './decode.js';
import { LLMJP4_NAMED_TOKENS, SpecialTokens, type SpecialRole } from './special_tokens.js';
import { PieceType } from './model_proto.js';
import { SentencePieceModel, type Encoding, type PieceExclusion } from './unigram.js';

export interface EncodeOptions {
  /** Prepend BOS (`<|startoftext|>`, id 1), as the HF tokenizer does by default. Default true. */
  addBos?: boolean;
  /** Append EOS (`<|return|>`, id 2). Default false. */
  addEos?: boolean;
  /** Turn special-token names typed in the text (`<|end|>`) into their ids. Default false: they stay text. */
  allowSpecial?: boolean;
}

export class Tokenizer {
  readonly special: SpecialTokens;
  /** Special tokens that are USER_DEFINED pieces (LLM-jp-4's ids 3–351): never matched in HF-level text. */
  private readonly specialPieces: PieceExclusion;

  constructor(readonly model: SentencePieceModel) {
    this.special = SpecialTokens.forModel(model);
    const userDefined = [...this.special.idToName.keys()].filter((id) => model.types[id] === PieceType.USER_DEFINED);
    this.specialPieces = model.excluding(userDefined);
  }

  /** Loads a SentencePiece `.model` file (errors name the file and what is wrong with it). */
  static fromFile(path: string): Tokenizer {
    return new Tokenizer(SentencePieceModel.fromFile(path));
  }

  static fromBytes(bytes: Uint8Array, where?: string): Tokenizer {
    return new Tokenizer(SentencePieceModel.fromBytes(bytes, where));
  }

  get vocabSize(): number {
    return this.model.vocabSize;
  }

  get pieces(): readonly string[] {
    return this.model.pieces;
  }

  idToPiece(id: number): string {
    return this.model.idToPiece(id);
  }

  pieceToId(piece: string): number {
    return this.model.pieceToId(piece);
  }

  /** The id of a special token by role (`bos`, `eos`, `pad`, `start`, `end`, `message`, ...). */
  id(role: SpecialRole): number {
    const [name, id] = LLMJP4_NAMED_TOKENS[role];
    if (this.special.nameToId.get(name) !== id)
      throw new Error(`tokenizer: this model has no special token '${name}' (not the LLM-jp-4 layout)`);
    return id;
  }

  get bosId(): number {
    return this.id('bos');
  }

  get eosId(): number {
    return this.id('eos');
  }

  get padId(): number {
    return this.id('pad');
  }

  /** `sp.encode(text)`: ids only, no BOS/EOS; HF special-token names are plain text, old names (`<mask>`) match. */
  encodeIds(text: string): number[] {
    return this.model.encodeIds(text);
  }

  /** `sp.encode(text, out_type=str)`. */
  encodePieces(text: string): string[] {
    return this.model.encode(text).pieces;
  }

  /** `sp.encode` as ids and pieces together. */
  tokenize(text: string): Encoding {
    return this.model.encode(text);
  }

  /** `sp.decode(ids)`, exactly. */
  decode(ids: readonly number[]): string {
    return decodeIds(this.model, ids);
  }

  /**
   * Hugging Face-level encoding: BOS first (by default), special-token names mapped to ids only when
   * `allowSpecial` is set, and each run of text between them SentencePiece-encoded on its own (with
   * its own dummy prefix, as the HF normalizer does per segment). The .model file's old names for the
   * special ids (`<mask>`, `<RESERVED_002>`) are plain text here, as the HF vocabulary does not have them.
   */
  encode(text: string, { addBos = true, addEos = false, allowSpecial = false }: EncodeOptions = {}): number[] {
    const ids: number[] = addBos ? [this.bosId] : [];
    for (const part of allowSpecial ? this.special.split(text) : [text]) {
      if (typeof part === 'number') ids.push(part);
      else ids.push(...this.encodeText(part));
    }
    if (addEos) ids.push(this.eosId);
    return ids;
  }

  /** One run of plain text as the HF tokenizer encodes it: dummy prefix, no special tokens of any name. */
  encodeText(text: string): number[] {
    return this.model.encodeIds(text, this.specialPieces);
  }

  /**
   * Hugging Face-level decoding: special ids print as their names (or vanish with `skipSpecial`), and
   * each run of text ids between them is decoded on its own, so a run's leading dummy-prefix space is
   * dropped as LLM-jp-4's HF tokenizer does after each Harmony marker.
   */
  decodeWithSpecial(ids: readonly number[], { skipSpecial = false } = {}): string {
    let out = '';
    let run: number[] = [];
    for (const id of ids) {
      this.model.checkId(id, 'decode');
      const name = this.special.idToName.get(id);
      if (name === undefined) {
        run.push(id);
        continue;
      }
      out += this.decode(run);
      run = [];
      if (!skipSpecial) out += name;
    }
    return out + this.decode(run);
  }
}
