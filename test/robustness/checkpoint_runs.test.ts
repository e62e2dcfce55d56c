// Probes of checkpoints across runs (issue 18, items 1 and 7): pruning removes only the current run's
// checkpoints, so a run into a folder of a longer earlier run keeps its own; a fresh stage run over an
// earlier run's checkpoints is refused and touches nothing; --resume under a changed config names the
// fields; a damaged newest checkpoint falls back to the newest intact one, saying so; a checkpoint write
// that fails (a full disk) names the path and leaves no temp folder, the earlier checkpoints intact.
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { checkpointName, listCheckpoints, saveCheckpoint } from '../../train/checkpoint.js';
import { AdamW } from '../../train/optim/adamw.js';
import { defaultParamGroups } from '../../train/optim/param_groups.js';
import { newRunId } from '../../train/run_identity.js';
import { runStage } from '../../train/stage.js';
import { parseStageConfig } from '../../train/stage_config.js';
import { runCli } from '../helpers/cli.js';
import { toyModel } from '../helpers/toy_run.js';
import { smallCorpus } from '../train/data/fixture.js';

// A full disk, on demand: the optimizer file's write fails part-way with Node's own ENOSPC (no path in it).
const disk = vi.hoisted(() => ({ full: false }));
vi.mock('../../model/io/atomic_write.js', async (original) => {
  const real = await original<typeof import('../../model/io/atomic_write.js')>();
  return {
    ...real,
    writeAtomicWith: (path: string, fill: (write: (b: Uint8Array) => void) => void) =>
      real.writeAtomicWith(path, (write) => {
        if (!disk.full || !path.endsWith('optimizer.safetensors')) return fill(write);
        write(new Uint8Array(100));
        throw Object.assign(new Error('ENOSPC: no space left on device, write'), {
          code: 'ENOSPC',
          errno: -28,
          syscall: 'write',
        });
      }),
  };
});

const tmp = () => mkdtempSync(join(tmpdir(), 'llmjp4-probe-'));

/** Every file under `dir` with its sha256: "nothing on disk changed" is this map staying equal. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d).sort()) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else out[p.slice(dir.length)] = createHash('sha256').update(readFileSync(p)).digest('hex');
    }
  };
  if (existsSync(dir)) walk(dir);
  return out;
}

function toySaver() {
  const model = toyModel('llama');
  const optimizer = new AdamW(defaultParamGroups(model.namedParameters(), 0.1));
  return (root: string, step: number, id: string, keepLast = 2) =>
    saveCheckpoint(root, model, optimizer, { step, run: { id, identity: { probe: id } } }, { keepLast });
}

describe('checkpoints of one run never cost another run its files (library)', () => {
  it('a run into a folder of a longer earlier run keeps its own checkpoints; latest names one that exists', () => {
    const root = tmp();
    const save = toySaver();
    const [a, b] = [newRunId(), newRunId()];
    for (let step = 1; step <= 6; step++) save(root, step, a);
    const before = snapshot(root);
    for (let step = 1; step <= 3; step++) save(root, step, b);
    expect(listCheckpoints(root).map((c) => c.step)).toEqual([2, 3, 5, 6]); // b's newest two, and all a left
    const latest = readFileSync(join(root, 'latest'), 'utf8').trim();
    expect(latest).toBe(checkpointName(3));
    expect(existsSync(join(root, latest, 'trainer_state.json'))).toBe(true);
    for (const [f, hash] of Object.entries(before)) if (!f.startsWith('/latest')) expect(snapshot(root)[f], f).toBe(hash);
  });

  it('a write that fails on a full disk names the path, leaves no temp folder, and the earlier checkpoints intact', () => {
    const root = tmp();
    const save = toySaver();
    const id = newRunId();
    save(root, 1, id);
    save(root, 2, id);
    const before = snapshot(root);
    disk.full = true;
    try {
      expect(() => save(root, 3, id)).toThrow(
        new RegExp(
          `saveCheckpoint: writing checkpoint ${checkpointName(3)} into ${root}/\\.tmp-${checkpointName(3)}-\\d+ failed: ENOSPC`,
        ),
      );
    } finally {
      disk.full = false;
    }
    expect(readdirSync(root).filter((e) => e.startsWith('.'))).toEqual([]);
    expect(snapshot(root)).toEqual(before);
  });
});

describe('stage runs: fresh, resumed, damaged (issue 18, item 1)', () => {
  let dirs: { corpusDir: string; cacheDir: string };
  beforeAll(() => {
    dirs = smallCorpus();
  });
  const quiet = { progress: false, log: () => {} };
  const stage = (out: string, extra: Record<string, unknown> = {}) => ({
    stage: 'pretrain',
    out,
    model: { preset: 'tiny-llama', config: { hidden_size: 32, intermediate_size: 64, num_hidden_layers: 1, head_dim: 8 } },
    data: {
      corpus_dir: dirs.corpusDir,
      cache_dir: dirs.cacheDir,
      vocab_size: 1000,
      doc_chars: 500,
      valid_fraction: 0.2,
      code: false,
    },
    steps: 4,
    batch_size: 2,
    seq_len: 32,
    optimizer: { lr: 1e-2 },
    schedule: { kind: 'constant', warmup_steps: 1 },
    eval: { every: 4, max_tokens: 128 },
    checkpoint: { every: 1, keep_last: 3 },
    ...extra,
  });

  it('a fresh run over an earlier run is refused (exit code 1), naming the folder and --resume; nothing changes', async () => {
    const out = join(tmp(), 'run');
    await runStage(parseStageConfig(stage(out)), quiet);
    const before = snapshot(out);
    const file = join(tmp(), 'short.json');
    writeFileSync(file, JSON.stringify(stage(out, { steps: 2 })));
    const r = await runCli('train', '--config', file);
    expect(r.code).toBe(1);
    expect(r.err.join('\n')).toContain(
      `${join(out, 'checkpoints')} already holds checkpoints of an earlier run (newest: step 4)`,
    );
    expect(r.err.join('\n')).toContain('--resume');
    expect(snapshot(out)).toEqual(before);
  }, 60_000);

  it('--resume under a changed config is refused, naming each field that differs; nothing changes', async () => {
    const out = join(tmp(), 'run');
    await runStage(parseStageConfig(stage(out)), { ...quiet, stopAfter: 2 });
    const before = snapshot(out);
    const changed = parseStageConfig(stage(out, { seq_len: 16, optimizer: { lr: 3e-3 } }));
    await expect(runStage(changed, { ...quiet, resume: true })).rejects.toThrow(
      /--resume: .*checkpoint-00000002 was written by a run with a different config \(optimizer\.lr: 0\.01 → 0\.003; schedule\.peakLr: 0\.01 → 0\.003; seq_len: 32 → 16\)/,
    );
    expect(snapshot(out)).toEqual(before);
  }, 60_000);

  it('a damaged newest checkpoint falls back to the newest intact one, saying so, and the run ends as a straight one', async () => {
    const root = tmp();
    const straight = await runStage(parseStageConfig(stage(join(root, 'a'))), quiet);
    const out = join(root, 'b');
    await runStage(parseStageConfig(stage(out)), { ...quiet, stopAfter: 3 });
    const weights = join(out, 'checkpoints', checkpointName(3), 'model.safetensors');
    const bytes = readFileSync(weights);
    bytes[bytes.length - 1]! ^= 1;
    writeFileSync(weights, bytes);
    const lines: string[] = [];
    const resumed = await runStage(parseStageConfig(stage(out)), { progress: false, log: (l) => lines.push(l), resume: true });
    expect(lines.join('\n')).toMatch(
      /warning: loadCheckpoint: .*checkpoint-00000003\/model\.safetensors is corrupt: sha256 .*falling back/,
    );
    expect(lines.join('\n')).toContain(`resuming from ${join(out, 'checkpoints', checkpointName(2))}`);
    expect(resumed.stepsRun).toBe(2);
    expect(
      readFileSync(join(resumed.final!, 'model.safetensors')).equals(readFileSync(join(straight.final!, 'model.safetensors'))),
    ).toBe(true);
  }, 90_000);
});
