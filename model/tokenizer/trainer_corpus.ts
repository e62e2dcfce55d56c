// The trainer's input side: reading a folder of text (.txt lines, and every string in .jsonl records),
// normalizing each line as the encoder does, cutting it into whitespace-led "words" with counts (as
// SentencePiece's SplitIntoWords does with allow_whitespace_only_pieces), and the per-character rules
// a piece must obey (one script per piece, digits alone, ▁ only at the front). No training here.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { SPACE_SYMBOL } from './normalizer.js';

/** Lists the text files under `dir` (sorted, so training is deterministic), skipping licences and notes. */
export function corpusFiles(dir: string): string[] {
  let st;
  try {
    st = statSync(dir);
  } catch {
    throw new Error(`train-tokenizer: input ${dir} does not exist`);
  }
  if (st.isFile()) return [dir];
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...corpusFiles(path));
    else if (/\.(txt|jsonl)$/.test(name) && !/^(LICENSE|SOURCES|README)/i.test(name)) out.push(path);
  }
  return out;
}

/** The lines of the corpus: each line of a .txt file, each string value of each .jsonl record. */
export function readCorpusLines(files: readonly string[]): string[] {
  const lines: string[] = [];
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    if (f.endsWith('.jsonl')) {
      text.split('\n').forEach((l, i) => {
        if (l.trim() === '') return;
        let record: unknown;
        try {
          record = JSON.parse(l);
        } catch {
          throw new Error(`train-tokenizer: ${f} line ${i + 1} is not JSON`);
        }
        for (const s of stringsIn(record)) lines.push(...s.split('\n'));
      });
    } else lines.push(...text.split('\n'));
  }
  return lines.filter((l) => l !== '');
}

function* stringsIn(v: unknown): Generator<string> {
  if (typeof v === 'string') yield v;
  else if (Array.isArray(v)) for (const x of v) yield* stringsIn(x);
  else if (v && typeof v === 'object') for (const x of Object.values(v)) yield* stringsIn(x);
}

/** Keeps about `maxBytes` of UTF-8 by taking every k-th line, so every file and language stays in. */
export function sampleLines(lines: readonly string[], maxBytes: number): string[] {
  const total = lines.reduce((n, l) => n + Buffer.byteLength(l), 0);
  if (total <= maxBytes) return [...lines];
  const stride = total / maxBytes;
  return lines.filter((_, i) => Math.floor(i / stride) !== Math.floor((i - 1) / stride));
}

/**
 * Word counts of normalized lines: `"a  b"` → `▁a`, `▁▁b` (a run of ▁ stays with the word after it,
 * as SentencePiece splits when whitespace-only pieces are allowed).
 */
export function countWords(lines: readonly string[]): Map<string, number> {
  const words = new Map<string, number>();
  for (const line of lines) {
    const s = SPACE_SYMBOL + line.replaceAll(' ', SPACE_SYMBOL);
    // A word starts at a ▁ that ends a non-space stretch.
    for (const w of s.match(/▁+[^▁]*|[^▁]+/g) ?? []) words.set(w, (words.get(w) ?? 0) + 1);
  }
  return words;
}

/** Script classes for the one-script-per-piece rule; Hiragana and Katakana count as Han, as in SentencePiece. */
const SCRIPTS: [number, RegExp][] = [
  [1, /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\u30fc]/u],
  [2, /\p{Script=Latin}/u],
  [3, /\p{Script=Hangul}/u],
  [4, /\p{Script=Cyrillic}/u],
  [5, /\p{Script=Greek}/u],
  [6, /\p{Script=Arabic}/u],
  [7, /\p{Script=Hebrew}/u],
  [8, /\p{Script=Thai}/u],
  [9, /\p{Script=Devanagari}/u],
  [10, /\p{Script=Common}/u],
  [11, /\p{Script=Inherited}/u],
];
const INHERITED = 11;
const OTHER = 12;
const scriptCache = new Map<number, number>();

export function scriptOf(cp: number): number {
  let s = scriptCache.get(cp);
  if (s === undefined) {
    const ch = String.fromCodePoint(cp);
    s = SCRIPTS.find(([, re]) => re.test(ch))?.[0] ?? OTHER;
    scriptCache.set(cp, s);
  }
  return s;
}

/** ASCII and full-width digits: with split_digits each is a piece on its own. */
export const isDigit = (cp: number) => (cp >= 0x30 && cp <= 0x39) || (cp >= 0xff10 && cp <= 0xff19);

const SPACE_CP = SPACE_SYMBOL.codePointAt(0)!;

/**
 * Whether `piece` (as code points) may be a piece (trainer_interface.cc IsValidSentencePiece with
 * split_by_unicode_script, split_digits, allow_whitespace_only_pieces): ▁ only in front or in an
 * all-▁ piece, a digit only alone, one script throughout (Inherited marks take the script before them).
 */
export function isValidPiece(cps: readonly number[], maxLength: number): boolean {
  if (cps.length === 0 || cps.length > maxLength) return false;
  const allSpace = cps.every((c) => c === SPACE_CP);
  let prev = -1;
  for (let i = 0; i < cps.length; i++) {
    const c = cps[i]!;
    if (c === 0) return false;
    if (c === SPACE_CP) {
      if (i > 0 && !allSpace) return false;
      continue;
    }
    if (isDigit(c) && cps.length > 1) return false;
    let s = scriptOf(c);
    if (s === INHERITED) s = prev;
    if (s !== -1 && prev !== -1 && s !== prev) return false;
    prev = s;
  }
  return true;
}
