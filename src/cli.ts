#!/usr/bin/env node
/**
 * `npx async-invoker <command> --store <url>`: list, show, logs, stop, rerun, stats, dashboard.
 * See the README's "Command line" section; the commands are in ./cli/.
 */
import { flushOutput, processIo } from './cli/io.js';
import { main } from './cli/main.js';

// Output piped into a reader that stopped reading (`| head`): stop quietly.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
}

const code = await main(process.argv.slice(2), processIo()).catch((error: unknown) => {
  // main answers every failure itself; this is the last resort for a bug in it.
  process.stderr.write(`async-invoker: unexpected failure: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  return 1;
});
await flushOutput();
// Everything the command opened is closed; exiting here also ends a driver's pending reconnect.
process.exit(code);
