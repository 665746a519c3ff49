/** `list`: invocations newest first, filtered, a page at a time. */
import { LIMITS, listOptionsSchema } from '../../config.js';
import type { ListInvocationsOptions } from '../../options.js';
import { defineCommand, JSON_FLAG } from '../command.js';
import { usageError } from '../exit.js';
import { printJson } from '../json-output.js';
import { invocationTable } from '../views/invocation-table.js';
import { parseTime } from '../time.js';
import { intFlag, schemaFlag, statusFlag } from '../values.js';

const fields = listOptionsSchema.shape;

export const list = defineCommand({
  name: 'list',
  summary: 'list invocations, newest first, filtered by function, status, time or invocation id',
  description:
    'Times for --since/--until: an ISO time (2026-01-31T12:00:00Z; without a zone, local time), a time ago\n' +
    '(30s, 15m, 1h, 2d, 1w) or epoch milliseconds. They filter on the creation time: since <= createdAt < until.\n' +
    'More pages: pass the printed cursor to --cursor (with the same filters).',
  flags: {
    function: { type: 'string', value: 'name', description: 'only this function' },
    status: { type: 'string', multiple: true, value: 'status', description: 'only these statuses (repeat, or comma-separated): Enqueued, Running, Retrying, Succeeded, Failed, Stopping, Stopped, Expired, Invalid' },
    since: { type: 'string', value: 'time', description: 'created at or after this time' },
    until: { type: 'string', value: 'time', description: 'created before this time' },
    'id-prefix': { type: 'string', value: 'prefix', description: 'only invocations whose invocationId starts with this' },
    limit: { type: 'string', value: 'n', description: `page size, ${LIMITS.listLimit.min}..${LIMITS.listLimit.max} (default ${LIMITS.listLimit.default})` },
    cursor: { type: 'string', value: 'cursor', description: 'the next page: the cursor the previous page printed' },
    iso: { type: 'boolean', description: 'show ISO times instead of "3m ago"' },
    ...JSON_FLAG,
  },
  examples: [
    'async-invoker list --store sqlite:./invocations.db',
    'async-invoker list --store redis://127.0.0.1:6379?prefix=orders --function transcode --status Failed,Expired --since 1h',
    'async-invoker list --store postgres://app@db/app?schema=jobs --id-prefix import_ --json | jq -r ".items[].requestId"',
  ],
  async run({ flags, io, invoker }) {
    const now = io.now();
    const since = flags.since === undefined ? undefined : parseTime('--since', flags.since, now);
    const until = flags.until === undefined ? undefined : parseTime('--until', flags.until, now);
    if (since !== undefined && until !== undefined && since >= until) {
      throw usageError(`--since must be before --until; received --since ${flags.since} and --until ${flags.until}`);
    }
    const functionName = schemaFlag('--function', fields.functionName, flags.function);
    const invocationIdPrefix = schemaFlag('--id-prefix', fields.invocationIdPrefix, flags['id-prefix']);
    const status = statusFlag(flags.status);
    const limit = intFlag('--limit', flags.limit, LIMITS.listLimit);
    const cursor = schemaFlag('--cursor', fields.cursor, flags.cursor);
    const options: ListInvocationsOptions = {
      ...(functionName !== undefined ? { functionName } : {}),
      ...(invocationIdPrefix !== undefined ? { invocationIdPrefix } : {}),
      ...(status !== undefined ? { status } : {}),
      ...(since !== undefined ? { since } : {}),
      ...(until !== undefined ? { until } : {}),
      ...(limit !== undefined ? { limit } : {}),
      ...(cursor !== undefined ? { cursor } : {}),
    };
    const page = await (await invoker()).listInvocations(options);
    if (flags.json) return printJson(io, page);
    if (page.items.length === 0) io.out(cursor === undefined ? 'No invocations match.' : 'No more invocations.');
    else io.out(invocationTable(page.items, io.now(), flags.iso === true));
    // On stderr: the table on stdout stays a table for `| grep` and `| wc -l`.
    if (page.nextCursor !== undefined) io.err(`More: add --cursor ${page.nextCursor}`);
  },
});
