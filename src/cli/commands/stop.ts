/** `stop`: stops an invocation (a running one is aborted by its worker). */
import { requestIdSchema } from '../../config.js';
import { defineCommand, JSON_FLAG } from '../command.js';
import { printJson } from '../json-output.js';
import { schemaFlag } from '../values.js';

export const stop = defineCommand({
  name: 'stop',
  summary: 'stop an invocation: a waiting one at once, a running one through its worker (Stopping, then Stopped)',
  args: '<requestId>',
  argCount: { min: 1, max: 1 },
  argNeeded: 'a request id',
  description: 'An invocation that had already finished is left as it was (exit code 0; the output says so).\nWith --json: the API\'s { requestId, status }.',
  flags: { ...JSON_FLAG },
  examples: ['async-invoker stop 01JH3Q8Z5C4W2X9V7B6N5M4K3J --store sqlite:./invocations.db'],
  async run({ args, flags, io, invoker }) {
    const requestId = schemaFlag('<requestId>', requestIdSchema, args[0])!;
    const result = await (await invoker()).stopInvocation(requestId);
    if (flags.json) return printJson(io, result);
    if (result.status === 'Stopped') io.out(`Stopped ${requestId}`);
    else if (result.status === 'Stopping') io.out(`Stopping ${requestId}: its worker is aborting the running attempt`);
    else io.out(`${requestId} had already finished (${result.status}); nothing to stop`);
  },
});
