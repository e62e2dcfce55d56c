// Drawing an Inspection into the page: plain DOM and SVG, no framework. Every function takes the
// element to fill and the numbers to show, and replaces what was there.

import type { Candidate, Inspection } from './inspect.js';

const SVG = 'http://www.w3.org/2000/svg';

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  text?: string,
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

function svgEl(tag: string, attrs: Record<string, string | number>, text?: string): SVGElement {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

/**
 * The tokens as chips: the piece (SentencePiece's ▁ marks a word start), its id, and how likely the
 * model found it one position earlier (greener = more expected); the first token has no such number.
 */
export function renderTokens(
  target: HTMLElement,
  ids: readonly number[],
  pieces: readonly string[],
  given: readonly (number | null)[],
): void {
  target.replaceChildren(
    ...ids.map((id, i) => {
      const p = given[i];
      const chip = el('span', {
        class: 'token',
        title: `position ${i}, id ${id}${p === null ? '' : `, p = ${p!.toFixed(4)} as the next token`}`,
      });
      if (p !== null && p !== undefined) {
        chip.dataset.p = String(p);
        chip.style.background = `hsl(130 55% ${Math.round(97 - 35 * Math.sqrt(p))}%)`;
      }
      chip.append(
        el('span', { class: 'piece' }, pieces[i]!),
        el('span', { class: 'id' }, String(id)),
        el('span', { class: 'p' }, p === null || p === undefined ? '—' : p < 0.001 ? '<0.1%' : `${(100 * p).toFixed(1)}%`),
      );
      return chip;
    }),
  );
}

/** The next-token distribution: one bar per candidate, width ∝ probability. */
export function renderNext(target: HTMLElement, next: readonly Candidate[]): void {
  target.replaceChildren(
    ...next.map((c) => {
      const row = el('li', { class: 'candidate' });
      const bar = el('span', { class: 'bar' });
      bar.style.width = `${(100 * c.p).toFixed(1)}%`;
      row.append(el('span', { class: 'piece' }, c.piece), el('span', { class: 'prob' }, `${(100 * c.p).toFixed(2)} %`), bar);
      return row;
    }),
  );
}

/** One head's attention as a heat map: row = query token, column = key token, darker = more weight. */
export function renderAttention(target: HTMLElement, pieces: readonly string[], probs: Float32Array, head: number): void {
  const T = pieces.length;
  const cell = Math.max(8, Math.min(28, Math.floor(560 / T)));
  const label = 90;
  const size = label + T * cell;
  const svg = svgEl('svg', { width: size, height: size, viewBox: `0 0 ${size} ${size}`, class: 'heatmap', role: 'img' });
  svg.append(svgEl('title', {}, `attention of head ${head}: rows are queries, columns keys`));
  const short = (p: string) => (p.length > 10 ? `${p.slice(0, 9)}…` : p);
  pieces.forEach((p, i) => {
    svg.append(svgEl('text', { x: label - 4, y: label + i * cell + cell * 0.7, 'text-anchor': 'end', class: 'axis' }, short(p)));
    svg.append(
      svgEl(
        'text',
        { x: 0, y: 0, transform: `translate(${label + i * cell + cell * 0.7} ${label - 4}) rotate(-60)`, class: 'axis' },
        short(p),
      ),
    );
  });
  const base = head * T * T;
  for (let q = 0; q < T; q++) {
    for (let k = 0; k < T; k++) {
      const w = probs[base + q * T + k]!;
      const rect = svgEl('rect', {
        x: label + k * cell,
        y: label + q * cell,
        width: cell - 1,
        height: cell - 1,
        fill: `rgba(190, 30, 45, ${Math.sqrt(w).toFixed(3)})`,
        class: 'cell',
        'data-weight': w.toFixed(4),
      });
      rect.append(svgEl('title', {}, `${pieces[q]} → ${pieces[k]}: ${w.toFixed(3)}`));
      svg.append(rect);
    }
  }
  target.replaceChildren(svg);
}

/** Every head of one layer as a small picture (the same colours as the big map); clicking one selects it. */
export function renderHeadThumbnails(
  target: HTMLElement,
  T: number,
  probs: Float32Array,
  heads: number,
  selected: number,
  pick: (head: number) => void,
): void {
  const px = Math.max(2, Math.min(6, Math.floor(120 / T)));
  target.replaceChildren(
    ...Array.from({ length: heads }, (_, h) => {
      const figure = el('figure', { class: h === selected ? 'thumb selected' : 'thumb', title: `head ${h}` });
      const canvas = el('canvas', { width: String(T * px), height: String(T * px) });
      const g = canvas.getContext('2d')!;
      for (let q = 0; q < T; q++) {
        for (let k = 0; k <= q; k++) {
          g.fillStyle = `rgba(190, 30, 45, ${Math.sqrt(probs[h * T * T + q * T + k]!).toFixed(3)})`;
          g.fillRect(k * px, q * px, px, px);
        }
      }
      figure.append(canvas, el('figcaption', {}, `head ${h}`));
      figure.addEventListener('click', () => pick(h));
      return figure;
    }),
  );
}

/** MoE routing: one row per token, one column per sparse layer, each cell the chosen experts and their weights. */
export function renderRouting(target: HTMLElement, x: Inspection, experts: number): void {
  if (x.routing.length === 0) {
    target.replaceChildren(el('p', {}, 'This is a dense (Llama) model: every token goes through the one MLP of each layer.'));
    return;
  }
  const table = el('table', { class: 'routing' });
  const head = el('tr');
  head.append(el('th', {}, 'token'), ...x.routing.map((r) => el('th', {}, `layer ${r.layer}`)));
  table.append(head);
  x.pieces.forEach((piece, t) => {
    const row = el('tr');
    row.append(el('td', { class: 'piece' }, piece));
    for (const r of x.routing) {
      const td = el('td');
      for (const { expert, weight } of r.experts[t]!) {
        const chip = el(
          'span',
          { class: 'expert', title: `expert ${expert} of ${experts}, weight ${weight.toFixed(3)}` },
          `e${expert} ${weight.toFixed(2)}`,
        );
        chip.style.background = `hsl(${Math.round((360 * expert) / experts)} 70% ${Math.round(92 - 30 * weight)}%)`;
        td.append(chip);
      }
      row.append(td);
    }
    table.append(row);
  });
  target.replaceChildren(table);
}
