import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

describe('examples/tracing', () => {
  it('prints one trace: send, two attempts, the delivery, and the destination function\'s attempt', async () => {
    // Against the built package (npm test builds first), as users would run it.
    const { stdout, stderr } = await run(process.execPath, ['examples/tracing/index.js'], { timeout: 20_000 });
    expect(stderr).toBe('');
    const tree = stdout.slice(stdout.indexOf('The trace, span by span:')).split('\n').slice(1).filter(Boolean);
    const traceIds = new Set(tree.map((line) => /\[trace (\w+)\]/.exec(line)?.[1]));
    expect(traceIds.size).toBe(1);
    expect(tree.map((line) => line.replace(/ \[trace \w+\].*$/, ''))).toEqual([
      'POST /upload',
      '  send transcode',
      '    process transcode',
      '    process transcode',
      '    deliver transcode',
      '      send notify',
      '        process notify',
    ]);
    expect(tree[2]).toMatch(/attempt=1 error=Error/);
    expect(tree[3]).toMatch(/attempt=2$/);
  });
});
