// Checkpoints: the HF layout plus optimizer/RNG/cursor state; resume is bit-identical (2N steps straight
// vs N + resume + N, exact weights and losses, dense and MoE); only the last N are kept; a checkpoint
// killed mid-write (a temp folder, a truncated file) is ignored; damaged files fail loudly; and a child
// process SIGKILLed at random moments, resumed each time, ends exactly where a straight run ends.
import { spawn } from 'node:child_process';
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SafetensorsFile } from '../../model/io/safetensors_read.js';
import { fromPretrained } from '../../model/pretrained.js';
import { Generator } from '../../core/index.js';
import { createModel } from '../../model/causal_lm.js';
import {
  checkpointName,
  findLatestCheckpoint,
  listCheckpoints,
  loadCheckpoint,
  restoreGenerators,
  saveCheckpoint,
} from '../../train/checkpoint.js';
import { AdamW } from '../../train/optim/adamw.js';
import { defaultParamGroups } from '../../train/optim/param_groups.js';
import { toyModel, toyRun, weightsOf, type ToyKind } from '../helpers/toy_run.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const tmp = () => mkdtempSync(join(tmpdir(), 'llmjp4-ckpt-'));

describe('checkpoints', () => {
  for (const kind of ['llama', 'moe'] as ToyKind[]) {
    it(`${kind}: N steps + resume + N steps equals 2N straight, bit for bit (weights and losses)`, async () => {
      const N = 4;
      const straight = await toyRun(null, { kind, until: 2 * N });
      const root = tmp();
      const first = await toyRun(root, { kind, until: N, saveEvery: N });
      expect(first.startedAt).toBe(0);
      const second = await toyRun(root, { kind, until: 2 * N, saveEvery: N });
      expect(second.startedAt).toBe(N);
      for (let t = 0; t < 2 * N; t++) expect((t < N ? first : second).losses.get(t), `step ${t}`).toBe(straight.losses.get(t));
      expect(second.history).toEqual(straight.history);
      expect(weightsOf(second.model)).toEqual(weightsOf(straight.model));
    });
  }

  it('is a Hugging Face folder (config.json + model.safetensors) plus optimizer and trainer state; keeps the last N', async () => {
    const root = tmp();
    await toyRun(root, { kind: 'moe', until: 5, saveEvery: 1, keepLast: 2 });
    expect(readdirSync(root).sort()).toEqual([checkpointName(4), checkpointName(5), 'latest']);
    expect(readFileSync(join(root, 'latest'), 'utf8')).toBe(`${checkpointName(5)}\n`);
    const dir = findLatestCheckpoint(root)!;
    expect(readdirSync(dir).sort()).toEqual(['config.json', 'model.safetensors', 'optimizer.safetensors', 'trainer_state.json']);
    const f = SafetensorsFile.open(join(dir, 'model.safetensors'));
    expect(f.metadata.format).toBe('pt');
    expect([...f.tensors.keys()]).toContain('model.layers.0.mlp.experts.3.down_proj.weight'); // HF names, expert by expert
    f.close();
    const ck = loadCheckpoint(dir);
    expect(weightsOf(fromPretrained(dir))).toEqual(weightsOf(ck.model));
    expect(ck.step).toBe(5);
    expect(ck.optimizer.step).toBe(5);
    expect(ck.dataCursor).toEqual({ batchesServed: 5 });
    const g = new Generator(0);
    restoreGenerators({ data: g }, ck.rng);
    expect(() => restoreGenerators({ other: g }, ck.rng)).toThrow(
      'restoreGenerators: the checkpoint has generators [data], the run has [other]',
    );
  });

  it('resumes a float64 run in float64, with its exact values', () => {
    const model = createModel(toyModel('llama').config, { dtype: 'float64', seed: 3 });
    const opt = new AdamW(defaultParamGroups(model.namedParameters(), 0.1));
    const dir = saveCheckpoint(tmp(), model, opt, { step: 0 });
    const ck = loadCheckpoint(dir);
    expect(ck.model.dtype).toBe('float64');
    expect(weightsOf(ck.model)).toEqual(weightsOf(model));
    expect(() => saveCheckpoint(tmp(), model, opt, { step: -1 })).toThrow('saveCheckpoint: step must be an integer ≥ 0, got -1');
    expect(() => saveCheckpoint(tmp(), model, opt, { step: 1 }, { keepLast: 0 })).toThrow(
      'saveCheckpoint: keepLast must be an integer ≥ 1, got 0',
    );
  });

  it('ignores a checkpoint killed mid-write (temp folder, truncated file, no state file) and loads the previous one', async () => {
    const root = tmp();
    await toyRun(root, { kind: 'llama', until: 2, saveEvery: 1 });
    const good = findLatestCheckpoint(root)!;
    // What a kill leaves: the temp folder of step 3 with a torn weights file, a torn temp file, and (not
    // something we write, but possible by hand) a named folder without its trainer_state.json.
    const torn = join(root, `.tmp-${checkpointName(3)}-999`);
    mkdirSync(torn);
    writeFileSync(join(torn, 'model.safetensors'), readFileSync(join(good, 'model.safetensors')).subarray(0, 1000));
    writeFileSync(join(root, 'latest.123.tmp'), 'checkpoint-0000');
    mkdirSync(join(root, checkpointName(4)));
    writeFileSync(join(root, checkpointName(4), 'config.json'), '{}');
    expect(listCheckpoints(root).map((c) => c.step)).toEqual([1, 2]);
    expect(findLatestCheckpoint(root)).toBe(good);
    const resumed = await toyRun(root, { kind: 'llama', until: 3, saveEvery: 1 });
    expect(resumed.startedAt).toBe(2);
    const straight = await toyRun(null, { kind: 'llama', until: 3 });
    expect(weightsOf(resumed.model)).toEqual(weightsOf(straight.model));
    expect(existsSync(torn)).toBe(false); // the next save cleans up what killed runs left
    expect(existsSync(join(root, 'latest.123.tmp'))).toBe(false);
  });

  it('fails loudly on damaged checkpoint files', async () => {
    const root = tmp();
    await toyRun(root, { kind: 'llama', until: 1, saveEvery: 1 });
    const dir = findLatestCheckpoint(root)!;
    const weights = join(dir, 'model.safetensors');
    const size = readFileSync(weights).length;
    const original = readFileSync(weights);
    truncateSync(weights, size - 4);
    expect(() => loadCheckpoint(dir)).toThrow(
      `loadCheckpoint: ${weights} is corrupt: ${size - 4} bytes, the manifest says ${size} (truncated?)`,
    );
    const flipped = Buffer.from(original);
    flipped[size - 1] ^= 1;
    writeFileSync(weights, flipped);
    expect(() => loadCheckpoint(dir)).toThrow(
      new RegExp(`loadCheckpoint: ${weights.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is corrupt: sha256 [0-9a-f]{64} differs`),
    );
    writeFileSync(weights, original);
    expect(loadCheckpoint(dir).step).toBe(1);
    appendFileSync(join(dir, 'trainer_state.json'), 'garbage');
    expect(() => loadCheckpoint(dir)).toThrow(/loadCheckpoint: .*trainer_state\.json is corrupt: /);
  });

  it('a run SIGKILLed at random moments and resumed each time ends exactly where a straight run ends', async () => {
    const until = 12;
    const root = tmp();
    const rand = new Generator(2024);
    let kills = 0;
    for (let attempt = 0; attempt < 8 && kills < 3; attempt++) {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', join(ROOT, 'test/helpers/toy_run_main.ts'), root, 'moe', String(until)],
        { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
      // Kill once training is under way, at a random moment within a step (often while a checkpoint is written).
      const killAfterSteps = 1 + rand.nextInt(3);
      let seen = 0;
      child.stdout.on('data', (d: Buffer) => {
        seen += (d.toString().match(/step /g) ?? []).length;
        if (seen >= killAfterSteps && !child.killed) setTimeout(() => child.kill('SIGKILL'), rand.nextInt(40));
      });
      const code = await exited;
      if (code === 0) break; // finished before the kill
      if (!child.killed) throw new Error(`child failed: ${stderr}`);
      kills++;
    }
    expect(kills).toBeGreaterThan(0);
    const resumed = await toyRun(root, { kind: 'moe', until, saveEvery: 1, keepLast: 2 });
    const straight = await toyRun(null, { kind: 'moe', until });
    expect(resumed.history).toEqual(straight.history);
    expect(weightsOf(resumed.model)).toEqual(weightsOf(straight.model));
  });
});
