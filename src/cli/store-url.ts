/**
 * `--store <url>`: which store, where. `sqlite:<path>` (also `sqlite://<path>`, so
 * `sqlite:///abs/path.db`), `redis://` / `rediss://` with `?prefix=` (and `&cluster=1` for a
 * node of a Redis Cluster), `postgres://` /
 * `postgresql://` with `?schema=`. Credentials never appear in what is shown back.
 */
import { usageError } from './exit.js';

export type StoreTarget =
  | { readonly kind: 'sqlite'; readonly path: string; readonly shown: string }
  | { readonly kind: 'redis'; readonly url: string; readonly prefix?: string; readonly cluster?: true; readonly shown: string }
  | { readonly kind: 'postgres'; readonly connectionString: string; readonly schema?: string; readonly shown: string };

export const STORE_URL_FORMS = 'sqlite:<path>, redis://host:port[?prefix=<prefix>][&cluster=1], rediss://..., or postgres://user@host:port/db[?schema=<schema>]';

/** The environment variable read when `--store` is not given. */
export const STORE_ENV = 'ASYNC_INVOKER_STORE';

export function parseStoreUrl(value: string | undefined): StoreTarget {
  if (value === undefined || value.trim() === '') {
    throw usageError(`--store is required: ${STORE_URL_FORMS} (or set ${STORE_ENV})`);
  }
  const text = value.trim();
  if (/^sqlite:/i.test(text)) return sqlite(text);
  if (/^rediss?:\/\//i.test(text)) {
    const { url: withCluster, param } = withoutParam(text, 'prefix');
    // ?cluster=1: the host is one node of a Redis Cluster (the store finds the others).
    const { url, param: cluster } = withoutParam(withCluster, 'cluster');
    if (cluster !== undefined && cluster !== '1' && cluster !== 'true') {
      throw usageError(`--store has ?cluster=${cluster}; give cluster=1 for a node of a Redis Cluster, or leave it out`);
    }
    return {
      kind: 'redis', url, ...(param !== undefined ? { prefix: param } : {}), ...(cluster !== undefined ? { cluster: true as const } : {}), shown: redact(text),
    };
  }
  if (/^postgres(?:ql)?:\/\//i.test(text)) {
    const { url, param } = withoutParam(text, 'schema');
    return { kind: 'postgres', connectionString: url, ...(param !== undefined ? { schema: param } : {}), shown: redact(text) };
  }
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(text)?.[1];
  const what = scheme ? `the scheme "${scheme}:" is not a store this tool knows` : 'it has no scheme';
  throw usageError(`--store must be ${STORE_URL_FORMS}; received ${JSON.stringify(redact(text))}: ${what}`);
}

function sqlite(text: string): StoreTarget {
  let path = text.slice('sqlite:'.length);
  if (path.startsWith('//')) path = path.slice(2);
  if (path === '' || path === ':memory:') {
    throw usageError(
      `--store ${JSON.stringify(text)} needs a database file: sqlite:./invocations.db or sqlite:/abs/path.db ` +
        '(an in-memory database would be empty and private to this command)',
    );
  }
  return { kind: 'sqlite', path, shown: `sqlite:${path}` };
}

/** The URL without one query parameter, and that parameter's value (refused if given twice or empty). */
function withoutParam(text: string, name: string): { url: string; param?: string } {
  if (!URL.canParse(text)) throw usageError(`--store is not a valid URL: ${JSON.stringify(redact(text))}; expected ${STORE_URL_FORMS}`);
  const url = new URL(text);
  const values = url.searchParams.getAll(name);
  if (values.length > 1) throw usageError(`--store has ?${name}= ${values.length} times; give it once`);
  const param = values[0];
  if (param === '') throw usageError(`--store has an empty ?${name}=; give a value or leave it out`);
  url.searchParams.delete(name);
  return { url: url.toString(), ...(param !== undefined ? { param } : {}) };
}

/** The URL with its password replaced, for messages. */
export function redact(text: string): string {
  if (!URL.canParse(text)) return text.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@');
  const url = new URL(text);
  if (url.password) url.password = '***';
  return url.toString();
}
