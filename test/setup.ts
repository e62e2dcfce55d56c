// Per-file test setup: report how many property cases each file ran (for the closing notes).
import { afterAll } from 'vitest';
import { propertyRuns } from '../core/testing/index.js';

afterAll(() => {
  const n = propertyRuns();
  if (n > 0) console.log(`[property runs] ${n}`);
});
