// What `llmjp4 chat` prints while the model writes a reply in the LLM-jp-4 (Harmony) format: the markers
// and headers (`<|channel|>analysis<|message|>`, `<|start|>assistant`) are not printed; the analysis
// channel's text is shown dimmed (ANSI SGR 2) or not at all; the final channel's text is printed as is.
// Text before any channel marker counts as the answer, so an untrained model's output is still seen.

import { TextStreamer } from '../../../model/text_streamer.js';
import type { Tokenizer } from '../../../model/tokenizer/index.js';

export const DIM = '\x1b[2m';
export const UNDIM = '\x1b[22m';

type State = 'content' | 'role' | 'channel';

export class ReplyPrinter {
  readonly #tok: Tokenizer;
  readonly #hideAnalysis: boolean;
  #state: State = 'content';
  /** The channel of the message being written ('' before any marker: taken as the answer). */
  #channel = '';
  #channelIds: number[] = [];
  #streamer: TextStreamer;
  /** The answer's text so far (final channel, or no channel): what the conversation keeps. */
  answer = '';

  constructor(tok: Tokenizer, opts: { hideAnalysis?: boolean } = {}) {
    this.#tok = tok;
    this.#hideAnalysis = opts.hideAnalysis ?? false;
    this.#streamer = new TextStreamer(tok);
  }

  /** One generated id → the text to print now (possibly ''). */
  push(id: number): string {
    const name = this.#tok.special.idToName.get(id);
    if (name === undefined) {
      if (this.#state === 'channel') this.#channelIds.push(id);
      return this.#state === 'content' ? this.#show(this.#streamer.push(id)) : '';
    }
    switch (name) {
      case '<|channel|>': {
        const closed = this.#endMessage();
        this.#state = 'channel';
        this.#channelIds = [];
        return closed;
      }
      case '<|message|>': {
        if (this.#state === 'channel') this.#channel = this.#tok.decode(this.#channelIds).trim().split(' ')[0] ?? '';
        this.#state = 'content';
        this.#streamer = new TextStreamer(this.#tok);
        return this.#analysis() && !this.#hideAnalysis ? DIM : '';
      }
      case '<|start|>': {
        const closed = this.#endMessage();
        this.#state = 'role';
        return closed;
      }
      default:
        // <|end|>, <|return|>, <|call|>, and anything else special: the message (if any) is over.
        return this.#endMessage();
    }
  }

  /** Whatever is held back at the end of the reply (an incomplete character), and the dimming closed. */
  flush(): string {
    return this.#endMessage();
  }

  #analysis(): boolean {
    return this.#channel === 'analysis';
  }

  #show(text: string): string {
    if (!this.#analysis()) {
      this.answer += text;
      return text;
    }
    return this.#hideAnalysis ? '' : text;
  }

  /** Close the current message: its held-back text, and for a shown analysis, undim and a line break. */
  #endMessage(): string {
    if (this.#state !== 'content') return '';
    const rest = this.#show(this.#streamer.flush());
    const close = this.#analysis() && !this.#hideAnalysis ? `${UNDIM}\n` : '';
    this.#state = 'role';
    this.#channel = '';
    return rest + close;
  }
}
