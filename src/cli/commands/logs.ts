/** `logs`: an invocation's execution log; `--follow` tails it until the invocation is final. */
import { requestIdSchema } from '../../config.js';
import type { InvocationLogLine } from '../../invocation-logs.js';
import { defineCommand, JSON_FLAG } from '../command.js';
import { EXIT } from '../exit.js';
import { follow, readAll } from '../follow.js';
import { iso } from '../time.js';
import { intFlag, schemaFlag } from '../values.js';

export const logs = defineCommand({
  name: 'logs',
  summary: 'print an invocation\'s execution log (ctx.log lines); --follow tails it until the invocation ends',
  args: '<requestId>',
  argCount: { min: 1, max: 1 },
  argNeeded: 'a request id',
  description:
    'Each line: time, attempt, level, message and data. With --json, one JSON object per line (JSON Lines),\n' +
    'the API\'s InvocationLogLine; its seq is the cursor for --after. --follow exits 0 once the invocation has\n' +
    'finished and its last lines are printed, 130 on Ctrl-C.',
  flags: {
    follow: { type: 'boolean', short: 'f', description: 'keep printing new lines until the invocation is final' },
    after: { type: 'string', value: 'seq', description: 'only lines after this seq (a line\'s seq from --json)' },
    json: { ...JSON_FLAG.json, description: 'print each line as a JSON object (JSON Lines)' },
  },
  examples: [
    'async-invoker logs 01JH3Q8Z5C4W2X9V7B6N5M4K3J --store sqlite:./invocations.db',
    'async-invoker logs 01JH3Q8Z5C4W2X9V7B6N5M4K3J --follow --store redis://127.0.0.1:6379?prefix=orders',
  ],
  async run({ flags, args, io, invoker }) {
    const requestId = schemaFlag('<requestId>', requestIdSchema, args[0])!;
    const after = intFlag('--after', flags.after, { min: 0, max: Number.MAX_SAFE_INTEGER }) ?? 0;
    const print = flags.json ? (line: InvocationLogLine) => io.out(JSON.stringify(line)) : (line: InvocationLogLine) => io.out(formatLine(line));
    const inv = await invoker();
    if (!flags.follow) {
      const cursor = await readAll(inv, requestId, after, print);
      // On stderr, so that stdout holds log lines only.
      if (cursor === after && !flags.json) io.err(after === 0 ? 'No log lines.' : `No log lines after ${after}.`);
      return;
    }
    const interrupts = io.interrupts();
    try {
      const end = await follow(inv, requestId, after, print, interrupts.signal);
      return end === 'final' ? EXIT.ok : EXIT.interrupted;
    } finally {
      interrupts.release();
    }
  },
});

/** `2026-01-31T12:00:00.000Z  #1  info   message {"data":1}` */
export function formatLine(line: InvocationLogLine): string {
  const data = line.data === undefined ? '' : ` ${JSON.stringify(line.data)}`;
  return `${iso(line.at)}  #${line.attempt}  ${line.level.padEnd(5)}  ${line.message}${data}`;
}
