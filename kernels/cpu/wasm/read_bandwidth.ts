// The memory-read bandwidth probe the decode bench quotes beside its kernels: a WebAssembly SIMD sum of a
// buffer in a weight arena, split over every core, as fast as this machine streams memory into vector
// registers. It is the ceiling a matrix-vector product (which reads each weight byte once) can reach.

import { UNROLL_BYTES } from './read_kernel.js';
import { parallelFor } from '../threads/pool.js';
import { defineJob } from '../threads/tasks.js';
import { arenaHandle, arenaKernels, arenaOf, scratchOf, type ArenaHandle } from './weight_arena.js';

interface ReadArgs {
  arena: ArenaHandle;
  at: number;
  chunk: number;
  out: number;
}

export function readTask(a: ReadArgs, task: number): void {
  arenaKernels(a.arena).read_sum!(a.at + task * a.chunk, a.chunk, a.out + 16 * task);
}

export const readJob = defineJob(import.meta.url, 'readTask', readTask);

/**
 * Read all of `buf` (in a weight arena, a multiple of 64 KiB) once, in `tasks` pieces over the pool's
 * threads; returns the sum, so that nothing can skip the reads.
 */
export function readAll(buf: Uint8Array, tasks: number): number {
  const arena = arenaOf(buf);
  if (!arena) throw new Error('readAll: the buffer is not in a weight arena');
  const chunk = Math.floor(buf.byteLength / tasks / UNROLL_BYTES) * UNROLL_BYTES;
  if (chunk * tasks !== buf.byteLength)
    throw new Error(`readAll: ${buf.byteLength} bytes do not split into ${tasks} pieces of whole 64-byte steps`);
  const out = scratchOf(arena, 16 * tasks);
  parallelFor(readJob, { arena: arenaHandle(arena), at: buf.byteOffset, chunk, out }, tasks);
  return new Float32Array(arena.memory.buffer, out, 4 * tasks).reduce((s, v) => s + v, 0);
}
