// Line charts as standalone SVG (loss curves, learning rates): no dependency, readable in any
// browser or image viewer. Axes with rounded ticks, one coloured polyline per series, a legend.

export interface Series {
  name: string;
  points: readonly (readonly [number, number])[];
}

export interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  width?: number;
  height?: number;
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];

/** About `count` "nice" tick values (1, 2 or 5 times a power of ten apart) covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function lineChartSvg(series: readonly Series[], opts: ChartOptions): string {
  const W = opts.width ?? 640;
  const H = opts.height ?? 400;
  const m = { left: 64, right: 16, top: 36, bottom: 48 };
  const all = series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const xs = all.map(([x]) => x);
  const ys = all.map(([, y]) => y);
  const [x0, x1] = all.length ? [Math.min(...xs), Math.max(...xs)] : [0, 1];
  let [y0, y1] = all.length ? [Math.min(...ys), Math.max(...ys)] : [0, 1];
  if (y0 === y1) [y0, y1] = [y0 - 1, y1 + 1];
  // Widen the y range to whole tick steps so every curve sits between labelled grid lines.
  const yTicks = niceTicks(y0, y1);
  const yStep = yTicks.length > 1 ? yTicks[1] - yTicks[0] : 1;
  [y0, y1] = [Math.floor(y0 / yStep) * yStep, Math.ceil(y1 / yStep) * yStep];
  const px = (x: number) => m.left + ((x - x0) / (x1 - x0 || 1)) * (W - m.left - m.right);
  const py = (y: number) => H - m.bottom - ((y - y0) / (y1 - y0)) * (H - m.top - m.bottom);

  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">${esc(opts.title)}</text>`,
  ];
  for (const t of niceTicks(y0, y1)) {
    parts.push(`<line x1="${m.left}" x2="${W - m.right}" y1="${py(t)}" y2="${py(t)}" stroke="#eee"/>`);
    parts.push(`<text x="${m.left - 6}" y="${py(t) + 4}" text-anchor="end">${t}</text>`);
  }
  for (const t of niceTicks(x0, x1)) parts.push(`<text x="${px(t)}" y="${H - m.bottom + 16}" text-anchor="middle">${t}</text>`);
  parts.push(`<line x1="${m.left}" x2="${m.left}" y1="${m.top}" y2="${H - m.bottom}" stroke="black"/>`);
  parts.push(`<line x1="${m.left}" x2="${W - m.right}" y1="${H - m.bottom}" y2="${H - m.bottom}" stroke="black"/>`);
  parts.push(`<text x="${W / 2}" y="${H - 10}" text-anchor="middle">${esc(opts.xLabel)}</text>`);
  parts.push(`<text transform="translate(16 ${H / 2}) rotate(-90)" text-anchor="middle">${esc(opts.yLabel)}</text>`);
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    const pts = s.points
      .filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y))
      .map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`);
    parts.push(`<polyline fill="none" stroke="${color}" stroke-width="1.5" points="${pts.join(' ')}"/>`);
    parts.push(`<rect x="${W - m.right - 150}" y="${m.top + 4 + i * 16}" width="10" height="10" fill="${color}"/>`);
    parts.push(`<text x="${W - m.right - 135}" y="${m.top + 13 + i * 16}">${esc(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}

export interface HeatmapOptions {
  title: string;
  /** Labels of the rows (e.g. "layer 0") and columns (e.g. expert ids). */
  rowLabels: readonly string[];
  colLabels: readonly string[];
  /** What a cell's value means, for the colour legend (e.g. "share of tokens"). */
  valueLabel: string;
  cell?: number;
}

/**
 * A heat map (rows × columns, white → dark blue), each cell titled with its value so a browser shows it
 * on hover: e.g. the share of routed tokens each expert received, per layer.
 */
export function heatmapSvg(values: readonly (readonly number[])[], opts: HeatmapOptions): string {
  const rows = values.length;
  const cols = Math.max(0, ...values.map((r) => r.length));
  if (opts.rowLabels.length !== rows || opts.colLabels.length !== cols) {
    throw new Error(
      `heatmapSvg: ${rows}×${cols} values but ${opts.rowLabels.length} row and ${opts.colLabels.length} column labels`,
    );
  }
  const cell = opts.cell ?? Math.max(10, Math.min(40, Math.floor(560 / Math.max(cols, 1))));
  const m = { left: 72, top: 40, right: 16, bottom: 64 };
  const W = m.left + cols * cell + m.right;
  const H = m.top + rows * cell + m.bottom;
  const finite = values.flat().filter(Number.isFinite);
  const hi = finite.length ? Math.max(...finite) : 1;
  const lo = finite.length ? Math.min(0, ...finite) : 0;
  const shade = (v: number) => {
    const t = hi > lo ? (v - lo) / (hi - lo) : 0;
    const c = (a: number, b: number) => Math.round(a + (b - a) * t);
    return `rgb(${c(255, 8)},${c(255, 48)},${c(255, 107)})`;
  };
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">${esc(opts.title)}</text>`,
  ];
  values.forEach((row, i) => {
    parts.push(
      `<text x="${m.left - 6}" y="${m.top + i * cell + cell / 2 + 4}" text-anchor="end">${esc(opts.rowLabels[i])}</text>`,
    );
    row.forEach((v, j) => {
      parts.push(
        `<rect x="${m.left + j * cell}" y="${m.top + i * cell}" width="${cell}" height="${cell}" fill="${shade(v)}" stroke="#ddd"><title>${esc(`${opts.rowLabels[i]}, ${opts.colLabels[j]}: ${Number(v.toPrecision(4))}`)}</title></rect>`,
      );
    });
  });
  const step = Math.ceil((cols * 14) / Math.max(cols * cell, 1));
  opts.colLabels.forEach((l, j) => {
    if (j % step === 0)
      parts.push(
        `<text x="${m.left + j * cell + cell / 2}" y="${m.top + rows * cell + 14}" text-anchor="middle">${esc(l)}</text>`,
      );
  });
  parts.push(
    `<text x="${m.left}" y="${H - 12}">${esc(`${opts.valueLabel}: white ${Number(lo.toPrecision(3))} → dark ${Number(hi.toPrecision(3))}`)}</text>`,
  );
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
