// A small, strict schema for the project's JSON config files (stage configs, schedules, the model
// overrides inside them): typed checks for objects, numbers, integers, booleans, strings, enums, tuples
// and records, unknown keys refused at every depth with the nearest valid name, and errors that name the
// file, the dotted field and what was expected. Hand-written rather than zod or ajv: it is short, adds no
// dependency, and the messages are exactly ours ("optimizer.weight_decy: unknown key; did you mean weight_decay?").

/** One kind of JSON value: what it accepts (for messages) and how to check and convert it. */
export interface Schema<T> {
  /** What a valid value is, in words: "an integer ≥ 1", "true or false". */
  readonly expected: string;
  /** The value, checked; `path` is the dotted field name, `where` the file (both for errors). */
  parse(v: unknown, path: string, where: string): T;
  /** Set by `optional`: the field may be absent (then `fallback`, or undefined). */
  readonly optional?: { fallback?: unknown };
}

export type Infer<S> = S extends Schema<infer T> ? T : never;

/** A config error: `where: path: message`. */
export function configError(where: string, path: string, message: string): Error {
  return new Error(`${where}: ${path === '' ? '' : `${path}: `}${message}`);
}

const show = (v: unknown): string => (v === undefined ? 'nothing' : JSON.stringify(v));
const join = (path: string, key: string) => (path === '' ? key : `${path}.${key}`);

function fail(where: string, path: string, expected: string, v: unknown): never {
  throw configError(where, path, `must be ${expected}, got ${show(v)}`);
}

/** A finite number within the bounds (inclusive min/max, exclusive gt/lt); `integer` for counts. */
export function num(b: { min?: number; max?: number; gt?: number; lt?: number; integer?: boolean } = {}): Schema<number> {
  const what = b.integer ? 'an integer' : 'a number';
  const lo = b.min !== undefined ? `[${b.min}` : b.gt !== undefined ? `(${b.gt}` : undefined;
  const hi = b.max !== undefined ? `${b.max}]` : b.lt !== undefined ? `${b.lt})` : undefined;
  const expected =
    lo && hi
      ? `${what} in ${lo}, ${hi}`
      : lo
        ? `${what} ${b.min !== undefined ? '≥' : '>'} ${lo.slice(1)}`
        : hi
          ? `${what} ${b.max !== undefined ? '≤' : '<'} ${hi.slice(0, -1)}`
          : what;
  return {
    expected,
    parse(v, path, where) {
      // A string that looks like a number ("1e4") is still a string: JSON says what type it is.
      const ok =
        typeof v === 'number' &&
        Number.isFinite(v) &&
        (!b.integer || Number.isInteger(v)) &&
        (b.min === undefined || v >= b.min) &&
        (b.max === undefined || v <= b.max) &&
        (b.gt === undefined || v > b.gt) &&
        (b.lt === undefined || v < b.lt);
      return ok ? (v as number) : fail(where, path, expected, v);
    },
  };
}

export const int = (min: number, max?: number) => num({ min, max, integer: true });

/** true or false — never the string "false". */
export const bool: Schema<boolean> = {
  expected: 'true or false',
  parse: (v, path, where) => (typeof v === 'boolean' ? v : fail(where, path, 'true or false (a JSON boolean)', v)),
};

export function str(nonEmpty = false): Schema<string> {
  const expected = nonEmpty ? 'a non-empty string' : 'a string';
  return {
    expected,
    parse: (v, path, where) => (typeof v === 'string' && (!nonEmpty || v !== '') ? v : fail(where, path, expected, v)),
  };
}

/** One of the listed strings. */
export function oneOf<const T extends string>(values: readonly T[]): Schema<T> {
  const expected = values
    .map((x) => JSON.stringify(x))
    .join(', ')
    .replace(/, ([^,]*)$/, ' or $1');
  return { expected, parse: (v, path, where) => (values.includes(v as T) ? (v as T) : fail(where, path, expected, v)) };
}

/** The value, or JSON null. */
export function nullable<T>(s: Schema<T>): Schema<T | null> {
  return { expected: `${s.expected} or null`, parse: (v, path, where) => (v === null ? null : s.parse(v, path, where)) };
}

/** A field that may be left out (then `fallback`); JSON null is not "left out". */
export function optional<T>(s: Schema<T>): Schema<T | undefined>;
export function optional<T>(s: Schema<T>, fallback: T): Schema<T>;
export function optional<T>(s: Schema<T>, fallback?: T): Schema<T | undefined> {
  return { expected: s.expected, parse: (v, path, where) => s.parse(v, path, where), optional: { fallback } };
}

/** A fixed-length array, element by element. */
export function tuple<A, B>(items: [Schema<A>, Schema<B>]): Schema<[A, B]> {
  const expected = `[${items.map((s) => s.expected).join(', ')}]`;
  return {
    expected,
    parse(v, path, where) {
      if (!Array.isArray(v) || v.length !== items.length) fail(where, path, `an array of ${items.length}: ${expected}`, v);
      return items.map((s, i) => s.parse(v[i], `${path}[${i}]`, where)) as [A, B];
    },
  };
}

/** An object with free keys (names of sub-corpora, say), every value checked. */
export function record<T>(value: Schema<T>): Schema<Record<string, T>> {
  return {
    expected: `an object of ${value.expected}`,
    parse(v, path, where) {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(where, path, 'a JSON object', v);
      return Object.fromEntries(Object.entries(v as object).map(([k, x]) => [k, value.parse(x, join(path, k), where)]));
    },
  };
}

type Shape = Record<string, Schema<unknown>>;
// Fields that may be undefined are optional keys (so a default object need not list them).
export type ObjectOf<S extends Shape> = { [K in keyof S as undefined extends Infer<S[K]> ? K : never]?: Infer<S[K]> } & {
  [K in keyof S as undefined extends Infer<S[K]> ? never : K]: Infer<S[K]>;
};

/** An object with exactly these keys (absent ones must be optional); any other key is an error. */
export function object<S extends Shape>(shape: S): Schema<ObjectOf<S>> {
  const known = Object.keys(shape);
  return {
    expected: 'a JSON object',
    parse(v, path, where) {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(where, path, 'a JSON object', v);
      const o = v as Record<string, unknown>;
      checkKeys(Object.keys(o), known, path, where);
      const out: Record<string, unknown> = {};
      for (const k of known) {
        const s = shape[k]!;
        if (o[k] === undefined) {
          if (!s.optional) throw configError(where, join(path, k), `is required (${s.expected})`);
          out[k] = s.optional.fallback;
        } else out[k] = s.parse(o[k], join(path, k), where);
      }
      return out as ObjectOf<S>;
    },
  };
}

/** Refuse keys that are not in `known`, naming the nearest valid one (or listing them all). */
export function checkKeys(keys: readonly string[], known: readonly string[], path: string, where: string): void {
  for (const k of keys) {
    if (known.includes(k)) continue;
    const near = nearest(k, known);
    const hint = near ? `did you mean ${near}?` : `the known keys are ${known.join(', ')}`;
    throw configError(where, join(path, k), `unknown key; ${hint}`);
  }
}

/** The known name closest to `name` by edit distance, if it is close enough to be a typo. */
export function nearest(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const d = editDistance(name.toLowerCase(), k.toLowerCase());
    if (d < bestD) [best, bestD] = [k, d];
  }
  return bestD <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

/** Levenshtein distance (insert, delete, substitute), one row at a time. */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++)
      row.push(Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)));
    prev = row;
  }
  return prev[b.length]!;
}
