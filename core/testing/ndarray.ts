// A deliberately tiny, independent n-d array for writing *reference* formulas in tests: plain JS
// numbers, row-major, its own broadcasting and reduction loops. It shares no code with the tensor
// core, so a bug there cannot hide by being repeated here.

export interface NDArray {
  shape: number[];
  data: number[];
}

export function nd(shape: readonly number[], data: readonly number[]): NDArray {
  const n = shape.reduce((a, b) => a * b, 1);
  if (data.length !== n) throw new Error(`nd: ${data.length} values for shape [${shape}]`);
  return { shape: [...shape], data: [...data] };
}

/** Row-major flat position of a multi-index. */
export function flatIndex(shape: readonly number[], idx: readonly number[]): number {
  let p = 0;
  for (let d = 0; d < shape.length; d++) p = p * shape[d] + idx[d];
  return p;
}

/** Multi-index of a row-major flat position. */
export function multiIndex(shape: readonly number[], p: number): number[] {
  const idx = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = p % shape[d];
    p = Math.floor(p / shape[d]);
  }
  return idx;
}

export function at(a: NDArray, idx: readonly number[]): number {
  return a.data[flatIndex(a.shape, idx)];
}

export function map(a: NDArray, f: (v: number, idx: number[]) => number): NDArray {
  return { shape: [...a.shape], data: a.data.map((v, p) => f(v, multiIndex(a.shape, p))) };
}

/** Elementwise f over any number of arrays with NumPy broadcasting (right-aligned, size-1 repeats). */
export function zip(arrays: readonly NDArray[], f: (...vs: number[]) => number): NDArray {
  const rank = Math.max(...arrays.map((a) => a.shape.length));
  const shape = new Array<number>(rank).fill(1);
  for (const a of arrays) {
    a.shape.forEach((d, i) => {
      const o = rank - a.shape.length + i;
      if (d !== 1) {
        if (shape[o] !== 1 && shape[o] !== d) throw new Error('zip: not broadcastable');
        shape[o] = d;
      }
    });
  }
  const n = shape.reduce((x, y) => x * y, 1);
  const data: number[] = [];
  for (let p = 0; p < n; p++) {
    const idx = multiIndex(shape, p);
    const vs = arrays.map((a) => {
      const sub = a.shape.map((d, i) => (d === 1 ? 0 : idx[rank - a.shape.length + i]));
      return at(a, sub);
    });
    data.push(f(...vs));
  }
  return { shape, data };
}

/** Reduce the listed axes with `f` over the list of values of each output cell. */
export function reduce(a: NDArray, axes: readonly number[], keepdim: boolean, f: (vs: number[]) => number): NDArray {
  const ax = axes.map((x) => (x < 0 ? x + a.shape.length : x));
  const kept = a.shape.map((d, i) => (ax.includes(i) ? 1 : d));
  const groups = new Map<number, number[]>();
  for (let p = 0; p < a.data.length; p++) {
    const idx = multiIndex(a.shape, p).map((v, i) => (ax.includes(i) ? 0 : v));
    const key = flatIndex(kept, idx);
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key)!.push(a.data[p]);
  }
  const n = kept.reduce((x, y) => x * y, 1);
  const data = Array.from({ length: n }, (_, k) => f(groups.get(k) ?? []));
  return { shape: keepdim ? kept : a.shape.filter((_, i) => !ax.includes(i)), data };
}

/** Apply `f` to every 1-D line along `axis` (f maps a line to a line of the same length). */
export function alongAxis(a: NDArray, axis: number, f: (line: number[]) => number[]): NDArray {
  const ax = axis < 0 ? axis + a.shape.length : axis;
  const out = [...a.data];
  const lineShape = a.shape.map((d, i) => (i === ax ? 1 : d));
  const lines = lineShape.reduce((x, y) => x * y, 1);
  for (let l = 0; l < lines; l++) {
    const base = multiIndex(lineShape, l);
    const positions = Array.from({ length: a.shape[ax] }, (_, j) =>
      flatIndex(
        a.shape,
        base.map((v, i) => (i === ax ? j : v)),
      ),
    );
    const result = f(positions.map((p) => a.data[p]));
    positions.forEach((p, j) => (out[p] = result[j]));
  }
  return { shape: [...a.shape], data: out };
}

/** Reorder axes: out[i0..] = a[i_perm...]. */
export function permute(a: NDArray, dims: readonly number[]): NDArray {
  const shape = dims.map((d) => a.shape[d]);
  const n = a.data.length;
  const data = new Array<number>(n);
  for (let p = 0; p < n; p++) {
    const idx = multiIndex(shape, p);
    const src = new Array<number>(dims.length);
    dims.forEach((d, i) => (src[d] = idx[i]));
    data[p] = at(a, src);
  }
  return { shape, data };
}
