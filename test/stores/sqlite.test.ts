import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { StoreError } from '../../src/errors.js';
import type { NewInvocation } from '../../src/stores/contract.js';
import { sqliteStore } from '../../src/stores/sqlite/index.js';
import { createInvoker } from '../../src/invoker.js';
import type { InvocationContext } from '../../src/options.js';
import { waitFor, waitForStatus } from '../helpers.js';
import { claimReq, newInvocation, succeed, T0, testStore } from './conformance.js';

const dir = mkdtempSync(join(tmpdir(), 'async-invoker-sqlite-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
let path = join(dir, `conformance-${n}.db`);

testStore({
  name: 'sqlite',
  create: (options) => sqliteStore({ path, ...options }),
  cleanup: () => {
    path = join(dir, `conformance-${++n}.db`);
  },
  shared: true,
  // A file in a directory that does not exist: the SQLite form of a server that cannot be reached.
  unreachable: () => sqliteStore({ path: join(dir, 'missing-dir', 'x.db') }),
  extra: ({ open }) => {
    describe('sqlite specifics', () => {
      it('keeps invocations across a reopen of the file', async () => {
        const file = join(dir, 'reopen.db');
        const first = sqliteStore({ path: file });
        const inv = newInvocation({ invocationId: 'keep_1', payloadKey: 'k' });
        await first.enqueue([inv]);
        const [c] = (await first.claim(claimReq(T0))).items;
        await first.close();
        const second = sqliteStore({ path: file });
        try {
          expect(await second.get(inv.requestId)).toMatchObject({ status: 'Running', leaseToken: c!.leaseToken, attempts: 1 });
          expect(await second.settle([succeed(inv.requestId, c!.leaseToken, T0 + 5)])).toEqual(['ok']);
          expect((await second.enqueue([newInvocation({ invocationId: 'keep_1', payloadKey: 'k' })]))[0]).toEqual({ requestId: inv.requestId, outcome: 'duplicate' });
        } finally {
          await second.close();
        }
      });

      it('names the path when the directory does not exist', async () => {
        const bad = join(dir, 'missing-dir', 'x.db');
        const store = sqliteStore({ path: bad });
        const failure = store.get('x');
        await expect(failure).rejects.toBeInstanceOf(StoreError);
        await expect(failure).rejects.toThrow(bad);
        await store.close();
      });

      it('refuses a file that is not a SQLite database, or is another application\'s, naming the path', async () => {
        const text = join(dir, 'notes.txt');
        writeFileSync(text, 'hello, this is not a database at all '.repeat(200));
        const s1 = sqliteStore({ path: text });
        await expect(s1.list({ limit: 1 })).rejects.toThrow(new RegExp(`${text.replace(/[.]/g, '\\.')}.*not a database`));
        await s1.close();
        const other = join(dir, 'other.db');
        const db = new Database(other);
        db.exec('CREATE TABLE users (id INTEGER PRIMARY KEY)');
        db.close();
        const s2 = sqliteStore({ path: other });
        const failure = s2.enqueue([newInvocation()]);
        await expect(failure).rejects.toBeInstanceOf(StoreError);
        await expect(failure).rejects.toThrow(`${other} is a SQLite database of another application`);
        await s2.close();
      });

      it('validates its options, naming the field', () => {
        expect(() => sqliteStore({})).toThrow(/sqliteStore options\.path must be set exactly one of path and database/);
        expect(() => sqliteStore({ path: 'x.db', busyTimeoutMs: -1 })).toThrow(/busyTimeoutMs must be an integer from 0 to 60000; received -1/);
        expect(() => sqliteStore({ path: 'x.db', retention: { maxCount: 1.5 } })).toThrow(/retention\.maxCount/);
        expect(() => sqliteStore({ path: 'x.db', synchronous: 'off' as never })).toThrow(/synchronous must be 'full' or 'normal'; received "off"/);
      });

      it('commits with synchronous FULL by default, NORMAL when asked', async () => {
        for (const [synchronous, pragma] of [[undefined, 2], ['full', 2], ['normal', 1]] as const) {
          const db = new Database(join(dir, `sync-${synchronous ?? 'default'}.db`));
          const store = sqliteStore(synchronous === undefined ? { database: db } : { database: db, synchronous });
          await store.enqueue([newInvocation()]);
          expect(db.pragma('synchronous', { simple: true })).toBe(pragma);
          await store.close();
          db.close();
        }
      });

      it("keeps every acknowledged enqueue with synchronous 'normal' when the process is SIGKILLed", async () => {
        const file = join(dir, 'normal-kill.db');
        const script = `
          const { sqliteStore } = await import(${JSON.stringify(new URL('../../dist/stores/sqlite/index.js', import.meta.url).href)});
          const store = sqliteStore({ path: ${JSON.stringify(file)}, synchronous: 'normal' });
          for (let i = 0; ; i++) {
            const at = Date.UTC(2026, 0, 1);
            await store.enqueue([{ requestId: 'k' + String(i).padStart(6, '0'), functionName: 'fn', payload: { i }, createdAt: at, scheduledAt: at, hops: 0 }]);
            process.stdout.write(i + '\\n');
          }`;
        const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
        let acked = -1;
        let buffered = '';
        child.stdout.on('data', (chunk: Buffer) => {
          buffered += chunk.toString();
          const lines = buffered.split('\n');
          buffered = lines.pop()!;
          for (const line of lines) acked = Number(line);
        });
        await waitFor(() => acked >= 200, { timeoutMs: 60_000, what: '200 acknowledged enqueues' });
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGKILL');
        await exited;
        const store = sqliteStore({ path: file });
        // Every enqueue acknowledged before the kill is there (and maybe one more in flight).
        const missing: number[] = [];
        for (let i = 0; i <= acked; i++) if (!(await store.get('k' + String(i).padStart(6, '0')))) missing.push(i);
        await store.close();
        expect(missing).toEqual([]);
      });

      it('uses a database passed in and leaves it open on close', async () => {
        const db = new Database(join(dir, 'passed-in.db'));
        const store = sqliteStore({ database: db });
        const inv = newInvocation();
        await store.enqueue([inv]);
        await store.close();
        expect(db.open).toBe(true);
        expect(db.prepare('SELECT count(*) FROM invocations').pluck().get()).toBe(1);
        expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
        db.close();
      });

      it('wakes a second store instance on the same file when work is enqueued through the first', async () => {
        const a = await open();
        const b = await open();
        await b.get('warm-up'); // opened, so its watcher starts on subscribe
        const seen: string[] = [];
        const off = b.subscribe((s) => {
          if (s.type === 'due') seen.push(s.functionName);
        });
        await a.enqueue([newInvocation({ functionName: 'elsewhere' })]);
        await waitFor(() => seen.includes('elsewhere'), { what: 'cross-instance due signal', timeoutMs: 3000 });
        off();
      });

      it('runs work enqueued by a producer on another store instance, and stops it within about a second', async () => {
        const producer = createInvoker({ store: await open(), concurrency: 0 });
        const worker = createInvoker({ store: await open(), concurrency: 2 });
        try {
          let started = 0;
          let aborted = 0;
          const handler = (payload: { hold: boolean }, ctx: InvocationContext) => {
            started++;
            if (!payload.hold) return 'done';
            return new Promise<string>((resolve) => ctx.signal.addEventListener('abort', () => {
              aborted = Date.now();
              resolve('aborted');
            }));
          };
          producer.register('shared', handler);
          worker.register('shared', handler);
          // Woken by the file watch, not by an in-process signal: the producer is another instance.
          const quick = await producer.invokeAsync('shared', { hold: false });
          await waitForStatus(producer, quick.requestId, ['Succeeded'], 3000);
          const held = await producer.invokeAsync('shared', { hold: true });
          await waitFor(() => started === 2, { what: 'the held invocation to start', timeoutMs: 3000 });
          const stopAt = Date.now();
          await producer.stopInvocation(held.requestId);
          // The worker hears of it through its heartbeat (at most every second).
          await waitFor(() => aborted > 0, { what: 'the handler to be aborted', timeoutMs: 3000 });
          expect(aborted - stopAt).toBeLessThan(2000);
          await waitForStatus(producer, held.requestId, ['Stopped'], 3000);
        } finally {
          await worker.close();
          await producer.close();
        }
      });

      it('fails only the write that throws when writes share a transaction', async () => {
        const store = await open();
        const good = newInvocation();
        // A payload JSON cannot hold (the invoker checks payloads; the store must still cope).
        const bad = { ...newInvocation(), payload: { n: 1n } as unknown as NewInvocation['payload'] };
        const [ok, failed] = await Promise.allSettled([store.enqueue([good]), store.enqueue([bad])]);
        expect(ok).toEqual({ status: 'fulfilled', value: [{ requestId: good.requestId, outcome: 'created' }] });
        expect(failed.status).toBe('rejected');
        expect(await store.get(good.requestId)).toMatchObject({ status: 'Enqueued' });
        expect(await store.get(bad.requestId)).toBeUndefined();
      });

      it('groups writes made in the same tick into one transaction', async () => {
        const file = join(dir, 'group.db');
        const store = sqliteStore({ path: file });
        await store.get('open');
        const db = new Database(file);
        db.pragma('wal_checkpoint(TRUNCATE)');
        await Promise.all(Array.from({ length: 50 }, () => store.enqueue([newInvocation()])));
        // Frames in the WAL since the truncate: one commit touches ~8 pages (table + indexes);
        // 50 separate commits would write 50 times that.
        const [{ log }] = db.pragma('wal_checkpoint(PASSIVE)') as [{ log: number }];
        expect(log).toBeGreaterThan(0);
        expect(log).toBeLessThan(40);
        db.close();
        await store.close();
      });
    });
  },
});
