// Instruction records in LLM-jp-4's chat format (model/tokenizer/chat.ts renders chat_template.jinja):
// one user turn (the instruction, then the input after a blank line) and the assistant's final answer.
// The mask marks what SFT trains on: every token after the `<|start|>assistant` prompt, the closing
// `<|return|>` included. Padded SFT batches are built here; packed ones go through packing.ts.

import { renderChat, type ChatMessage, type ChatOptions, type Tokenizer } from '../../model/tokenizer/index.js';
import type { Instruction } from './corpus.js';

/**
 * The chat-template kwargs used for training data: a fixed date, so renders (and caches) never change
 * with the clock, and no BOS, as HF's apply_chat_template (the template does not emit one).
 */
export const SFT_CHAT_OPTIONS: Readonly<ChatOptions> = { currentDate: '2026-04-03', reasoningEffort: 'medium', addBos: false };

/** The conversation a record stands for. */
export function instructionMessages(r: Instruction): ChatMessage[] {
  const user = r.input.trim() === '' ? r.instruction : `${r.instruction}\n\n${r.input}`;
  return [
    { role: 'user', content: user },
    { role: 'assistant', content: r.output },
  ];
}

/** Ids and the loss mask of one record in the chat format. */
export function renderInstruction(
  tok: Tokenizer,
  r: Instruction,
  chat: ChatOptions = SFT_CHAT_OPTIONS,
): { ids: number[]; mask: Uint8Array } {
  const { ids, mask } = renderChat(tok, instructionMessages(r), { ...chat, trainOn: 'last' });
  return { ids, mask };
}

/** Labels for SFT: the id where the mask is 1, −100 (ignored) elsewhere. */
export function maskedLabels(ids: ArrayLike<number>, mask: ArrayLike<number>): Int32Array {
  if (ids.length !== mask.length) throw new Error(`maskedLabels: ${ids.length} ids but ${mask.length} mask entries`);
  const out = new Int32Array(ids.length);
  for (let i = 0; i < ids.length; i++) out[i] = mask[i] ? ids[i]! : -100;
  return out;
}

export interface PaddedRows {
  /** [rows × seqLen] row-major. */
  ids: Int32Array;
  labels: Int32Array;
  /** 1 for real tokens, 0 for padding. */
  attention: Int32Array;
}

/**
 * Right-pads examples to `seqLen`: padding has id `padId`, label −100 and attention 0. An example longer
 * than `seqLen` is an error (the caller leaves such examples out, so an answer is never cut short).
 */
export function padRows(
  examples: readonly { ids: ArrayLike<number>; labels: ArrayLike<number> }[],
  seqLen: number,
  padId: number,
): PaddedRows {
  const n = examples.length;
  const out: PaddedRows = {
    ids: new Int32Array(n * seqLen).fill(padId),
    labels: new Int32Array(n * seqLen).fill(-100),
    attention: new Int32Array(n * seqLen),
  };
  examples.forEach((e, r) => {
    if (e.ids.length > seqLen)
      throw new Error(`padRows: example ${r} has ${e.ids.length} tokens, more than the sequence length ${seqLen}`);
    if (e.labels.length !== e.ids.length)
      throw new Error(`padRows: example ${r} has ${e.ids.length} ids but ${e.labels.length} labels`);
    out.ids.set(e.ids, r * seqLen);
    out.labels.set(e.labels, r * seqLen);
    out.attention.fill(1, r * seqLen, r * seqLen + e.ids.length);
  });
  return out;
}
