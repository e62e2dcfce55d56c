// The training corpus as documents: one sub-corpus per folder of `train/data/corpus` (ja, en, zh, ko:
// .txt files cut into documents of about `docChars` characters at line ends; sft: .jsonl instruction
// records, one document each) plus `code`, this project's own TypeScript source. Reading only: the
// held-out split is split.ts, tokenization is tokenize.ts.

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A piece of plain text; `id` is `<sub-corpus>/<file>#<chunk>`, unique and stable across runs. */
export interface TextDocument {
  id: string;
  text: string;
}

/** One instruction/response pair (the sft folder's .jsonl rows); `input` is '' when there is none. */
export interface Instruction {
  id: string;
  instruction: string;
  input: string;
  output: string;
}

export type SubCorpus =
  | { name: string; kind: 'text'; files: string[]; docs: TextDocument[] }
  | { name: string; kind: 'instruct'; files: string[]; docs: Instruction[] };

export interface CorpusOptions {
  /** Target document size in characters; a document ends at the first line end past it (default 2000). */
  docChars?: number;
  /** Add the `code` sub-corpus from this project's source (default true). */
  code?: boolean;
  /** Keep only these sub-corpora (default: all found). */
  only?: readonly string[];
}

/** The package root (the folder with package.json above this file), found upwards so dist/ works too. */
export const PACKAGE_ROOT = findPackageRoot(dirname(fileURLToPath(import.meta.url)));

/** The corpus kept in the repository. */
export const DEFAULT_CORPUS_DIR = join(PACKAGE_ROOT, 'train', 'data', 'corpus');

/** The folders of the project whose .ts files form the `code` sub-corpus. */
export const CODE_FOLDERS = ['core', 'kernels', 'model', 'train', 'bench'] as const;

/** Files left out of `code`: the evaluation items, so the model never trains on their answers. */
const CODE_EXCLUDED = new Set(['train/eval_items.ts']);

export const DEFAULT_DOC_CHARS = 2000;

/** Reads every sub-corpus under `dir` (sorted by name, so the order never depends on the file system). */
export function loadCorpus(dir: string = DEFAULT_CORPUS_DIR, opts: CorpusOptions = {}): SubCorpus[] {
  const docChars = opts.docChars ?? DEFAULT_DOC_CHARS;
  if (!Number.isInteger(docChars) || docChars < 1)
    throw new Error(`loadCorpus: docChars must be a positive integer, got ${docChars}`);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`loadCorpus: corpus folder ${dir} does not exist`);
  const out: SubCorpus[] = [];
  for (const name of readdirSync(dir).sort()) {
    if (!statSync(join(dir, name)).isDirectory()) continue;
    out.push(readSubCorpus(join(dir, name), name, docChars));
  }
  if (opts.code ?? true) out.push(codeCorpus(PACKAGE_ROOT, docChars));
  const only = opts.only;
  if (!only) return out;
  const missing = only.filter((n) => !out.some((s) => s.name === n));
  if (missing.length > 0)
    throw new Error(
      `loadCorpus: no sub-corpus named ${missing.join(', ')} in ${dir} (found ${out.map((s) => s.name).join(', ')})`,
    );
  return out.filter((s) => only.includes(s.name));
}

/** One folder: all .txt (text) or all .jsonl (instructions); licences, SOURCES and READMEs are skipped. */
export function readSubCorpus(dir: string, name: string, docChars = DEFAULT_DOC_CHARS): SubCorpus {
  const files = readdirSync(dir)
    .sort()
    .filter((f) => /\.(txt|jsonl)$/.test(f) && !/^(LICENSE|SOURCES|README)/i.test(f));
  if (files.length === 0) throw new Error(`loadCorpus: sub-corpus folder ${dir} has no .txt or .jsonl files`);
  const jsonl = files.filter((f) => f.endsWith('.jsonl'));
  if (jsonl.length > 0 && jsonl.length < files.length) {
    throw new Error(`loadCorpus: ${dir} mixes .txt and .jsonl files; a sub-corpus is either text or instructions`);
  }
  if (jsonl.length > 0) {
    const docs = files.flatMap((f) => readInstructions(join(dir, f), `${name}/${f}`));
    return { name, kind: 'instruct', files: files.map((f) => join(dir, f)), docs };
  }
  const docs = files.flatMap((f) =>
    chunkText(readFileSync(join(dir, f), 'utf8'), docChars).map((text, i) => ({ id: `${name}/${f}#${i}`, text })),
  );
  return { name, kind: 'text', files: files.map((f) => join(dir, f)), docs };
}

/** The project's own TypeScript (not .d.ts, not tests), one or more documents per file. */
export function codeCorpus(root: string, docChars = DEFAULT_DOC_CHARS): SubCorpus {
  const files = CODE_FOLDERS.flatMap((f) => listTs(join(root, f))).filter((p) => !CODE_EXCLUDED.has(posix(relative(root, p))));
  if (files.length === 0) throw new Error(`loadCorpus: found no TypeScript under ${root} for the code sub-corpus`);
  const docs = files.flatMap((p) =>
    chunkText(readFileSync(p, 'utf8'), docChars).map((text, i) => ({ id: `code/${posix(relative(root, p))}#${i}`, text })),
  );
  return { name: 'code', kind: 'text', files, docs };
}

/**
 * Cuts text into documents at line ends: a document closes at the first line end once it holds
 * `docChars` characters. Leading and trailing blank lines of each piece are dropped, and pieces with
 * no visible text are left out, so joining the pieces with '\n' gives back the text minus blank edges.
 */
export function chunkText(text: string, docChars: number): string[] {
  const out: string[] = [];
  let lines: string[] = [];
  let size = 0;
  const flush = () => {
    const piece = lines.join('\n').replace(/^\n+|\n+$/g, '');
    if (piece.trim() !== '') out.push(piece);
    lines = [];
    size = 0;
  };
  for (const line of text.split('\n')) {
    lines.push(line);
    size += line.length + 1;
    if (size >= docChars) flush();
  }
  flush();
  return out;
}

/** A .jsonl file of {id?, instruction, input?, output} rows; a bad row names the file and line. */
export function readInstructions(path: string, idPrefix: string): Instruction[] {
  const out: Instruction[] = [];
  readFileSync(path, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      if (line.trim() === '') return;
      const where = `${path} line ${i + 1}`;
      let row: Record<string, unknown>;
      try {
        row = JSON.parse(line) as Record<string, unknown>;
      } catch {
        throw new Error(`loadCorpus: ${where} is not JSON`);
      }
      if (row === null || typeof row !== 'object' || Array.isArray(row))
        throw new Error(`loadCorpus: ${where} is not a JSON object`);
      for (const key of ['instruction', 'output'] as const) {
        if (typeof row[key] !== 'string' || row[key] === '') throw new Error(`loadCorpus: ${where} has no '${key}' string`);
      }
      if (row.input !== undefined && typeof row.input !== 'string')
        throw new Error(`loadCorpus: ${where}: 'input' must be a string`);
      const id = typeof row.id === 'string' || typeof row.id === 'number' ? String(row.id) : String(i + 1);
      out.push({
        id: `${idPrefix}#${id}`,
        instruction: row.instruction as string,
        input: (row.input as string | undefined) ?? '',
        output: row.output as string,
      });
    });
  return out;
}

function listTs(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      if (name !== 'node_modules' && name !== 'results') out.push(...listTs(path));
    } else if (name.endsWith('.ts') && !name.endsWith('.d.ts') && !name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

const posix = (p: string) => p.split(sep).join('/');

function findPackageRoot(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`loadCorpus: no package.json above ${start}`);
  }
}
