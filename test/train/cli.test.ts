// The llmjp4 CLI dispatcher, the progress bar, the SVG chart and the atomic writer.
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { writeFileAtomic } from '../../model/io/atomic_write.js';
import { main, usage } from '../../train/cli/main.js';
import { lineChartSvg, niceTicks } from '../../train/plot.js';
import { clock, ProgressBar } from '../../train/progress.js';

describe('llmjp4 CLI', () => {
  it('lists its commands, prints the version, rejects unknown commands with exit code 2', async () => {
    expect(usage()).toMatch(/usage: llmjp4 <command>[\s\S]*demo[\s\S]*version/);
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    const err = vi.spyOn(console, 'error').mockImplementation(() => {});
    expect(await main(['version'])).toBe(0);
    expect(log).toHaveBeenCalledWith(JSON.parse(readFileSync('package.json', 'utf8')).version);
    expect(await main(['frobnicate'])).toBe(2);
    expect(err.mock.calls[0][0]).toMatch(/^llmjp4: unknown command 'frobnicate'/);
    expect(await main(['demo', '--steps'])).toBe(1);
    expect(err.mock.calls[1][0]).toMatch(/^llmjp4 demo: /);
    log.mockRestore();
    err.mockRestore();
  });
});

describe('progress bar', () => {
  it('shows count, percentage, rate, ETA and metrics', () => {
    let t = 0;
    const lines: string[] = [];
    const stream = { isTTY: false, write: (s: string) => lines.push(s) } as unknown as NodeJS.WriteStream;
    const bar = new ProgressBar(10, 'train', { stream, now: () => t, width: 10 });
    t = 2000;
    bar.tick(5, { loss: 1.5 });
    expect(lines[0]).toBe('train [#####-----]  50% 5/10  2.5 it/s  ETA 0:02  loss 1.5000\n');
    bar.tick(1);
    expect(lines.length).toBe(2); // a new decile
    bar.tick(0);
    expect(lines.length).toBe(2); // same decile: no new line in a log
    expect(clock(3725)).toBe('1:02:05');
    expect(clock(NaN)).toBe('?');
  });
});

describe('SVG chart', () => {
  it('draws one polyline per series with nice ticks, escaping text', () => {
    expect(niceTicks(0, 1)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(2.2, 6.5)).toEqual([3, 4, 5, 6]);
    const svg = lineChartSvg(
      [
        {
          name: 'a<b',
          points: [
            [0, 1],
            [1, 2],
          ],
        },
        {
          name: 'c',
          points: [
            [0, 3],
            [1, NaN],
          ],
        },
      ],
      { title: 'T & U', xLabel: 'x', yLabel: 'y' },
    );
    expect(svg.match(/<polyline/g)!.length).toBe(2);
    expect(svg).toContain('a&lt;b');
    expect(svg).toContain('T &amp; U');
    expect(svg).not.toContain('NaN');
  });
});

describe('atomic write', () => {
  it('replaces the file and leaves no temporary behind', () => {
    const dir = mkdtempSync(join(tmpdir(), 'llmjp4-atomic-'));
    const path = join(dir, 'sub', 'f.txt');
    writeFileAtomic(path, 'one');
    writeFileAtomic(path, new Uint8Array([116, 119, 111]));
    expect(readFileSync(path, 'utf8')).toBe('two');
    expect(readdirSync(join(dir, 'sub'))).toEqual(['f.txt']);
  });
});

describe('heat map', () => {
  it('draws one titled cell per value, shaded by value, and checks its labels', async () => {
    const { heatmapSvg } = await import('../../train/plot.js');
    const svg = heatmapSvg(
      [
        [0, 0.5],
        [1, 0.25],
      ],
      { title: 'experts', rowLabels: ['layer 0', 'layer 1'], colLabels: ['e0', 'e1'], valueLabel: 'share' },
    );
    expect(svg.match(/<rect x=/g)?.length).toBe(4);
    expect(svg).toContain('<title>layer 1, e0: 1</title>');
    expect(svg).toContain('fill="rgb(255,255,255)"'); // 0 is white
    expect(svg).toContain('fill="rgb(8,48,107)"'); // the maximum is dark
    expect(() => heatmapSvg([[1, 2]], { title: '', rowLabels: ['a'], colLabels: ['x'], valueLabel: '' })).toThrow(
      /1×2 values but 1 row and 1 column labels/,
    );
  });
});
