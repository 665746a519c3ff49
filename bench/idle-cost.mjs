#!/usr/bin/env node
// What an idle worker costs its store. A worker invoker (concurrency 8) runs a mixed workload on
// each durable store (plain, delayed, retried and limited invocations), waits until every one
// is final, then sits idle for IDLE_SECONDS while every store call it makes is counted, and on
// Redis every command the server processes (a private redis-server, so nobody else's traffic is
// counted). Prints calls per second by operation.
//
//   npm run build && node bench/idle-cost.mjs [--seconds 20] [--stores sqlite,redis,postgres]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { createInvoker } from 'async-invoker';
import { startAofRedis } from './lib/private-redis.js';
import { PG_URL, dropSchemas } from './lib/services.js';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '20' }, stores: { type: 'string', default: 'sqlite,redis,postgres' } } });
const IDLE_SECONDS = Number(values.seconds);
const ns = `aiidle${Date.now().toString(36)}`;

/** The store with each method call counted by name while `counting` is on. */
function counted(store) {
  const calls = new Map();
  let counting = false;
  const proxy = new Proxy(store, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver);
      if (typeof value !== 'function' || typeof key !== 'string') return value;
      return (...args) => {
        if (counting) calls.set(key, (calls.get(key) ?? 0) + 1);
        return value.apply(target, args);
      };
    },
  });
  return { proxy, calls, start: () => (counting = true), stop: () => (counting = false) };
}

async function measure(kind) {
  let store;
  let after = async () => {};
  let redisInfo;
  if (kind === 'sqlite') {
    const { sqliteStore } = await import('async-invoker/sqlite');
    const dir = mkdtempSync(join(tmpdir(), `${ns}-`));
    store = sqliteStore({ path: join(dir, 'idle.db') });
    after = async () => rmSync(dir, { recursive: true, force: true });
  } else if (kind === 'redis') {
    const { redisStore } = await import('async-invoker/redis');
    const server = await startAofRedis(Number(process.env.IDLE_REDIS_PORT ?? 6392));
    store = redisStore({ url: server.url, prefix: ns });
    const admin = new Redis(server.url);
    // Calls per command name (INFO commandstats), so the figure says what the idle worker sends.
    redisInfo = async () => {
      const stats = new Map();
      for (const [, name, calls] of (await admin.info('commandstats')).matchAll(/cmdstat_([^:]+):calls=(\d+)/g)) stats.set(name, Number(calls));
      return stats;
    };
    after = async () => {
      admin.disconnect();
      await server.stop();
    };
  } else {
    const { postgresStore } = await import('async-invoker/postgres');
    store = postgresStore({ connectionString: PG_URL, schema: ns });
    after = () => dropSchemas(ns);
  }
  const count = counted(store);
  const invoker = createInvoker({ store: count.proxy, concurrency: 8 });
  let failedOnce = new Set();
  invoker.register('plain', () => null);
  invoker.register('flaky', ({ i }) => {
    if (!failedOnce.has(i)) {
      failedOnce.add(i);
      throw new Error('first attempt fails');
    }
    return null;
  }, { retryBackoff: { initialDelayMs: 100, maxDelayMs: 200, jitter: 'none' } });
  invoker.register('limited', () => new Promise((resolve) => setTimeout(resolve, 2)), { limits: { concurrency: 2, perSecond: 200 } });
  const ids = [];
  for (let i = 0; i < 100; i++) ids.push((await invoker.invokeAsync('plain', { i })).requestId);
  for (let i = 0; i < 30; i++) ids.push((await invoker.invokeAsync('flaky', { i })).requestId);
  for (let i = 0; i < 50; i++) ids.push((await invoker.invokeAsync('limited', { i })).requestId);
  for (let i = 0; i < 20; i++) ids.push((await invoker.invokeAsync('plain', { i }, { delaySeconds: 1 })).requestId);
  for (;;) {
    const records = await Promise.all(ids.map((id) => invoker.getInvocation(id)));
    if (records.every((r) => r?.status === 'Succeeded')) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  await invoker.idle();
  // Let the last settles and wake-ups pass, then count a quiet stretch.
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const commandsBefore = await redisInfo?.();
  count.start();
  await new Promise((resolve) => setTimeout(resolve, IDLE_SECONDS * 1000));
  count.stop();
  let commands;
  if (redisInfo) {
    const now = await redisInfo();
    // Less the INFO call that read the first figures.
    commands = Object.fromEntries([...now].map(([name, n]) => [name, n - (commandsBefore.get(name) ?? 0) - (name === 'info' ? 1 : 0)]).filter(([, n]) => n > 0));
  }
  await invoker.close();
  await after();
  const perSecond = (n) => Math.round((n / IDLE_SECONDS) * 100) / 100;
  const calls = Object.fromEntries([...count.calls].map(([op, n]) => [op, perSecond(n)]));
  const total = perSecond([...count.calls.values()].reduce((a, b) => a + b, 0));
  return { store: kind, idleSeconds: IDLE_SECONDS, storeCallsPerSecond: total, byOperation: calls, ...(commands === undefined ? {} : { redisCommandsPerSecond: perSecond(Object.values(commands).reduce((a, b) => a + b, 0)), redisCommands: Object.fromEntries(Object.entries(commands).map(([k, n]) => [k, perSecond(n)])) }) };
}

for (const kind of values.stores.split(',')) {
  const result = await measure(kind);
  console.log(JSON.stringify(result));
}
