// A progress bar for long work: step count, rate, ETA and the latest metrics. On a terminal it
// redraws one line; in a log (CI, a pipe) it prints a line every 10% so the output stays readable.

export interface ProgressOptions {
  stream?: NodeJS.WriteStream;
  /** Width of the bar in characters (default 24). */
  width?: number;
  /** Clock in ms, injectable for tests (default performance.now). */
  now?: () => number;
}

export class ProgressBar {
  readonly total: number;
  readonly label: string;
  #done = 0;
  #start: number;
  #lastLogged = -1;
  #stream: NodeJS.WriteStream;
  #width: number;
  #now: () => number;

  constructor(total: number, label: string, opts: ProgressOptions = {}) {
    this.total = total;
    this.label = label;
    this.#stream = opts.stream ?? process.stderr;
    this.#width = opts.width ?? 24;
    this.#now = opts.now ?? (() => performance.now());
    this.#start = this.#now();
  }

  /** Advance by `n` units and show the line with `metrics` (e.g. { loss: 2.31 }). */
  tick(n = 1, metrics: Record<string, string | number> = {}): void {
    this.#done = Math.min(this.total, this.#done + n);
    const line = this.render(metrics);
    if (this.#stream.isTTY) {
      this.#stream.write(`\r${line}\x1b[K`);
    } else {
      const decile = Math.floor((10 * this.#done) / this.total);
      if (decile !== this.#lastLogged) {
        this.#lastLogged = decile;
        this.#stream.write(`${line}\n`);
      }
    }
  }

  /** Finish the line (a newline on a terminal). */
  done(): void {
    if (this.#stream.isTTY) this.#stream.write('\n');
  }

  /** The line as shown: `label [#####-----] 50% 5/10 3.2 it/s ETA 0:02 loss 1.23`. */
  render(metrics: Record<string, string | number> = {}): string {
    const frac = this.total === 0 ? 1 : this.#done / this.total;
    const filled = Math.round(frac * this.#width);
    const bar = '#'.repeat(filled) + '-'.repeat(this.#width - filled);
    const elapsed = (this.#now() - this.#start) / 1000;
    const rate = elapsed > 0 ? this.#done / elapsed : 0;
    const eta = rate > 0 ? (this.total - this.#done) / rate : NaN;
    const shown = Object.entries(metrics).map(([k, v]) => `${k} ${typeof v === 'number' ? v.toFixed(4) : v}`);
    const pct = `${Math.floor(frac * 100)}%`.padStart(4);
    return [
      `${this.label} [${bar}] ${pct} ${this.#done}/${this.total}`,
      `${rate.toFixed(1)} it/s`,
      `ETA ${clock(eta)}`,
      ...shown,
    ].join('  ');
  }
}

/** Seconds as m:ss (or h:mm:ss); '?' when unknown. */
export function clock(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  const [h, m, r] = [Math.floor(s / 3600), Math.floor((s % 3600) / 60), s % 60];
  const mm = h > 0 ? String(m).padStart(2, '0') : String(m);
  return `${h > 0 ? `${h}:` : ''}${mm}:${String(r).padStart(2, '0')}`;
}
