// The chat format of the LLM-jp-4 instruct models (chat_template.jinja, Harmony / gpt-oss style), built
// straight to ids: markers (`<|start|>`, `<|message|>`, ...) are ids and the text between them is
// tokenized on its own, as the HF tokenizer does with the rendered template. A mask marks the assistant
// tokens SFT trains on; `parseChat` reads generated ids back into messages. Tool calls are not covered.

import type { Tokenizer } from './tokenizer.js';

export interface ChatMessage {
  role: 'system' | 'developer' | 'user' | 'assistant';
  content: string;
  /** An assistant's reasoning, rendered on the `analysis` channel (only for the last message, as the template does). */
  thinking?: string;
}

export interface ChatOptions {
  /** End with `<|start|>assistant` so the model writes the reply. Default false. */
  addGenerationPrompt?: boolean;
  /** The template's kwargs, with its defaults. */
  reasoningEffort?: string;
  modelIdentity?: string;
  knowledgeCutoff?: string;
  /** `YYYY-MM-DD`; the template uses today's date. */
  currentDate?: string;
  /** Prepend BOS. Default false, as HF's apply_chat_template tokenizes without special tokens. */
  addBos?: boolean;
  /** Which assistant messages the mask trains on: the last one (default) or all. */
  trainOn?: 'last' | 'all';
}

export interface RenderedChat {
  ids: number[];
  /** 1 where SFT computes the loss: what the model writes after a `<|start|>assistant` prompt. */
  mask: Uint8Array;
  /** The template's output as text (special tokens by name), for reading and for checking. */
  text: string;
}

/** Renders messages as chat_template.jinja does (without tools), to ids, a loss mask and text. */
export function renderChat(tok: Tokenizer, messages: readonly ChatMessage[], opts: ChatOptions = {}): RenderedChat {
  const b = new ChatBuilder(tok);
  if (opts.addBos) b.special('<|startoftext|>', false);
  b.special('<|start|>', false)
    .text('system', false)
    .special('<|message|>', false)
    .text(systemMessage(opts), false)
    .special('<|end|>', false);
  let rest = messages;
  const first = messages[0];
  if (first && (first.role === 'developer' || first.role === 'system')) {
    rest = messages.slice(1);
    // The template's `if developer_message`: an empty instruction renders no developer block.
    if (first.content !== '') {
      b.special('<|start|>', false).text('developer', false).special('<|message|>', false);
      b.text(`# Instructions\n\n${first.content}\n\n`, false).special('<|end|>', false);
    }
  }
  rest.forEach((m, i) => {
    if (m.role === 'user') {
      b.special('<|start|>', false)
        .text('user', false)
        .special('<|message|>', false)
        .text(m.content, false)
        .special('<|end|>', false);
    } else if (m.role === 'assistant') {
      // The template renders the analysis channel and <|return|> only for a final assistant message.
      const isLast = i === rest.length - 1 && !opts.addGenerationPrompt;
      const train = opts.trainOn === 'all' || isLast;
      // The prompt `<|start|>assistant` is given; everything the model writes after it is trained.
      b.special('<|start|>', false).text('assistant', false);
      if (isLast && m.thinking !== undefined) {
        b.special('<|channel|>', train)
          .text('analysis', train)
          .special('<|message|>', train)
          .text(m.thinking, train)
          .special('<|end|>', train);
        b.special('<|start|>', train).text('assistant', train);
      }
      b.special('<|channel|>', train).text('final', train).special('<|message|>', train).text(m.content, train);
      b.special(isLast ? '<|return|>' : '<|end|>', train);
    } else {
      throw new Error(
        `renderChat: message ${i + (messages.length - rest.length)} has role '${m.role}'; only the first message may be system/developer, then user and assistant (tool calls are not supported)`,
      );
    }
  });
  if (opts.addGenerationPrompt) b.special('<|start|>', false).text('assistant', false);
  return { ids: b.ids, mask: Uint8Array.from(b.mask), text: b.out };
}

/** The system block's text: identity, knowledge cutoff, date, reasoning effort, valid channels. */
function systemMessage(opts: ChatOptions): string {
  const identity = opts.modelIdentity ?? 'You are LLM-jp-4, a large language model trained by LLM-jp.';
  const date = opts.currentDate ?? new Date().toISOString().slice(0, 10);
  return (
    `${identity}\nKnowledge cutoff: ${opts.knowledgeCutoff ?? '2025-12'}\nCurrent date: ${date}\n\n` +
    `Reasoning: ${opts.reasoningEffort ?? 'medium'}\n\n# Valid channels: analysis, commentary, final. Channel must be included for every message.`
  );
}

/** Appends markers and text runs, keeping ids, mask and the rendered text in step. */
class ChatBuilder {
  ids: number[] = [];
  mask: number[] = [];
  out = '';

  constructor(private readonly tok: Tokenizer) {}

  special(name: string, train: boolean): this {
    const id = this.tok.special.nameToId.get(name);
    if (id === undefined) throw new Error(`renderChat: the tokenizer has no special token ${name} (not the LLM-jp-4 layout)`);
    this.ids.push(id);
    this.mask.push(train ? 1 : 0);
    this.out += name;
    return this;
  }

  text(s: string, train: boolean): this {
    for (const id of this.tok.encodeText(s)) {
      this.ids.push(id);
      this.mask.push(train ? 1 : 0);
    }
    this.out += s;
    return this;
  }
}

export interface ParsedMessage {
  role: string;
  /** `analysis`, `final`, `commentary`, ... (the first word after `<|channel|>`). */
  channel?: string;
  /** The rest of the header: a recipient (`to=functions.x`) or a content type, as text. */
  header?: string;
  content: string;
  /** What closed the message: `end`, `return`, `call`, or null when the ids ran out first. */
  stop: 'end' | 'return' | 'call' | null;
}

/**
 * Reads ids in the Harmony format back into messages. Ids that follow a generation prompt (which
 * ends with `<|start|>assistant`) begin inside a header: `role` names whose header that is.
 */
export function parseChat(tok: Tokenizer, ids: readonly number[], { role = 'assistant' } = {}): ParsedMessage[] {
  const out: ParsedMessage[] = [];
  let rolePrefix = role;
  let header: number[][] = [[]]; // text runs of the header; a new run after each <|channel|>
  let content: number[] | undefined; // set once <|message|> is seen
  let touched = false; // whether the current message has anything in it yet
  const close = (stop: ParsedMessage['stop']) => {
    if (touched) out.push(toMessage(tok, rolePrefix, header, content, stop));
    [rolePrefix, header, content, touched] = ['', [[]], undefined, false];
  };
  for (const id of ids) {
    const name = tok.special.idToName.get(id);
    if (name === undefined) (content ?? header[header.length - 1]!).push(id);
    else if (name === '<|start|>') close(null);
    else if (name === '<|channel|>' && content === undefined) header.push([]);
    else if (name === '<|message|>' && content === undefined) content = [];
    else if (name === '<|end|>' || name === '<|return|>' || name === '<|call|>') {
      touched = true;
      close(name.slice(2, -2) as ParsedMessage['stop']);
      continue;
    }
    touched = name !== '<|start|>' || touched;
  }
  close(null);
  return out;
}

/** One message from its header runs (role words, then one run per channel marker) and content. */
function toMessage(
  tok: Tokenizer,
  rolePrefix: string,
  header: number[][],
  content: number[] | undefined,
  stop: ParsedMessage['stop'],
): ParsedMessage {
  const [roleText = '', ...channelRuns] = header.map((h) => tok.decode(h));
  // The role part may carry a recipient: `assistant to=functions.f`.
  const [roleWord = '', ...recipient] = (rolePrefix + roleText).split(' ');
  const [channel = '', ...contentType] = channelRuns.join(' ').split(' ');
  const m: ParsedMessage = { role: roleWord, content: content ? tok.decode(content) : '', stop };
  if (channel !== '') m.channel = channel;
  const rest = [...recipient, ...contentType].filter((w) => w !== '').join(' ');
  if (rest !== '') m.header = rest;
  return m;
}

/** The reply in generated ids: the analysis channel as `thinking`, the final channel as `content`. */
export function parseReply(tok: Tokenizer, ids: readonly number[]): { thinking?: string; content?: string } {
  const reply: { thinking?: string; content?: string } = {};
  for (const m of parseChat(tok, ids)) {
    if (m.channel === 'analysis') reply.thinking = (reply.thinking ?? '') + m.content;
    if (m.channel === 'final') reply.content = (reply.content ?? '') + m.content;
  }
  return reply;
}
