import pg from 'pg';
import { afterAll, describe } from 'vitest';
import { postgresStore } from '../../src/stores/postgres/index.js';
import type { PostgresStoreOptions } from '../../src/stores/postgres/options.js';
import { PG_URL, pgAvailable, randomSchema } from '../stores/postgres-cluster.js';
import { flowCases } from './flow-cases.js';

const admin = new pg.Pool({ connectionString: PG_URL, max: 1 });
admin.on('error', () => {});
const available = await pgAvailable(admin, 'postgres flow tests');
/** A schema per run: the workers and this process share it, no other test sees it. */
const schemas: string[] = [];

afterAll(async () => {
  if (available) for (const schema of schemas) await admin.query(`drop schema if exists "${schema}" cascade`);
  await admin.end();
});

describe.runIf(available)('postgres', () => {
  flowCases({
    kind: 'postgres',
    freshOptions: () => {
      const schema = randomSchema('flow');
      schemas.push(schema);
      return { connectionString: PG_URL, schema, max: 4 };
    },
    open: (options) => postgresStore(options as PostgresStoreOptions),
  });
});
