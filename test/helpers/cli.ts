// Run the llmjp4 CLI in-process: its exit code and what it printed (console.log / console.error lines).
import { vi } from 'vitest';
import { main } from '../../train/cli/main.js';

export async function runCli(...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((s) => void out.push(String(s)));
  const error = vi.spyOn(console, 'error').mockImplementation((s) => void err.push(String(s)));
  try {
    return { code: await main(argv), out, err };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}
