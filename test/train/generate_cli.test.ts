// `llmjp4 generate` on a tiny checkpoint written by savePretrained into a temp dir: --ids streams the
// same ids as generate() (comma-separated), --prompt streams the decoded continuation through the real
// LLM-jp-4 tokenizer, token by token; --backend accepts cpu and names the choices otherwise.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { cpu } from '../../core/index.js';
import { createModel, type CausalLM } from '../../model/causal_lm.js';
import { generate } from '../../model/generate.js';
import { preset } from '../../model/presets.js';
import { fromPretrained, savePretrained } from '../../model/pretrained.js';
import { Tokenizer } from '../../model/tokenizer/index.js';
import { useBackend } from '../../train/cli/commands/backend_flag.js';
import { getBackend } from '../../core/index.js';
import { main, usage } from '../../train/cli/main.js';

const TOKENIZER = join(import.meta.dirname, '..', 'fixtures', 'tokenizer', 'llm-jp-tokenizer_ver4.0_alpha1.0.model');
let dir: string; // a small-vocabulary checkpoint, for --ids
let bigDir: string; // the real vocabulary (so the tokenizer's ids fit), for --prompt
let big: CausalLM;

beforeAll(() => {
  // 1 layer, 8 wide; a large init spreads the logits so sampling varies.
  const shape = {
    hidden_size: 8,
    intermediate_size: 16,
    num_hidden_layers: 1,
    num_attention_heads: 2,
    num_key_value_heads: 1,
    head_dim: 4,
    initializer_range: 1,
  };
  dir = mkdtempSync(join(tmpdir(), 'llmjp4-generate-'));
  savePretrained(createModel(preset('tiny-llama', { ...shape, vocab_size: 6000 }), { seed: 3 }), dir);
  bigDir = mkdtempSync(join(tmpdir(), 'llmjp4-generate-big-'));
  big = createModel(preset('tiny-llama', { ...shape, vocab_size: 196608 }), { seed: 4 });
  savePretrained(big, bigDir); // float32 as stored: the CLI's loaded copy computes exactly as `big`
});

/** Run the CLI, capturing every stdout write (the stream) and the console errors. */
async function run(args: string[]): Promise<{ code: number; writes: string[]; errors: string[] }> {
  const writes: string[] = [];
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((s) => (writes.push(String(s)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  const log = vi.spyOn(console, 'error').mockImplementation(() => {});
  try {
    const code = await main(['generate', ...args]);
    return { code, writes, errors: log.mock.calls.map((c) => String(c[0])) };
  } finally {
    out.mockRestore();
    err.mockRestore();
    log.mockRestore();
  }
}

afterEach(() => vi.restoreAllMocks());

describe('llmjp4 generate', () => {
  it('--ids streams the ids generate() returns, comma-separated, one write per token', async () => {
    const sampling = { maxNewTokens: 6, temperature: 0.8, topK: 50, topP: 0.9, seed: 11 };
    const model = fromPretrained(dir);
    const expected = await generate(model, [1, 300, 5000], sampling);
    const r = await run([
      '--model',
      dir,
      '--ids',
      '1,300,5000',
      '--max-new-tokens',
      '6',
      '--temperature',
      '0.8',
      '--top-k',
      '50',
      '--top-p',
      '0.9',
      '--seed',
      '11',
    ]);
    expect(r.code).toBe(0);
    expect(r.writes.join('')).toBe(`${expected.join(',')}\n`);
    expect(r.writes.length).toBe(expected.length + 1);
    const greedy = await generate(model, [1, 2, 3], { maxNewTokens: 4 });
    expect((await run(['--model', dir, '--ids', '1 2 3', '--max-new-tokens', '4', '--echo'])).writes.join('')).toBe(
      `1,2,3,${greedy.join(',')}\n`,
    );
  });

  it('--prompt streams the decoded continuation, multi-byte characters whole', async () => {
    const tok = Tokenizer.fromFile(TOKENIZER);
    const text = '吾輩は猫である。名前は';
    const prompt = tok.encode(text, { allowSpecial: true });
    expect(prompt[0]).toBe(1); // BOS, as HF's tokenizer adds it
    const ids = await generate(big, prompt, { maxNewTokens: 12, temperature: 1, seed: 2 });
    const r = await run([
      '--model',
      bigDir,
      '--tokenizer',
      TOKENIZER,
      '--prompt',
      text,
      '--max-new-tokens',
      '12',
      '--temperature',
      '1',
      '--seed',
      '2',
      '--echo',
    ]);
    expect(r.code).toBe(0);
    const whole = tok.decode([...prompt, ...ids]);
    expect(r.writes.join('')).toBe(`${whole}\n`);
    expect(r.writes[0]).toBe(text); // --echo: the prompt first, then the stream
    expect(r.writes.length).toBeGreaterThan(2);
    for (const w of r.writes) expect(w.at(-1)?.charCodeAt(0) ?? 0).not.toBe(0xfffd); // no half character printed
  });

  it('names what is wrong with its arguments (exit code 1)', async () => {
    const cases: [string[], string][] = [
      [['--ids', '1'], '--model DIR is required'],
      [['--model', dir], 'give exactly one of --prompt TEXT (with --tokenizer FILE) or --ids "1,2,3"'],
      [['--model', dir, '--prompt', 'x'], '--prompt needs --tokenizer FILE'],
      [['--model', dir, '--ids', '1,x'], "--ids: 'x' is not a token id"],
      [['--model', dir, '--ids', '1', '--top-p', '2'], 'generate: topP must be in (0, 1], got 2'],
      [['--model', dir, '--ids', '1', '--max-new-tokens', '1.5'], "--max-new-tokens must be an integer ≥ 0, got '1.5'"],
      [['--model', dir, '--ids', '1', '--backend', 'tpu'], "--backend must be cpu or gpu, got 'tpu'"],
      [['--model', dir, '--ids', '1', '--backend', 'gpu', '--gpu-mode', 'nope'], "unknown gpu mode 'nope'"],
      [['--model', join(dir, 'nope'), '--ids', '1'], 'has no config.json'],
    ];
    for (const [args, message] of cases) {
      const r = await run(args);
      expect(r.code).toBe(1);
      expect(r.errors[0]).toContain(`llmjp4 generate: `);
      expect(r.errors[0]).toContain(message);
    }
    expect(usage()).toMatch(/\n {2}generate +continue a prompt/);
    const log = vi.spyOn(console, 'error').mockImplementation(() => {});
    expect(await main(['demo', '--backend', 'metal'])).toBe(1); // the demo takes the same flag
    expect(log.mock.calls[0]![0]).toBe("llmjp4 demo: --backend must be cpu or gpu, got 'metal'");
  });

  it('--backend cpu selects the CPU backend', async () => {
    expect(await useBackend({}, async () => getBackend())).toBe(cpu);
    expect(await useBackend({ backend: 'cpu' }, async () => getBackend())).toBe(cpu);
  });
});
