// Warm-up then rounds: the first round pays for JIT compilation, connection set-up and
// prepared statements, which is not what the table is about.
import { median } from './stats.js';

export const ROUNDS = 3;

/**
 * Runs `once(n)` once with a small warm-up count, then ROUNDS times with `n`; each call returns
 * { ms, ...extra }. Returns the rounds' results and the median ops/s.
 */
export async function measure(once, n, { warmupN = Math.max(50, Math.round(n / 5)), rounds = ROUNDS } = {}) {
  await once(warmupN);
  const results = [];
  for (let i = 0; i < rounds; i++) results.push(await once(n));
  const opsPerSec = median(results.map((r) => ((r.count ?? n) / r.ms) * 1000));
  return { results, opsPerSec };
}

/** Resolves when `check()` is true, polling each `everyMs`; rejects after `timeoutMs`. */
export async function waitFor(check, what, timeoutMs, everyMs = 5) {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
