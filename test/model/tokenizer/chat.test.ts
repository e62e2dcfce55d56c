// Special tokens and the chat format: the HF names of ids 0–351 (checked against tokenizer_config.json),
// BOS and special-token handling in `encode`, the template rendered to ids with its SFT mask, and
// generated ids parsed back into channels.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkProperty } from '../../../core/testing/index.js';
import { parseChat, parseReply, renderChat, type ChatMessage } from '../../../model/tokenizer/chat.js';
import { llmjp4SpecialNames } from '../../../model/tokenizer/index.js';
import { FIXTURES, llmjp4 } from './fixtures.js';

describe('special tokens', () => {
  it('name ids 0–351 as tokenizer_config.json does', () => {
    const config = JSON.parse(readFileSync(join(FIXTURES, 'tokenizer_config.json'), 'utf8'));
    const fromConfig = Object.entries(config.added_tokens_decoder as Record<string, { content: string }>).map(([id, t]) => [
      Number(id),
      t.content,
    ]);
    expect(llmjp4SpecialNames().map((name, id) => [id, name])).toEqual(fromConfig);
    expect([config.bos_token, config.eos_token, config.pad_token]).toEqual(['<|startoftext|>', '<|return|>', '<|endoftext|>']);
  });

  it('encode adds BOS by default; special names become ids only when allowed', () => {
    const tok = llmjp4();
    expect([tok.bosId, tok.eosId, tok.padId, tok.id('start'), tok.id('call')]).toEqual([1, 2, 4, 10, 13]);
    expect(tok.encode('Hello')).toEqual([1, 43204]);
    expect(tok.encode('Hello', { addBos: false, addEos: true })).toEqual([43204, 2]);
    expect(tok.encode('<|end|>', { addBos: false })).toEqual(tok.encodeIds('<|end|>')); // plain text by default
    expect(tok.encode('a<|end|>b', { addBos: false, allowSpecial: true })).toEqual([
      ...tok.encodeIds('a'),
      11,
      ...tok.encodeIds('b'),
    ]);
    expect(tok.encode('<mask>', { addBos: false })).toEqual([1034, 12526, 806]); // old names are text at the HF level
    expect(tok.encodeIds('<mask>')).toEqual([609, 3]); // ... but SentencePiece matches them
    expect(tok.decodeWithSpecial([1, 43204, 11, 946])).toBe('<|startoftext|>Hello<|end|>world');
    expect(tok.decodeWithSpecial([1, 43204, 11, 946], { skipSpecial: true })).toBe('Helloworld');
  });
});

const conversation: ChatMessage[] = [
  { role: 'system', content: 'Be brief.' },
  { role: 'user', content: '東京は？' },
  { role: 'assistant', content: '首都です。', thinking: 'The user asks.' },
];

const SYSTEM =
  '<|start|>system<|message|>You are LLM-jp-4, a large language model trained by LLM-jp.\nKnowledge cutoff: 2025-12\nCurrent date: 2026-01-01\n\n' +
  'Reasoning: medium\n\n# Valid channels: analysis, commentary, final. Channel must be included for every message.<|end|>';

describe('chat format', () => {
  it('renders what chat_template.jinja renders, as ids equal to encoding that text with specials', () => {
    const tok = llmjp4();
    const r = renderChat(tok, conversation, { currentDate: '2026-01-01' });
    expect(r.text).toBe(
      SYSTEM +
        '<|start|>developer<|message|># Instructions\n\nBe brief.\n\n<|end|><|start|>user<|message|>東京は？<|end|>' +
        '<|start|>assistant<|channel|>analysis<|message|>The user asks.<|end|><|start|>assistant<|channel|>final<|message|>首都です。<|return|>',
    );
    expect(r.ids).toEqual(tok.encode(r.text, { addBos: false, allowSpecial: true }));
    expect(renderChat(tok, conversation, { currentDate: '2026-01-01', addBos: true }).ids[0]).toBe(1);
  });

  it('masks exactly what the model writes after the <|start|>assistant prompt', () => {
    const tok = llmjp4();
    const r = renderChat(tok, conversation, { currentDate: '2026-01-01' });
    const trained = r.ids.filter((_, i) => r.mask[i] === 1);
    expect(tok.decodeWithSpecial(trained)).toBe(
      '<|channel|>analysis<|message|>The user asks.<|end|><|start|>assistant<|channel|>final<|message|>首都です。<|return|>',
    );
    // Earlier assistant turns render final-only with <|end|>, trained only with trainOn: 'all'.
    const two: ChatMessage[] = [
      { role: 'user', content: 'a' },
      { role: 'assistant', content: 'b', thinking: 'dropped' },
      { role: 'user', content: 'c' },
      { role: 'assistant', content: 'd' },
    ];
    const last = renderChat(tok, two, { currentDate: '2026-01-01' });
    expect(
      last.text.endsWith(
        '<|start|>assistant<|channel|>final<|message|>b<|end|><|start|>user<|message|>c<|end|><|start|>assistant<|channel|>final<|message|>d<|return|>',
      ),
    ).toBe(true);
    expect(tok.decodeWithSpecial(last.ids.filter((_, i) => last.mask[i]))).toBe('<|channel|>final<|message|>d<|return|>');
    const all = renderChat(tok, two, { currentDate: '2026-01-01', trainOn: 'all' });
    expect(tok.decodeWithSpecial(all.ids.filter((_, i) => all.mask[i]))).toBe(
      '<|channel|>final<|message|>b<|end|><|channel|>final<|message|>d<|return|>',
    );
  });

  it('ends with the generation prompt <|start|>assistant and trains nothing then', () => {
    const tok = llmjp4();
    const r = renderChat(tok, [{ role: 'user', content: 'こんにちは' }], {
      currentDate: '2026-01-01',
      addGenerationPrompt: true,
      reasoningEffort: 'high',
    });
    expect(r.text).toBe(SYSTEM.replace('medium', 'high') + '<|start|>user<|message|>こんにちは<|end|><|start|>assistant');
    expect(r.ids.slice(-2)).toEqual([10, ...tok.encodeText('assistant')]);
    expect(r.mask.every((m) => m === 0)).toBe(true);
    expect(() =>
      renderChat(tok, [
        { role: 'user', content: 'a' },
        { role: 'system', content: 'b' },
      ]),
    ).toThrow("renderChat: message 1 has role 'system'");
  });

  it('parses generated ids back into channels', () => {
    const tok = llmjp4();
    const gen = tok.encode(
      '<|channel|>analysis<|message|>Think  hard.<|end|><|start|>assistant<|channel|>final<|message|> Hi\nthere<|return|>',
      { addBos: false, allowSpecial: true },
    );
    expect(parseChat(tok, gen)).toEqual([
      { role: 'assistant', channel: 'analysis', content: 'Think  hard.', stop: 'end' },
      { role: 'assistant', channel: 'final', content: ' Hi\nthere', stop: 'return' },
    ]);
    expect(parseReply(tok, gen)).toEqual({ thinking: 'Think  hard.', content: ' Hi\nthere' });
    const call = tok.encode('<|start|>assistant to=functions.f<|channel|>commentary json<|message|>{"a": 1}<|call|>', {
      addBos: false,
      allowSpecial: true,
    });
    expect(parseChat(tok, call, { role: '' })).toEqual([
      { role: 'assistant', header: 'to=functions.f json', channel: 'commentary', content: '{"a": 1}', stop: 'call' },
    ]);
    const cut = tok.encode('<|channel|>final<|message|>半分', { addBos: false, allowSpecial: true });
    expect(parseChat(tok, cut)).toEqual([{ role: 'assistant', channel: 'final', content: '半分', stop: null }]);
  });

  it('render then parse gives the messages back', () => {
    const tok = llmjp4();
    const content = fc.string({ unit: 'grapheme', maxLength: 30 }).map((s) => s.replaceAll('\u2581', ''));
    const msgs = fc.array(fc.tuple(content, content), { minLength: 1, maxLength: 3 });
    checkProperty(
      msgs,
      (pairs) => {
        const messages: ChatMessage[] = pairs.flatMap(([q, a]) => [
          { role: 'user' as const, content: q },
          { role: 'assistant' as const, content: a },
        ]);
        const parsed = parseChat(tok, renderChat(tok, messages, { currentDate: '2026-01-01' }).ids, { role: '' });
        expect(parsed.slice(1).map((m) => m.content)).toEqual(pairs.flat());
        expect(parsed.slice(1).map((m) => m.role)).toEqual(messages.map((m) => m.role));
      },
      60,
    );
  });
});
