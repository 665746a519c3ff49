import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
// Inside the package, so `import 'async-invoker'` resolves to the built package by its own name.
const dir = join(process.cwd(), '.vitest-tmp', 'readme');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The README's code blocks marked `<!-- readme-test: runs -->`. */
function runnableBlocks(): string[] {
  const text = readFileSync('README.md', 'utf8');
  return [...text.matchAll(/<!-- readme-test: runs -->\s*```js\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

describe('README examples', () => {
  const blocks = runnableBlocks();
  it('has runnable blocks', () => expect(blocks.length).toBeGreaterThanOrEqual(2));
  blocks.forEach((code, i) => {
    it(`block ${i + 1} runs (${code.split('\n').find((l) => l.includes("from 'async-invoker"))?.trim()})`, async () => {
      mkdirSync(dir, { recursive: true });
      const file = join(dir, `block-${i + 1}.mjs`);
      writeFileSync(file, code);
      const { stderr } = await run(process.execPath, [file], { timeout: 20_000 });
      expect(stderr).toBe('');
    });
  });
});
