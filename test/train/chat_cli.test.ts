// `llmjp4 chat`, `generate --json`, `init`/`quantize` and the load flags, on tiny checkpoints: chat renders
// the whole conversation each turn (the second turn's prompt holds the first exchange, /reset drops it and
// the same line then gets the same greedy reply); the reply printer hides the markers and dims or hides the
// analysis channel; generate --json ends stdout with the summary whose ids are generate()'s.
import { mkdtempSync, rmSync, copyFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createModel } from '../../model/causal_lm.js';
import { eosTokens, generate } from '../../model/generate.js';
import { preset } from '../../model/presets.js';
import { fromPretrained, savePretrained, weightsBytes, type LoadOptions } from '../../model/pretrained.js';
import { renderChat } from '../../model/tokenizer/chat.js';
import { Tokenizer } from '../../model/tokenizer/index.js';
import { runChat } from '../../train/cli/commands/chat.js';
import { DIM, ReplyPrinter, UNDIM } from '../../train/cli/commands/chat_stream.js';
import { main } from '../../train/cli/main.js';

const TOKENIZER = join(import.meta.dirname, '..', 'fixtures', 'tokenizer', 'llm-jp-tokenizer_ver4.0_alpha1.0.model');
const tok = Tokenizer.fromFile(TOKENIZER);
const root = mkdtempSync(join(tmpdir(), 'llmjp4-chat-'));
let dir: string; // the real vocabulary, 1 layer, 32 wide (rows of 32 so it quantizes)
afterAll(() => rmSync(root, { recursive: true, force: true }));

beforeAll(() => {
  const config = preset('tiny-llama', {
    vocab_size: tok.vocabSize,
    hidden_size: 32,
    intermediate_size: 64,
    num_hidden_layers: 1,
    num_attention_heads: 2,
    num_key_value_heads: 1,
    head_dim: 16,
    initializer_range: 0.5,
  });
  dir = join(root, 'model');
  savePretrained(createModel(config, { seed: 9 }), dir, { floatDtype: 'BF16' });
  copyFileSync(TOKENIZER, join(dir, 'tokenizer.model'));
});

afterEach(() => vi.restoreAllMocks());

const collect = () => {
  const s = new PassThrough();
  let text = '';
  s.on('data', (b) => (text += String(b)));
  return { s, text: () => text };
};

describe('llmjp4 chat', () => {
  it('keeps the conversation across turns, and /reset starts it again', async () => {
    const model = fromPretrained(dir, { dtype: 'auto' });
    const [out, log] = [collect(), collect()];
    const template = { currentDate: '2026-01-01' };
    const input = Readable.from(['こんにちは\n', 'again\n', '/reset\n', 'こんにちは\n']);
    await runChat({ model, tok, template, sampling: { maxNewTokens: 5 } }, input, out.s, log.s);
    const turns = [...log.text().matchAll(/\[turn \d+: (\d+) prompt tokens, (\d+) new tokens/g)].map((m) => Number(m[1]));
    const first = renderChat(tok, [{ role: 'user', content: 'こんにちは' }], { ...template, addGenerationPrompt: true }).ids;
    const replies = out.text().split('\n').slice(0, 3);
    // The first reply is what generate() makes of the rendered prompt, printed as text.
    const stop = [...eosTokens(model.config), tok.special.nameToId.get('<|return|>')!, tok.special.nameToId.get('<|call|>')!];
    const ids = await generate(model, first, { maxNewTokens: 5, stopTokens: stop });
    const printer = new ReplyPrinter(tok);
    expect(replies[0]).toBe(ids.map((id) => printer.push(id)).join('') + printer.flush());
    // Turn 2 renders user 1, the printed answer, user 2; after /reset the first prompt comes back, and its reply.
    const second = renderChat(
      tok,
      [
        { role: 'user', content: 'こんにちは' },
        { role: 'assistant', content: replies[0]! },
        { role: 'user', content: 'again' },
      ],
      { ...template, addGenerationPrompt: true },
    ).ids;
    expect(turns).toEqual([first.length, second.length, first.length]);
    expect(log.text()).toContain('[conversation reset]');
    expect(replies[2]).toBe(replies[0]);
  });

  it('prints no markers, dims the analysis channel or hides it with --hide-analysis', () => {
    const msgs = [
      { role: 'user' as const, content: 'q' },
      { role: 'assistant' as const, content: '答えです', thinking: 'think' },
    ];
    const all = renderChat(tok, msgs).ids;
    const prompt = renderChat(tok, msgs.slice(0, 1), { addGenerationPrompt: true }).ids;
    const reply = all.slice(prompt.length); // <|channel|>analysis<|message|>think<|end|><|start|>assistant<|channel|>final…
    const show = (hideAnalysis: boolean) => {
      const p = new ReplyPrinter(tok, { hideAnalysis });
      return { text: reply.map((id) => p.push(id)).join('') + p.flush(), answer: p.answer };
    };
    expect(show(false)).toEqual({ text: `${DIM}think${UNDIM}\n答えです`, answer: '答えです' });
    expect(show(true)).toEqual({ text: '答えです', answer: '答えです' });
  });

  it('runs from the command line, reading its turns from stdin', async () => {
    const writes: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((s) => (writes.push(String(s)), true));
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    vi.spyOn(process, 'stdin', 'get').mockReturnValue(Readable.from(['hello\n', '/exit\n', 'never\n']) as never);
    expect(await main(['chat', '--model', dir, '--max-new-tokens', '3', '--quantize', 'q8_0', '--dtype', 'auto'])).toBe(0);
    expect(writes.join('').split('\n').length).toBe(2); // one reply, then the end
  });
});

describe('llmjp4 generate --json, init, quantize', () => {
  async function run(args: string[]): Promise<{ code: number; out: string; errors: string[] }> {
    const writes: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((s) => (writes.push(String(s)), true));
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const log = vi.spyOn(console, 'error').mockImplementation(() => {});
    const info = vi.spyOn(console, 'log').mockImplementation((s) => void writes.push(`${String(s)}\n`));
    try {
      return { code: await main(args), out: writes.join(''), errors: log.mock.calls.map((c) => String(c[0])) };
    } finally {
      vi.restoreAllMocks();
      void info;
    }
  }

  it('generate --json ends stdout with the summary: generate()’s ids, text, counts, timings and memory', async () => {
    const cases: [string[], LoadOptions][] = [
      [[], {}],
      [['--dtype', 'auto'], { dtype: 'auto' }],
      [['--quantize', 'q4_0'], { quantize: 'q4_0' }],
    ];
    for (const [load, opts] of cases) {
      const r = await run([
        'generate',
        '--model',
        dir,
        '--prompt',
        '昔々',
        '--tokenizer',
        TOKENIZER,
        '--max-new-tokens',
        '4',
        '--json',
        ...load,
      ]);
      expect(r.code, r.errors.join()).toBe(0);
      const lines = r.out.trimEnd().split('\n');
      const summary = JSON.parse(lines[lines.length - 1]!);
      expect(Object.keys(summary)).toEqual([
        'ids',
        'text',
        'prompt_tokens',
        'new_tokens',
        'prefill_s',
        'decode_tokens_per_s',
        'weights_bytes',
        'peak_rss_bytes',
      ]);
      const model = fromPretrained(dir, opts);
      const prompt = tok.encode('昔々', { allowSpecial: true });
      const ids = await generate(model, prompt, { maxNewTokens: 4 });
      expect(summary).toMatchObject({
        ids,
        text: tok.decode(ids),
        prompt_tokens: prompt.length,
        new_tokens: ids.length,
        weights_bytes: weightsBytes(model),
      });
      expect(summary.prefill_s).toBeGreaterThan(0);
      expect(summary.decode_tokens_per_s).toBeGreaterThan(0);
      expect(summary.peak_rss_bytes).toBeGreaterThan(process.memoryUsage().heapUsed / 2);
      // The streamed text comes first (after the prompt, so with SentencePiece's space), then the summary alone.
      expect(lines).toHaveLength(2);
      expect(lines[0]!.trim()).toBe(summary.text.trim());
    }
  });

  it('weights_bytes follows the held dtype: float32 > bfloat16 > q8_0 > q4_0', () => {
    const sizes = [{}, { dtype: 'auto' as const }, { quantize: 'q8_0' as const }, { quantize: 'q4_0' as const }].map((o) =>
      weightsBytes(fromPretrained(dir, o)),
    );
    expect(sizes).toEqual([...sizes].sort((a, b) => b - a));
    expect(new Set(sizes).size).toBe(4);
  });

  it('init and quantize from the command line; bad flags name themselves', async () => {
    const out = join(root, 'init-q8');
    expect(
      (await run(['init', '--preset', 'tiny-qwen3-moe', '--dtype', 'q8_0', '--out', out, '--seed', '2', '--quiet'])).code,
    ).toBe(0);
    expect(existsSync(join(out, 'config.json'))).toBe(true);
    const q = join(root, 'quantized');
    expect((await run(['quantize', '--model', dir, '--out', q, '--format', 'q4_0', '--quiet'])).code).toBe(0);
    expect(existsSync(join(q, 'tokenizer.model'))).toBe(true);
    expect((await run(['forward', '--model', q, '--ids', '1,2,3', '--json'])).code).toBe(0);
    expect((await run(['init', '--preset', 'tiny-llama', '--dtype', 'int8', '--out', out])).errors[0]).toMatch(
      /--dtype must be one of float32, bfloat16/,
    );
    expect((await run(['forward', '--model', dir, '--ids', '1', '--quantize', 'q5'])).errors[0]).toMatch(
      /--quantize must be q8_0 or q4_0/,
    );
    expect((await run(['forward', '--model', dir, '--ids', '1', '--dtype', 'half'])).errors[0]).toMatch(
      /--dtype must be one of auto, float32/,
    );
  });
});
