import { join } from 'node:path';
import { sqliteStore } from '../../src/stores/sqlite/index.js';
import { flowCases } from './flow-cases.js';

let n = 0;
flowCases({
  kind: 'sqlite',
  freshOptions: (dir) => ({ path: join(dir, `flow-${++n}.db`) }),
  open: (options) => sqliteStore(options as { path: string }),
});
