// A training run's identity: the stage config's fields that decide what it computes (model, data, batch,
// sequence length, optimizer, schedule, seeds — not where it writes nor how often it evaluates), flattened
// to dotted names, with a hash. Checkpoints carry it with a run id, so `--resume` can refuse a checkpoint of
// a different run by naming the fields that differ, and pruning can leave other runs' checkpoints alone.

import { createHash, randomBytes } from 'node:crypto';
import type { StageConfig } from './stage_config.js';

/** Dotted field → JSON value (numbers, strings, booleans, null; arrays as JSON text). */
export type RunIdentity = Record<string, string | number | boolean | null>;

/** Who wrote a checkpoint: one id per run (kept across resumes) and the identity it trained under. */
export interface RunInfo {
  id: string;
  identity: RunIdentity;
}

/** A fresh run id: unique enough that two runs into one folder never share it. */
export const newRunId = (): string => `${Date.now().toString(36)}-${randomBytes(6).toString('hex')}`;

/** The identity of a stage run (everything but `out`, the evaluation and checkpoint cadence, and the cache folder). */
export function runIdentity(cfg: StageConfig): RunIdentity {
  const { out: _out, eval: _eval, checkpoint: _ckpt, ...rest } = cfg;
  const { cache_dir: _cache, ...data } = cfg.data;
  return flatten({ ...rest, data });
}

/** sha256 of the identity's canonical JSON (sorted keys), shortened: a name for it in logs and files. */
export function identityHash(id: RunIdentity): string {
  const sorted = Object.fromEntries(
    Object.keys(id)
      .sort()
      .map((k) => [k, id[k]]),
  );
  return createHash('sha256').update(JSON.stringify(sorted)).digest('hex').slice(0, 16);
}

/** "field: saved → now" for every field that differs (either side may lack it). */
export function identityDiff(saved: RunIdentity, now: RunIdentity): string[] {
  const keys = [...new Set([...Object.keys(saved), ...Object.keys(now)])].sort();
  const show = (v: unknown) => (v === undefined ? '(unset)' : JSON.stringify(v));
  return keys.filter((k) => saved[k] !== now[k]).map((k) => `${k}: ${show(saved[k])} → ${show(now[k])}`);
}

function flatten(v: unknown, prefix = '', out: RunIdentity = {}): RunIdentity {
  if (v === undefined) return out;
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    for (const [k, x] of Object.entries(v)) flatten(x, prefix ? `${prefix}.${k}` : k, out);
  } else out[prefix] = Array.isArray(v) ? JSON.stringify(v) : (v as string | number | boolean | null);
  return out;
}
