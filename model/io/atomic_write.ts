// Write a file so that readers see either the old contents or the new, never a torn file: write a
// temporary file beside it, flush it to disk, then rename over the target (atomic on POSIX), and flush
// the directory so the rename itself survives a crash.

import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/** The most bytes one writeSync is given (below Node's 2^31 − 1 limit). */
export const MAX_WRITE_BYTES = 1 << 30;

/** Write through `fill(write)` into a temporary file, fsync it, and rename it over `path`. */
export function writeAtomicWith(path: string, fill: (write: (bytes: Uint8Array) => void) => void): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    fill((bytes) => {
      // Node's writeSync refuses a length of 2 GiB or more (a 3.2 GB float32 embedding is one write
      // here), so large buffers go out in pieces of at most 1 GiB.
      let written = 0;
      while (written < bytes.length) written += writeSync(fd, bytes, written, Math.min(MAX_WRITE_BYTES, bytes.length - written));
    });
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, path);
  syncDir(dirname(path));
}

export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  writeAtomicWith(path, (write) => write(typeof data === 'string' ? Buffer.from(data, 'utf8') : data));
}

/** fsync a directory (makes a rename durable); a no-op where the platform cannot open directories. */
export function syncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Windows cannot fsync a directory; the rename is still atomic there.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
