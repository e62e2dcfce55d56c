// Whether ops record the graph. `noGrad(fn)` runs fn without recording (evaluation, optimizer
// updates, backward itself); it is synchronous because ops are — only reading a tensor waits.

let enabled = true;

export function isGradEnabled(): boolean {
  return enabled;
}

/** Run `fn` with graph recording set to `on`, restoring the previous mode afterwards (even on throw). */
export function withGradMode<T>(on: boolean, fn: () => T): T {
  const prev = enabled;
  enabled = on;
  try {
    return fn();
  } finally {
    enabled = prev;
  }
}

/** Run `fn` without recording a graph: results do not require grad. */
export function noGrad<T>(fn: () => T): T {
  return withGradMode(false, fn);
}
