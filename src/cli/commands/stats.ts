/** `stats`: queue and last-hour figures per function, and the live workers. */
import { functionNameSchema } from '../../config.js';
import { defineCommand, JSON_FLAG } from '../command.js';
import { printJson } from '../json-output.js';
import { statsReport } from '../stats-report.js';
import { schemaFlag } from '../values.js';
import { statsView } from '../views/stats-view.js';

export const stats = defineCommand({
  name: 'stats',
  summary: 'per function: waiting, running, oldest waiting, unserved, last hour\'s outcomes and p50/p95 times; live workers',
  description:
    'Queue figures are read now; outcomes and times come from the activity every worker adds to the store\n' +
    '(every 10 s), over the current minute and the 59 before it. --json prints the documented StatsReport object.',
  flags: {
    function: { type: 'string', value: 'name', description: 'only this function' },
    ...JSON_FLAG,
  },
  examples: ['async-invoker stats --store sqlite:./invocations.db', 'async-invoker stats --store redis://127.0.0.1:6379?prefix=orders --json'],
  async run({ flags, io, invoker }) {
    const functionName = schemaFlag('--function', functionNameSchema, flags.function);
    const report = await statsReport(await invoker(), functionName);
    if (flags.json) return printJson(io, report);
    io.out(statsView(report));
  },
});
