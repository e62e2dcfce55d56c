// The Hugging Face names of LLM-jp-4's special tokens (tokenizer_config.json, `added_tokens_decoder`):
// ids 0–351 carry old names inside the .model file (`<s>`, `<RESERVED_002>`, ...) and new ones on the HF
// side (`<|startoftext|>`, `<|start|>`, ...). This file holds that table and splits text on the HF names;
// it does not tokenize the text between them (unigram.ts does).

import { PieceType } from './model_proto.js';
import type { SentencePieceModel } from './unigram.js';

/** HF name → id, for the tokens with a role; ids 14–351 are `<|reserved_NNN|>` with NNN = id − 8. */
export const LLMJP4_NAMED_TOKENS = {
  unk: ['<|unk|>', 0],
  bos: ['<|startoftext|>', 1],
  eos: ['<|return|>', 2],
  mask: ['<|mask|>', 3],
  pad: ['<|endoftext|>', 4],
  cls: ['<|cls|>', 5],
  eod: ['<|eod|>', 6],
  sep: ['<|sep|>', 7],
  constrain: ['<|constrain|>', 8],
  channel: ['<|channel|>', 9],
  start: ['<|start|>', 10],
  end: ['<|end|>', 11],
  message: ['<|message|>', 12],
  call: ['<|call|>', 13],
} as const;

export type SpecialRole = keyof typeof LLMJP4_NAMED_TOKENS;

/** The first 352 piece strings of an LLM-jp-4-layout `.model` file, in id order. */
export function llmjp4ReservedPieces(): string[] {
  const reserved = Array.from({ length: 344 }, (_, i) => `<RESERVED_${String(i).padStart(3, '0')}>`);
  return ['<unk>', '<s>', '</s>', '<mask>', '<pad>', '<CLS>', '<EOD>', '<SEP>', ...reserved];
}

/** The 352 HF special-token names, by id. */
export function llmjp4SpecialNames(): string[] {
  const names: string[] = [];
  for (const [name, id] of Object.values(LLMJP4_NAMED_TOKENS)) names[id] = name;
  for (let id = 14; id < 352; id++) names[id] = `<|reserved_${String(id - 8).padStart(3, '0')}|>`;
  return names;
}

/** Special tokens of one model: HF name ↔ id, and a splitter for text that may contain the names. */
export class SpecialTokens {
  readonly nameToId: ReadonlyMap<string, number>;
  readonly idToName: ReadonlyMap<number, string>;
  private readonly pattern: RegExp | undefined;

  constructor(names: ReadonlyMap<number, string>) {
    this.idToName = names;
    this.nameToId = new Map([...names].map(([id, name]) => [name, id]));
    // Longest names first, so that at one position the longest name wins (as HF's trie does).
    const alternatives = [...this.nameToId.keys()].sort((a, b) => b.length - a.length).map(escapeRegExp);
    this.pattern = alternatives.length > 0 ? new RegExp(alternatives.join('|'), 'g') : undefined;
  }

  /**
   * For a model laid out like LLM-jp-4 (ids 0–351 named `<unk>`, `<s>`, `</s>`, `<mask>`, ...) the HF
   * names; for any other model, its UNKNOWN and CONTROL pieces under their own names.
   */
  static forModel(model: SentencePieceModel): SpecialTokens {
    const layout = llmjp4ReservedPieces();
    const isLlmjp4 = model.vocabSize >= layout.length && layout.every((p, i) => model.pieces[i] === p);
    const names = new Map<number, string>();
    if (isLlmjp4) llmjp4SpecialNames().forEach((name, id) => names.set(id, name));
    else model.types.forEach((t, id) => (t === PieceType.UNKNOWN || t === PieceType.CONTROL) && names.set(id, model.pieces[id]!));
    return new SpecialTokens(names);
  }

  has(id: number): boolean {
    return this.idToName.has(id);
  }

  /** Splits text into plain strings and special-token ids, in order; empty strings are left out. */
  split(text: string): (string | number)[] {
    if (!this.pattern) return text === '' ? [] : [text];
    const out: (string | number)[] = [];
    let last = 0;
    for (const m of text.matchAll(this.pattern)) {
      if (m.index > last) out.push(text.slice(last, m.index));
      out.push(this.nameToId.get(m[0])!);
      last = m.index + m[0].length;
    }
    if (last < text.length) out.push(text.slice(last));
    return out;
  }
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
