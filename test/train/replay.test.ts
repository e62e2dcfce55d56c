// The two golden training trajectories (test/fixtures/golden/train) reproduce within their README's
// tolerances, through the library and through the pinned CLI `llmjp4 replay-train --case DIR --out OUT`;
// and a typical mistake (weight decay on the norms) is caught by the same tolerances.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import type { Tensor } from '../../core/index.js';
import { SafetensorsFile } from '../../model/io/safetensors_read.js';
import { main } from '../../train/cli/main.js';
import { readTrajectoryCase, replayTrajectory, type ReplayStep } from '../../train/replay.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const TRAIN = resolve(ROOT, 'test', 'fixtures', 'golden', 'train');
const CASES = ['train_llama_adamw', 'train_qwen3moe_adamw'] as const;

const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

/** Per-step metrics against trajectory.json: losses 1e-5 relative, grad_norm 1e-4, lr exact, routing exact. */
function checkSteps(name: string, steps: ReplayStep[]): void {
  const golden = JSON.parse(readFileSync(join(TRAIN, name, 'trajectory.json'), 'utf8'));
  expect(steps.length).toBe(golden.steps.length);
  golden.steps.forEach((g: any, t: number) => {
    const s = steps[t]!;
    expect(s.step).toBe(t);
    expect(rel(s.loss, g.loss), `step ${t} loss`).toBeLessThanOrEqual(1e-5);
    expect(rel(s.loss_total, g.loss_total), `step ${t} loss_total`).toBeLessThanOrEqual(1e-5);
    if (g.aux_loss !== undefined) expect(rel(s.aux_loss, g.aux_loss), `step ${t} aux_loss`).toBeLessThanOrEqual(1e-5);
    else expect(s.aux_loss).toBe(0);
    expect(rel(s.grad_norm, g.grad_norm), `step ${t} grad_norm`).toBeLessThanOrEqual(1e-4);
    expect(s.lr, `step ${t} lr`).toBe(g.lr);
    expect(s.clipped).toBe(g.clipped);
    expect(rel(s.clip_coef, g.clip_coef)).toBeLessThanOrEqual(1e-4);
    if (g.routing) expect(s.routing?.tokens_per_expert, `step ${t} routing`).toEqual(g.routing.tokens_per_expert);
  });
}

/** Final parameters: max |p − golden| ≤ 5e-5 and, per tensor, ‖p − golden‖ / ‖golden − init‖ ≤ 1e-3. */
function finalError(name: string, get: (hfName: string) => ArrayLike<number>): { maxAbs: number; maxRel: number; count: number } {
  const fin = SafetensorsFile.open(join(TRAIN, name, 'final.safetensors'));
  const init = SafetensorsFile.open(join(TRAIN, name, 'init.safetensors'));
  let [maxAbs, maxRel, count] = [0, 0, 0];
  for (const key of fin.tensors.keys()) {
    const [g, i, p] = [fin.read(key).data, init.read(key).data, get(key)];
    expect(p.length, key).toBe(g.length);
    let [d2, m2] = [0, 0];
    for (let j = 0; j < g.length; j++) {
      const d = p[j]! - g[j]!;
      maxAbs = Math.max(maxAbs, Math.abs(d));
      d2 += d * d;
      m2 += (g[j]! - i[j]!) ** 2;
    }
    maxRel = Math.max(maxRel, Math.sqrt(d2 / m2));
    count++;
  }
  fin.close();
  init.close();
  return { maxAbs, maxRel, count };
}

function fromModel(sd: Map<string, Tensor>): (k: string) => ArrayLike<number> {
  return (k) => {
    const t = sd.get(k);
    if (!t) throw new Error(`the model has no '${k}'`);
    return t.dataSync();
  };
}

describe('replay-train: golden trajectories', () => {
  for (const name of CASES) {
    it(`${name} reproduces through the library`, async () => {
      const c = readTrajectoryCase(join(TRAIN, name));
      const r = await replayTrajectory(c);
      checkSteps(name, r.steps);
      const e = finalError(name, fromModel(r.model.stateDict()));
      expect(e.count).toBe(r.model.stateDict().size);
      expect(e.maxAbs).toBeLessThanOrEqual(5e-5);
      expect(e.maxRel).toBeLessThanOrEqual(1e-3);
    });

    it(`${name} reproduces through \`llmjp4 replay-train --case DIR --out OUT\``, async () => {
      const out = mkdtempSync(join(tmpdir(), 'llmjp4-replay-'));
      const log = vi.spyOn(console, 'log').mockImplementation(() => {});
      try {
        expect(await main(['replay-train', '--case', join(TRAIN, name), '--out', out, '--quiet'])).toBe(0);
      } finally {
        log.mockRestore();
      }
      const traj = JSON.parse(readFileSync(join(out, 'trajectory.json'), 'utf8'));
      for (const s of traj.steps)
        for (const k of ['loss', 'aux_loss', 'loss_total', 'grad_norm', 'lr']) expect(typeof s[k], k).toBe('number');
      checkSteps(name, traj.steps);
      const f = SafetensorsFile.open(join(out, 'final.safetensors'));
      expect(f.metadata.format).toBe('pt');
      const e = finalError(name, (k) => f.read(k).data);
      expect(e.count).toBe(f.tensors.size); // the same names as the golden, no more, no fewer
      f.close();
      expect(e.maxAbs).toBeLessThanOrEqual(5e-5);
      expect(e.maxRel).toBeLessThanOrEqual(1e-3);
    });
  }

  it('runs as the installed bin: `npx llmjp4 replay-train` in a fresh process', () => {
    const out = mkdtempSync(join(tmpdir(), 'llmjp4-replay-bin-'));
    const stdout = execFileSync('npx', ['llmjp4', 'replay-train', '--case', join(TRAIN, CASES[1]), '--out', out, '--quiet'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(stdout).toMatch(/train_qwen3moe_adamw: 8 steps, final loss [\d.]+; wrote /);
    checkSteps(CASES[1], JSON.parse(readFileSync(join(out, 'trajectory.json'), 'utf8')).steps);
  });

  it('catches a typical mistake: weight decay on the norms moves the final parameters past the tolerance', async () => {
    const c = readTrajectoryCase(join(TRAIN, 'train_llama_adamw'));
    c.groups = [{ weightDecay: 0.1, params: c.groups.flatMap((g) => g.params) }];
    const r = await replayTrajectory(c);
    const e = finalError('train_llama_adamw', fromModel(r.model.stateDict()));
    expect(e.maxRel).toBeGreaterThan(1e-3);
  });

  it('fails clearly on a bad case folder or missing arguments', async () => {
    expect(() => readTrajectoryCase(join(TRAIN, 'nope'))).toThrow(/trajectory\.json: cannot read JSON/);
    const err = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      expect(await main(['replay-train', '--case', join(TRAIN, CASES[0])])).toBe(1);
      expect(err.mock.calls[0]![0]).toMatch(/^llmjp4 replay-train: --case DIR and --out OUT are required/);
    } finally {
      err.mockRestore();
    }
  });
});
