// Probes of the stage config as a careless user writes it: the cases replayed (typos below the top
// level, "false" as a string, seq_len beyond the model, null, negative mixture weights, HF's schedule
// argument names), then fast-check corruptions of a valid config — a misspelt key at any depth, a value of
// the wrong JSON type, an out-of-range number — each an error naming the file and the dotted field; through
// the CLI, exit code 1 and nothing written.
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { lrAt } from '../../train/schedule.js';
import { parseStageConfig } from '../../train/stage_config.js';
import { runCli } from '../helpers/cli.js';

const WHERE = 'probe.json';

/** A valid config that sets every field (so every field can be corrupted). */
const BASE = {
  comment: 'a probe',
  stage: 'pretrain',
  out: 'runs/probe',
  model: {
    preset: 'tiny-llama',
    config: { hidden_size: 32, head_dim: 8, num_hidden_layers: 1, tie_word_embeddings: false },
    seed: 0,
  },
  data: {
    corpus_dir: 'corpus',
    vocab_size: 1000,
    weights: { en: 1, ja: 0.5 },
    instruct_share: 0.5,
    sft_mode: 'pack',
    code: false,
    doc_chars: 500,
    valid_fraction: 0.2,
  },
  steps: 4,
  batch_size: 2,
  seq_len: 32,
  micro_batches: 1,
  seed: 0,
  optimizer: { lr: 1e-3, betas: [0.9, 0.95], eps: 1e-8, weight_decay: 0.1, max_grad_norm: 1 },
  schedule: { kind: 'wsd', warmup_steps: 1, stable_steps: 2, decay_steps: 1, decay_type: '1-sqrt', min_lr_ratio: 0.1 },
  moe: { aux_loss_coef: 0.01, z_loss_coef: 0.001 },
  eval: { every: 2, max_tokens: 256, seq_len: 32 },
  checkpoint: { every: 2, keep_last: 2 },
};

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v));
const parse = (json: unknown) => parseStageConfig(json, WHERE);
const error = (json: unknown): string => {
  try {
    parse(json);
  } catch (e) {
    return (e as Error).message;
  }
  return '(no error)';
};

/** Set the value at a dotted path (array indices as numbers). */
function setAt(root: Json, path: (string | number)[], value: Json | undefined): Json {
  const out = clone(root);
  let o = out as Record<string | number, Json>;
  for (const k of path.slice(0, -1)) o = o[k] as Record<string | number, Json>;
  if (value === undefined) delete o[path.at(-1)!];
  else o[path.at(-1)!] = value;
  return out;
}

/** Every leaf of BASE with its path (`comment` takes any string, so it has no wrong value but a type). */
function leaves(v: Json, path: (string | number)[] = []): { path: (string | number)[]; value: Json }[] {
  if (v !== null && typeof v === 'object')
    return Object.entries(v).flatMap(([k, x]) => leaves(x, [...path, Array.isArray(v) ? Number(k) : k]));
  return [{ path, value: v }];
}
const LEAVES = leaves(BASE as Json);
const dotted = (path: (string | number)[]) =>
  path
    .map((k) => (typeof k === 'number' ? `[${k}]` : `.${k}`))
    .join('')
    .slice(1);

/** The objects whose keys are fixed, with their paths (data.weights names sub-corpora: any key is fine). */
const OBJECTS: (string | number)[][] = [
  [],
  ['model'],
  ['model', 'config'],
  ['data'],
  ['optimizer'],
  ['schedule'],
  ['moe'],
  ['eval'],
  ['checkpoint'],
];

describe('stage config probes (issue 18, item 4)', () => {
  it("replays the issue's cases: each an error naming the field and what it expected", () => {
    const cases: [Json, string][] = [
      [
        setAt(BASE as Json, ['optimizer', 'weight_decy'], 0.1),
        `${WHERE}: optimizer.weight_decy: unknown key; did you mean weight_decay?`,
      ],
      [setAt(BASE as Json, ['checkpoint', 'evry'], 2), `${WHERE}: checkpoint.evry: unknown key; did you mean every?`],
      [setAt(BASE as Json, ['eval', 'max_token'], 2), `${WHERE}: eval.max_token: unknown key; did you mean max_tokens?`],
      [
        setAt(BASE as Json, ['model', 'config', 'num_hiden_layers'], 2),
        `${WHERE}: model.config.num_hiden_layers: unknown key; did you mean num_hidden_layers?`,
      ],
      [
        setAt(BASE as Json, ['data', 'code'], 'false'),
        `${WHERE}: data.code: must be true or false (a JSON boolean), got "false"`,
      ],
      [
        setAt(BASE as Json, ['model', 'config', 'tie_word_embeddings'], 'false'),
        `${WHERE}: model.config.tie_word_embeddings: must be a JSON boolean`,
      ],
      [
        setAt(BASE as Json, ['seq_len'], 100000),
        `${WHERE}: seq_len: (100000) exceeds the model's max_position_embeddings (1024)`,
      ],
      [
        setAt(BASE as Json, ['eval', 'seq_len'], 4096),
        `${WHERE}: eval.seq_len: (4096) exceeds the model's max_position_embeddings`,
      ],
      [null, `${WHERE}: must be a JSON object (a stage config), got null`],
      [setAt(BASE as Json, ['optimizer'], null), `${WHERE}: optimizer: must be a JSON object, got null`],
      [setAt(BASE as Json, ['data', 'weights', 'en'], -1), `${WHERE}: data.weights.en: must be a number ≥ 0, got -1`],
      [setAt(BASE as Json, ['steps'], '4'), `${WHERE}: steps: must be an integer ≥ 1, got "4"`],
      [
        setAt(BASE as Json, ['model', 'preset'], 'tiny-lama'),
        `${WHERE}: model.preset: must be one of llm-jp-4-8b, llm-jp-4-32b-a3b, tiny-llama, tiny-qwen3-moe, got "tiny-lama"; did you mean tiny-llama?`,
      ],
    ];
    for (const [json, want] of cases) expect(error(json)).toContain(want);
  });

  it("a schedule takes exactly its function's arguments: HF's names under HF's kinds, ours under ours", () => {
    const cosine = { kind: 'cosine', warmup_steps: 0, total_steps: 10 };
    expect(error(setAt(BASE as Json, ['schedule'], { ...cosine, min_lr_rate: 0.1 }))).toBe(
      `${WHERE}: schedule.min_lr_rate: unknown key; did you mean min_lr_ratio?`,
    );
    const hf = { kind: 'cosine_with_min_lr', num_warmup_steps: 0, num_training_steps: 10 };
    expect(error(setAt(BASE as Json, ['schedule'], { ...hf, min_lr_ratio: 0.1 }))).toContain(
      `schedule.min_lr_ratio: get_cosine_with_min_lr_schedule_with_warmup takes no argument 'min_lr_ratio'; did you mean min_lr_rate?`,
    );
    expect(error(setAt(BASE as Json, ['schedule'], hf))).toContain('schedule.min_lr_rate: or min_lr');
    // The floor HF's name gives is the floor the run trains with, and min_lr is the same floor in absolute terms.
    const floor = (s: Json) => lrAt(parse(setAt(BASE as Json, ['schedule'], s)).schedule, 50);
    expect(floor({ ...hf, min_lr_rate: 0.1 })).toBeCloseTo(1e-4, 15);
    expect(floor({ ...hf, min_lr: 1e-4 })).toBeCloseTo(1e-4, 15);
    expect(floor({ ...cosine, min_lr_ratio: 0.1 })).toBeCloseTo(1e-4, 15);
  });

  it('fast-check: a misspelt key at any depth is refused, naming it and a nearest valid key', () => {
    const arb = fc.record({
      at: fc.constantFrom(...OBJECTS),
      pick: fc.nat(),
      pos: fc.nat(),
      op: fc.constantFrom('drop', 'swap', 'double'),
    });
    fc.assert(
      fc.property(arb, ({ at, pick, pos, op }) => {
        let obj = BASE as Json as Record<string, Json>;
        for (const k of at) obj = obj[k] as Record<string, Json>;
        const keys = Object.keys(obj);
        const key = keys[pick % keys.length]!;
        const i = pos % key.length;
        const typo =
          op === 'drop'
            ? key.slice(0, i) + key.slice(i + 1)
            : op === 'double'
              ? key.slice(0, i) + key[i] + key.slice(i)
              : key.slice(0, i) + key.slice(i + 1, i + 2) + key[i] + key.slice(i + 2);
        fc.pre(typo !== key && typo !== '' && !keys.includes(typo));
        const broken = setAt(setAt(BASE as Json, [...at, typo], obj[key]!), [...at, key], undefined);
        const msg = error(broken);
        expect(msg).toMatch(new RegExp(`^${WHERE}: ${dotted([...at, typo]).replace(/[.[\]]/g, '\\$&')}: unknown key; `));
        expect(msg).toMatch(/did you mean \w+\?/);
      }),
      { numRuns: 300, seed: 18 },
    );
  });

  it('fast-check: a value of the wrong JSON type or out of range is refused, naming its field and what it expected', () => {
    const wrongs = (v: Json): Json[] => {
      const typed: Json[] = [typeof v === 'string' ? 7 : String(v), [], { x: 1 }];
      if (typeof v !== 'string' && typeof v !== 'boolean') typed.push(true);
      return typed;
    };
    // Every number field of a stage config is ≥ 0, so -1 and -0.5 are out of range for each (the model's own
    // numbers are checked by its config parser, which bounds some and not others: type errors only there).
    const outOfRange = (path: (string | number)[], v: Json): Json[] =>
      typeof v === 'number' && path[1] !== 'config' ? [-1, -0.5] : [];
    const leaf = fc.constantFrom(...LEAVES.filter((l) => l.path[0] !== 'comment'));
    fc.assert(
      fc.property(leaf, fc.nat(), ({ path, value }, n) => {
        const options = [...wrongs(value), ...outOfRange(path, value)];
        const bad = options[n % options.length]!;
        const msg = error(setAt(BASE as Json, path, bad));
        const field = dotted(path);
        // The message names the field (or, for the model overrides, the override and the config's own check).
        expect(msg.startsWith(`${WHERE}: ${field}`) || (path[1] === 'config' && msg.startsWith(`${WHERE}: model.config`))).toBe(
          true,
        );
        expect(msg).toMatch(/must be|exceeds|unknown|expected|is required|must list|must divide|config:/);
      }),
      { numRuns: 400, seed: 18 },
    );
  });

  it('through the CLI: exit code 1, the file and field named, and nothing written', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'llmjp4-probe-'));
    const file = join(dir, 'stage.json');
    const out = join(dir, 'out');
    writeFileSync(file, JSON.stringify(setAt({ ...BASE, out } as Json, ['optimizer', 'weight_decy'], 0.1)));
    const r = await runCli('train', '--config', file);
    expect(r.code).toBe(1);
    expect(r.err.join('\n')).toContain(`${file}: optimizer.weight_decy: unknown key; did you mean weight_decay?`);
    writeFileSync(file, 'null');
    expect((await runCli('train', '--config', file)).err.join('\n')).toContain(`${file}: must be a JSON object`);
    writeFileSync(file, '{"stage": ');
    expect((await runCli('train', '--config', file)).err.join('\n')).toContain(`${file}: not valid JSON`);
    expect(existsSync(out)).toBe(false);
  });
});
