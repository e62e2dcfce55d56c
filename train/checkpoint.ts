// Training checkpoints: ROOT/checkpoint-00000123/ holds the Hugging Face layout (config.json +
// model.safetensors, loadable by transformers) plus optimizer.safetensors (AdamW's m and v) and
// trainer_state.json (step, RNG states, the caller's opaque data cursor, sizes and sha256 of every file).
// A checkpoint is built in a hidden temp folder and renamed into place only when complete, then the
// `latest` pointer is written and all but the last N *of the same run* are removed (each checkpoint
// names its run) — so a run killed at any moment leaves only complete checkpoints under their real names,
// another run's checkpoints are never pruned, and a failed save (a full disk) leaves nothing behind.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tensor, type Generator, type Tensor } from '../core/index.js';
import type { CausalLM, ModelOptions } from '../model/causal_lm.js';
import { syncDir, writeFileAtomic } from '../model/io/atomic_write.js';
import { SafetensorsFile } from '../model/io/safetensors_read.js';
import { saveSafetensors } from '../model/io/safetensors_write.js';
import { fromPretrained, savePretrained } from '../model/pretrained.js';
import type { AdamW, AdamWState } from './optim/adamw.js';
import { identityHash, type RunInfo } from './run_identity.js';

export const TRAINER_STATE = 'trainer_state.json';
export const OPTIMIZER_FILE = 'optimizer.safetensors';
export const LATEST = 'latest';
/** The tokenizer file a checkpoint folder carries (beside config.json, as in a Hugging Face model folder). */
export const CHECKPOINT_TOKENIZER = 'tokenizer.model';
const FORMAT = 'llmjp4-checkpoint';
const NAME = /^checkpoint-(\d+)$/;
// What a killed save can leave behind (`.tmp-checkpoint-N-pid`, `.trash-checkpoint-N-pid`, `latest.pid.tmp`),
// removed by the next save.
const TEMP_PREFIX = '.tmp-checkpoint-';
const TRASH_PREFIX = '.trash-checkpoint-';

/** What the caller saves besides model and optimizer. */
export interface TrainerProgress {
  /** Training steps completed (names the checkpoint; the optimizer keeps its own count, which may differ). */
  step: number;
  /** Random streams to restore exactly (dropout, sampling, shuffles), by name. */
  rng?: Record<string, Generator>;
  /** Where the data pipeline stands: any JSON value, returned as is on load. */
  dataCursor?: unknown;
  /** Anything else JSON (stage name, metric history, ...), returned as is. */
  extra?: unknown;
  /** The run this checkpoint belongs to: pruning removes only checkpoints of the same run id. */
  run?: RunInfo;
}

export interface SaveCheckpointOptions {
  /** Keep this many newest checkpoints (default 3; at least 1). */
  keepLast?: number;
}

export interface LoadedCheckpoint {
  path: string;
  step: number;
  model: CausalLM;
  /** Pass to `AdamW.loadStateDict` of an optimizer built over `model`'s parameters. */
  optimizer: AdamWState;
  /** Generator states by name (`Generator.setState`). */
  rng: Record<string, number[]>;
  dataCursor: unknown;
  extra: unknown;
  /** The run that wrote it (null for a checkpoint saved without one). */
  run: RunInfo | null;
}

interface FileRecord {
  bytes: number;
  sha256: string;
}

export const checkpointName = (step: number) => `checkpoint-${String(step).padStart(8, '0')}`;

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** Write a checkpoint of `step` under `root`; returns its folder. Safe to kill at any point. */
export function saveCheckpoint(
  root: string,
  model: CausalLM,
  optimizer: AdamW,
  progress: TrainerProgress,
  opts: SaveCheckpointOptions = {},
): string {
  const keepLast = opts.keepLast ?? 3;
  if (!Number.isInteger(keepLast) || keepLast < 1)
    throw new Error(`saveCheckpoint: keepLast must be an integer ≥ 1, got ${keepLast}`);
  if (!Number.isInteger(progress.step) || progress.step < 0)
    throw new Error(`saveCheckpoint: step must be an integer ≥ 0, got ${progress.step}`);
  const json = (v: unknown, what: string) => {
    const s = JSON.stringify(v ?? null);
    if (s === undefined) throw new Error(`saveCheckpoint: ${what} is not JSON-serialisable`);
    return JSON.parse(s) as unknown;
  };
  const dataCursor = json(progress.dataCursor, 'dataCursor');
  const extra = json(progress.extra, 'extra');
  const name = checkpointName(progress.step);
  const tmp = join(root, `.tmp-${name}-${process.pid}`);
  const final = join(root, name);
  // A failed write (ENOSPC, EISDIR, EACCES: Node's messages often lack the path) removes its temp folder
  // and names the path; the checkpoints already there are untouched until the new one is complete.
  const failed = (what: string, e: unknown): never => {
    rmSync(tmp, { recursive: true, force: true });
    throw new Error(`saveCheckpoint: ${what}: ${(e as Error).message}; the earlier checkpoints under ${root} are intact`, {
      cause: e,
    });
  };
  try {
    mkdirSync(root, { recursive: true });
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp);
  } catch (e) {
    failed(`cannot create ${tmp}`, e);
  }

  // 1. Every file into the temp folder (each fsynced); trainer_state.json, with the manifest, last.
  try {
    savePretrained(model, tmp);
    const opt = optimizer.stateDict();
    const meta = {
      format: 'llmjp4-adamw',
      step: String(opt.step),
      betas: JSON.stringify(opt.betas),
      eps: String(opt.eps),
      weight_decay: JSON.stringify(opt.weightDecay),
    };
    saveSafetensors(join(tmp, OPTIMIZER_FILE), opt.tensors, { metadata: meta });
    const files: Record<string, FileRecord> = {};
    for (const f of readdirSync(tmp).sort()) files[f] = { bytes: statSync(join(tmp, f)).size, sha256: sha256(join(tmp, f)) };
    const rng = Object.fromEntries(Object.entries(progress.rng ?? {}).map(([k, g]) => [k, g.getState()]));
    const run = progress.run
      ? { id: progress.run.id, config_hash: identityHash(progress.run.identity), identity: progress.run.identity }
      : null;
    const state = {
      format: FORMAT,
      version: 1,
      step: progress.step,
      dtype: model.dtype,
      run,
      rng,
      data_cursor: dataCursor,
      extra,
      files,
    };
    writeFileAtomic(join(tmp, TRAINER_STATE), JSON.stringify(state, null, 1) + '\n');
  } catch (e) {
    failed(`writing checkpoint ${name} into ${tmp} failed`, e);
  }

  // 2. Into place by rename (atomic). A checkpoint of the same step (a run that resumed from an older one
  // and came here again) is moved aside first, then removed — and moved back if the rename fails.
  const trash = join(root, `.trash-${name}-${process.pid}`);
  const replaced = existsSync(final);
  try {
    if (replaced) {
      rmSync(trash, { recursive: true, force: true });
      renameSync(final, trash);
    }
    renameSync(tmp, final);
    syncDir(root);
  } catch (e) {
    if (replaced && !existsSync(final) && existsSync(trash)) renameSync(trash, final);
    failed(`cannot move ${tmp} to ${final}`, e);
  }

  // 3. The pointer, last; then forget what is no longer needed: older checkpoints of this run only (never
  // another run's, whatever their step numbers), and leftovers of killed saves.
  try {
    writeFileAtomic(join(root, LATEST), name + '\n');
  } catch (e) {
    throw new Error(`saveCheckpoint: ${final} is complete, but writing ${join(root, LATEST)} failed: ${(e as Error).message}`, {
      cause: e,
    });
  }
  const mine = listCheckpoints(root).filter((c) => runIdOf(c.path) === (progress.run?.id ?? null));
  // An old checkpoint is renamed out of the way before it is deleted, so a kill mid-delete never leaves
  // a half-deleted folder under a checkpoint name.
  for (const c of mine.slice(0, Math.max(0, mine.length - keepLast)))
    renameSync(c.path, join(root, `.trash-${checkpointName(c.step)}-${process.pid}`));
  for (const e of readdirSync(root)) {
    const leftover = e.startsWith(TEMP_PREFIX) || e.startsWith(TRASH_PREFIX) || /^latest\.\d+\.tmp$/.test(e);
    if (leftover) rmSync(join(root, e), { recursive: true, force: true });
  }
  syncDir(root);
  return final;
}

/** The run id a checkpoint's state names (null: none, or a state that cannot be read — never pruned then). */
function runIdOf(path: string): string | null | undefined {
  try {
    const s = JSON.parse(readFileSync(join(path, TRAINER_STATE), 'utf8'));
    return typeof s?.run?.id === 'string' ? s.run.id : null;
  } catch {
    return undefined;
  }
}

/** The complete checkpoints under `root` (named checkpoint-N with a trainer_state.json), oldest first. */
export function listCheckpoints(root: string): { step: number; path: string }[] {
  if (!existsSync(root)) return [];
  const out: { step: number; path: string }[] = [];
  for (const e of readdirSync(root, { withFileTypes: true })) {
    const m = NAME.exec(e.name);
    // Temp folders (killed mid-write) never match the name; a named folder without its state file is
    // not one we wrote, and is skipped too.
    if (m && e.isDirectory() && existsSync(join(root, e.name, TRAINER_STATE)))
      out.push({ step: Number(m[1]), path: join(root, e.name) });
  }
  return out.sort((a, b) => a.step - b.step);
}

/**
 * The newest complete checkpoint under `root`, or null when there is none. Found by scanning, not from
 * `latest`: a kill between the rename and the pointer write leaves the pointer one checkpoint behind.
 */
export function findLatestCheckpoint(root: string): string | null {
  return listCheckpoints(root).at(-1)?.path ?? null;
}

function readState(path: string): Record<string, any> {
  const file = join(path, TRAINER_STATE);
  let s: Record<string, any>;
  try {
    s = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`loadCheckpoint: ${file} is corrupt: ${(e as Error).message}`);
  }
  if (s?.format !== FORMAT || s.version !== 1)
    throw new Error(
      `loadCheckpoint: ${file} is not a ${FORMAT} v1 state (format ${JSON.stringify(s?.format)}, version ${JSON.stringify(s?.version)})`,
    );
  if (!Number.isInteger(s.step) || s.step < 0)
    throw new Error(`loadCheckpoint: ${file}: step must be an integer ≥ 0, got ${JSON.stringify(s.step)}`);
  if (typeof s.files !== 'object' || s.files === null) throw new Error(`loadCheckpoint: ${file}: no file manifest`);
  return s;
}

/** Every file the manifest lists must be there with its size and sha256: a damaged checkpoint fails loudly. */
function verifyFiles(path: string, files: Record<string, FileRecord>): void {
  for (const need of ['config.json', OPTIMIZER_FILE])
    if (!(need in files)) throw new Error(`loadCheckpoint: ${path}: the manifest lists no ${need}`);
  for (const [f, rec] of Object.entries(files)) {
    const p = join(path, f);
    if (f.includes('/') || f.includes('\\')) throw new Error(`loadCheckpoint: ${path}: manifest entry '${f}' is not a file name`);
    if (!existsSync(p)) throw new Error(`loadCheckpoint: ${p} is missing`);
    const bytes = statSync(p).size;
    if (bytes !== rec.bytes)
      throw new Error(`loadCheckpoint: ${p} is corrupt: ${bytes} bytes, the manifest says ${rec.bytes} (truncated?)`);
    const hash = sha256(p);
    if (hash !== rec.sha256)
      throw new Error(`loadCheckpoint: ${p} is corrupt: sha256 ${hash} differs from the manifest's ${rec.sha256}`);
  }
}

function readOptimizer(path: string): AdamWState {
  const f = SafetensorsFile.open(join(path, OPTIMIZER_FILE));
  try {
    const m = f.metadata;
    const parse = (k: string): any => {
      try {
        return JSON.parse(m[k] ?? '');
      } catch {
        throw new Error(`loadCheckpoint: ${f.path}: metadata '${k}' is missing or not JSON`);
      }
    };
    if (m.format !== 'llmjp4-adamw')
      throw new Error(`loadCheckpoint: ${f.path} is not an llmjp4 AdamW state (format ${JSON.stringify(m.format)})`);
    const tensors = new Map<string, Tensor>();
    for (const name of f.tensors.keys()) {
      const r = f.read(name);
      tensors.set(name, tensor(r.data, { shape: r.shape, dtype: r.dtype }));
    }
    return { step: parse('step'), betas: parse('betas'), eps: parse('eps'), weightDecay: parse('weight_decay'), tensors };
  } finally {
    f.close();
  }
}

/**
 * Load a checkpoint folder (verified against its manifest first). To resume: build the optimizer over
 * `model`'s parameters exactly as before, `loadStateDict(optimizer)`, `setState` each generator, and
 * restart the data pipeline from `dataCursor`.
 */
export function loadCheckpoint(path: string, modelOpts: ModelOptions = {}): LoadedCheckpoint {
  const s = readState(path);
  verifyFiles(path, s.files);
  // The dtype the run trained in (a float64 run resumes in float64), unless the caller asks otherwise.
  const dtype = modelOpts.dtype ?? (s.dtype === 'float64' ? 'float64' : 'float32');
  const model = fromPretrained(path, { ...modelOpts, dtype });
  const optimizer = readOptimizer(path);
  return {
    path,
    step: s.step,
    model,
    optimizer,
    rng: s.rng ?? {},
    dataCursor: s.data_cursor ?? null,
    extra: s.extra ?? null,
    run: runOf(s),
  };
}

function runOf(s: Record<string, any>): RunInfo | null {
  const r = s.run;
  return r && typeof r.id === 'string' && typeof r.identity === 'object' && r.identity !== null
    ? { id: r.id, identity: r.identity }
    : null;
}

export interface ResumeOptions {
  /** Called with each candidate's run before its files are read; throw to refuse it (a different run). */
  check?: (run: RunInfo | null, path: string) => void;
  /** Where the fallback is reported (default: stderr). */
  warn?: (line: string) => void;
  modelOpts?: ModelOptions;
}

/**
 * The newest checkpoint under `root` that loads, or null when there is none. A damaged one (torn file,
 * bad hash, unreadable state) is skipped for the next older, saying so through `warn`; when every one is
 * damaged it is an error, not a fresh start. Nothing on disk is changed.
 */
export function loadNewestIntact(root: string, opts: ResumeOptions = {}): LoadedCheckpoint | null {
  const warn = opts.warn ?? ((l: string) => process.stderr.write(l + '\n'));
  const all = listCheckpoints(root).reverse();
  const damaged: string[] = [];
  for (const c of all) {
    let state: Record<string, any>;
    try {
      state = readState(c.path);
    } catch (e) {
      damaged.push(c.path);
      warn(`warning: ${(e as Error).message}; falling back to an older checkpoint`);
      continue;
    }
    opts.check?.(runOf(state), c.path);
    try {
      const ck = loadCheckpoint(c.path, opts.modelOpts);
      if (damaged.length > 0) warn(`resuming from ${c.path}, the newest intact checkpoint (damaged: ${damaged.join(', ')})`);
      return ck;
    } catch (e) {
      damaged.push(c.path);
      warn(`warning: ${(e as Error).message}; falling back to an older checkpoint`);
    }
  }
  if (damaged.length > 0) throw new Error(`loadCheckpoint: no intact checkpoint under ${root} (damaged: ${damaged.join(', ')})`);
  return null;
}

/** Restore saved generator states into live generators (every saved one must have a generator, and vice versa). */
export function restoreGenerators(gens: Record<string, Generator>, states: Record<string, number[]>): void {
  const [have, saved] = [Object.keys(gens).sort(), Object.keys(states).sort()];
  if (have.join() !== saved.join())
    throw new Error(`restoreGenerators: the checkpoint has generators [${saved.join(', ')}], the run has [${have.join(', ')}]`);
  for (const k of have) gens[k]!.setState(states[k]!);
}
