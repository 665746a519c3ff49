/** `show`: one invocation's record. */
import { functionNameSchema, invocationIdSchema, redactPathsSchema, requestIdSchema } from '../../config.js';
import { compileRedactor } from '../../redact.js';
import type { InvocationRecord } from '../../types.js';
import { defineCommand, JSON_FLAG } from '../command.js';
import { CliError, EXIT, usageError } from '../exit.js';
import { printJson } from '../json-output.js';
import { schemaFlag } from '../values.js';
import { invocationView } from '../views/invocation-record.js';

export const show = defineCommand({
  name: 'show',
  summary: 'show one invocation: status, attempts, times, payload, result or error, events',
  args: '<requestId>',
  argCount: { min: 0, max: 1 },
  description: 'Give the request id, or --function and --invocation-id to find it by the id the caller chose.',
  flags: {
    function: { type: 'string', value: 'name', description: 'with --invocation-id: the function the invocation belongs to' },
    'invocation-id': { type: 'string', value: 'id', description: 'find the invocation by its invocationId (needs --function)' },
    redact: {
      type: 'string',
      value: 'paths',
      description: "comma-separated paths shown as \"[redacted]\", as the function's redact option takes them (payloads are stored as given): payload.card.number,result.token",
    },
    ...JSON_FLAG,
  },
  examples: [
    'async-invoker show 01JH3Q8Z5C4W2X9V7B6N5M4K3J --store sqlite:./invocations.db',
    'async-invoker show --function transcode --invocation-id job_42 --store redis://127.0.0.1:6379 --json',
    'async-invoker show 01JH3Q8Z5C4W2X9V7B6N5M4K3J --store sqlite:./invocations.db --redact payload.card.number,payload.*.token',
  ],
  async run({ flags, args, io, invoker }) {
    const requestId = schemaFlag('<requestId>', requestIdSchema, args[0]);
    const functionName = schemaFlag('--function', functionNameSchema, flags.function);
    const invocationId = schemaFlag('--invocation-id', invocationIdSchema, flags['invocation-id']);
    const redactor = flags.redact === undefined ? undefined : compileRedactor(schemaFlag('--redact', redactPathsSchema, flags.redact.split(',').map((p) => p.trim())));
    if ((functionName === undefined) !== (invocationId === undefined)) throw usageError('--function and --invocation-id go together: give both, or a request id');
    if (requestId !== undefined && invocationId !== undefined) throw usageError('give a request id or --function and --invocation-id, not both');
    let record: InvocationRecord | undefined;
    let what: string;
    if (requestId !== undefined) {
      record = await (await invoker()).getInvocation(requestId);
      what = `requestId ${JSON.stringify(requestId)}`;
    } else if (invocationId !== undefined && functionName !== undefined) {
      record = await (await invoker()).findInvocation(functionName, invocationId);
      what = `invocationId ${JSON.stringify(invocationId)} of function ${JSON.stringify(functionName)}`;
    } else {
      throw usageError('missing a request id: async-invoker show <requestId> --store <url>, or find it with --function <name> --invocation-id <id>');
    }
    if (!record) throw new CliError(`no invocation with ${what}: check the id and --store (finished invocations are pruned after the store's retention)`, EXIT.notFound);
    if (redactor) {
      record = { ...record, payload: redactor(record.payload, 'payload'), ...(record.result === undefined ? {} : { result: redactor(record.result, 'result') }) };
    }
    if (flags.json) return printJson(io, record);
    io.out(invocationView(record, io.now()));
  },
});
