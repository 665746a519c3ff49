/** `rerun`: runs a finished invocation's payload again under a new request id. */
import { requestIdSchema } from '../../config.js';
import { defineCommand, JSON_FLAG } from '../command.js';
import { printJson } from '../json-output.js';
import { schemaFlag } from '../values.js';

export const rerun = defineCommand({
  name: 'rerun',
  summary: 'run a finished invocation\'s payload again; prints the new request id',
  args: '<requestId>',
  argCount: { min: 1, max: 1 },
  argNeeded: 'a request id',
  description:
    'Only a finished invocation (Succeeded, Failed, Stopped, Expired, Invalid) can be re-run: exit code 5\n' +
    'otherwise. The new invocation carries rerunOf. stdout holds the new request id alone, for scripts;\n' +
    'with --json, the API\'s { requestId }.',
  flags: { ...JSON_FLAG },
  examples: [
    'async-invoker rerun 01JH3Q8Z5C4W2X9V7B6N5M4K3J --store sqlite:./invocations.db',
    'id=$(async-invoker rerun "$failed" --store "$STORE") && async-invoker logs "$id" --follow --store "$STORE"',
  ],
  async run({ args, flags, io, invoker }) {
    const requestId = schemaFlag('<requestId>', requestIdSchema, args[0])!;
    const result = await (await invoker()).rerunInvocation(requestId);
    if (flags.json) return printJson(io, result);
    io.out(result.requestId);
  },
});
