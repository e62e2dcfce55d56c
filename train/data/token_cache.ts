// Tokenized documents cached on disk. An entry is keyed by a sha256 of everything the tokens depend on
// (the tokenizer's bytes, how documents are rendered, every document's id and text), so a changed
// tokenizer or text misses the cache and is tokenized afresh. Entries are written atomically; one that
// is truncated, corrupt or written for another key is ignored and rewritten (it is only a cache).
//
// File layout (little-endian): magic "LJ4TOKS1", u32 header length, header JSON {key, docs, tokens,
// mask}, then offsets (docs+1 × i32), ids (tokens × i32), and, with a mask, mask (tokens × u8).

import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeAtomicWith } from '../../model/io/atomic_write.js';

/** Documents as one flat id array: document d is ids[offsets[d] .. offsets[d+1]). */
export interface TokenDocs {
  ids: Int32Array;
  /** docs + 1 entries, starting at 0, non-decreasing, ending at ids.length. */
  offsets: Int32Array;
  /** 1 where a loss is taken (SFT: the assistant's tokens); absent when every token counts. */
  mask?: Uint8Array;
}

const MAGIC = 'LJ4TOKS1';

/** sha256 over the parts, each length-prefixed so that ('ab', 'c') and ('a', 'bc') differ. */
export function cacheKey(parts: Iterable<string | Uint8Array>): string {
  const h = createHash('sha256');
  for (const p of parts) {
    const bytes = typeof p === 'string' ? Buffer.from(p, 'utf8') : p;
    h.update(`${bytes.length}:`);
    h.update(bytes);
  }
  return h.digest('hex');
}

/**
 * The cached documents for `key` under `dir` (file `<name>-<key prefix>.bin`), computed and stored on a
 * miss; the entries of the same name for other keys are then removed, so edits do not pile up stale files.
 */
export function cachedTokenDocs(
  dir: string,
  name: string,
  key: string,
  compute: () => TokenDocs,
): { docs: TokenDocs; hit: boolean; path: string } {
  if (!/^[\w.]+$/.test(name)) throw new Error(`token cache: entry name '${name}' must be letters, digits, '.' or '_'`);
  const file = `${name}-${key.slice(0, 16)}.bin`;
  const path = join(dir, file);
  const cached = readTokenCache(path, key);
  if (cached) return { docs: cached, hit: true, path };
  const docs = compute();
  writeTokenCache(path, key, docs);
  for (const other of readdirSync(dir)) {
    if (other !== file && other.startsWith(`${name}-`) && /^[0-9a-f]{16}\.bin$/.test(other.slice(name.length + 1)))
      rmSync(join(dir, other), { force: true });
  }
  return { docs, hit: false, path };
}

/** Reads an entry; null when the file is missing, not a cache file, truncated, or for another key. */
export function readTokenCache(path: string, key: string): TokenDocs | null {
  if (!existsSync(path)) return null;
  const buf = readFileSync(path);
  if (buf.length < 12 || buf.toString('latin1', 0, 8) !== MAGIC) return null;
  const headerLength = buf.readUInt32LE(8);
  if (12 + headerLength > buf.length) return null;
  let header: { key?: unknown; docs?: unknown; tokens?: unknown; mask?: unknown };
  try {
    header = JSON.parse(buf.toString('utf8', 12, 12 + headerLength));
  } catch {
    return null;
  }
  const { docs, tokens } = header;
  if (header.key !== key || !isCount(docs) || !isCount(tokens)) return null;
  const body = 12 + headerLength;
  const expected = body + 4 * (docs + 1) + 4 * tokens + (header.mask ? tokens : 0);
  if (buf.length !== expected) return null;
  // Copy into fresh aligned arrays (the file buffer's offset need not be a multiple of 4).
  const offsets = new Int32Array(docs + 1);
  const ids = new Int32Array(tokens);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  for (let i = 0; i <= docs; i++) offsets[i] = view.getInt32(body + 4 * i, true);
  const idsAt = body + 4 * (docs + 1);
  for (let i = 0; i < tokens; i++) ids[i] = view.getInt32(idsAt + 4 * i, true);
  const out: TokenDocs = { ids, offsets };
  if (header.mask) out.mask = Uint8Array.from(buf.subarray(idsAt + 4 * tokens, expected));
  return validTokenDocs(out) ? out : null;
}

/** Writes an entry atomically (readers see the old file or the whole new one). */
export function writeTokenCache(path: string, key: string, docs: TokenDocs): void {
  if (!validTokenDocs(docs)) throw new Error(`token cache: refusing to write inconsistent documents to ${path}`);
  const header = Buffer.from(
    JSON.stringify({ key, docs: docs.offsets.length - 1, tokens: docs.ids.length, mask: docs.mask !== undefined }),
    'utf8',
  );
  const prefix = Buffer.alloc(12);
  prefix.write(MAGIC, 0, 'latin1');
  prefix.writeUInt32LE(header.length, 8);
  writeAtomicWith(path, (write) => {
    write(prefix);
    write(header);
    write(littleEndian(docs.offsets));
    write(littleEndian(docs.ids));
    if (docs.mask) write(docs.mask);
  });
}

/** Offsets start at 0, never decrease, end at the id count; a mask has one byte per id. */
export function validTokenDocs(d: TokenDocs): boolean {
  const o = d.offsets;
  if (o.length < 1 || o[0] !== 0 || o[o.length - 1] !== d.ids.length) return false;
  for (let i = 1; i < o.length; i++) if (o[i]! < o[i - 1]!) return false;
  return d.mask === undefined || d.mask.length === d.ids.length;
}

/** Document d's ids (a view, not a copy). */
export function docIds(d: TokenDocs, i: number): Int32Array {
  return d.ids.subarray(d.offsets[i]!, d.offsets[i + 1]!);
}

export function docCount(d: TokenDocs): number {
  return d.offsets.length - 1;
}

/** Builds TokenDocs from per-document arrays. */
export function fromDocs(docs: readonly { ids: ArrayLike<number>; mask?: ArrayLike<number> }[], withMask: boolean): TokenDocs {
  const offsets = new Int32Array(docs.length + 1);
  docs.forEach((d, i) => (offsets[i + 1] = offsets[i]! + d.ids.length));
  const ids = new Int32Array(offsets[docs.length]!);
  const mask = withMask ? new Uint8Array(ids.length) : undefined;
  docs.forEach((d, i) => {
    ids.set(d.ids, offsets[i]!);
    if (mask) {
      if (!d.mask || d.mask.length !== d.ids.length) throw new Error(`token cache: document ${i} has no mask of its length`);
      mask.set(d.mask, offsets[i]!);
    }
  });
  return mask ? { ids, offsets, mask } : { ids, offsets };
}

const isCount = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 0;

function littleEndian(a: Int32Array): Uint8Array {
  const out = new Uint8Array(a.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < a.length; i++) view.setInt32(4 * i, a[i]!, true);
  return out;
}
