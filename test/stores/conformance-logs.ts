/**
 * Conformance cases for execution logs, lookup by invocation id (the execution's name), and the
 * fields an invocation carries from its creation (rerunOf, traceContext).
 */
import { describe, expect, it } from 'vitest';
import type { LogAppend, Store } from '../../src/stores/contract.js';
import { logLineBytes } from '../../src/stores/logs.js';
import { claimReq, newInvocation, slot, succeed, T0, type SuiteContext } from './conformance-helpers.js';

function lines(n: number, from = 0, attempt = 1): LogAppend['lines'] {
  return Array.from({ length: n }, (_, i) => ({ at: T0 + from + i, attempt, level: 'info' as const, message: `line ${from + i}` }));
}

function append(requestId: string, batch: LogAppend['lines'], maxLines = 1000, maxBytes = 65_536): LogAppend {
  return { requestId, lines: batch, maxLines, maxBytes };
}

async function messages(store: Store, requestId: string, after = 0, limit = 1000): Promise<string[]> {
  return (await store.readLogs(requestId, after, limit))!.lines.map((l) => l.message);
}

export function logCases({ open, pair }: SuiteContext): void {
  describe('execution logs', () => {
    it('appends in order with increasing seq, reads after a cursor, with a limit', async () => {
      const store = await open();
      const inv = newInvocation();
      await store.enqueue([inv]);
      expect(await store.readLogs(inv.requestId, 0, 10)).toEqual({ lines: [], dropped: 0 });
      await store.appendLogs([append(inv.requestId, lines(3))]);
      await store.appendLogs([
        append(inv.requestId, [{ at: T0 + 9, attempt: 2, level: 'error', message: 'failed', data: { code: 42, tags: ['a', 'ü'] } }]),
      ]);
      const page = (await store.readLogs(inv.requestId, 0, 100))!;
      expect(page.dropped).toBe(0);
      expect(page.lines).toEqual([
        { seq: 1, at: T0, attempt: 1, level: 'info', message: 'line 0' },
        { seq: 2, at: T0 + 1, attempt: 1, level: 'info', message: 'line 1' },
        { seq: 3, at: T0 + 2, attempt: 1, level: 'info', message: 'line 2' },
        { seq: 4, at: T0 + 9, attempt: 2, level: 'error', message: 'failed', data: { code: 42, tags: ['a', 'ü'] } },
      ]);
      expect(await messages(store, inv.requestId, 2)).toEqual(['line 2', 'failed']);
      expect(await messages(store, inv.requestId, 0, 2)).toEqual(['line 0', 'line 1']);
      expect(await messages(store, inv.requestId, 4)).toEqual([]);
      expect(await store.readLogs('no-such-invocation', 0, 10)).toBeUndefined();
    });

    it('keeps the newest lines within maxLines and maxBytes, counting what it dropped', async () => {
      const store = await open();
      const [a, b] = [newInvocation(), newInvocation()];
      await store.enqueue([a, b]);
      await store.appendLogs([append(a.requestId, lines(4), 5)]);
      await store.appendLogs([append(a.requestId, lines(4, 4), 5)]);
      const pageA = (await store.readLogs(a.requestId, 0, 100))!;
      expect(pageA.dropped).toBe(3);
      expect(pageA.lines.map((l) => [l.seq, l.message])).toEqual([[4, 'line 3'], [5, 'line 4'], [6, 'line 5'], [7, 'line 6'], [8, 'line 7']]);
      // Bytes: each 'line N' is 6 bytes; 20 bytes hold three lines.
      const size = logLineBytes({ message: 'line 0' });
      await store.appendLogs([append(b.requestId, lines(5), 1000, size * 3 + 2)]);
      const pageB = (await store.readLogs(b.requestId, 0, 100))!;
      expect(pageB.dropped).toBe(2);
      expect(pageB.lines.map((l) => l.message)).toEqual(['line 2', 'line 3', 'line 4']);
      // Lines the writer dropped before sending count too.
      await store.appendLogs([{ ...append(b.requestId, lines(1, 5), 1000, 65_536), dropped: 7 }]);
      const after = (await store.readLogs(b.requestId, 5, 100))!;
      expect(after.dropped).toBe(9);
      expect(after.lines.map((l) => [l.seq, l.message])).toEqual([[13, 'line 5']]);
    });

    it('ignores lines for unknown invocations, and drops logs with their invocation', async () => {
      const store = await open({ retention: { maxAgeSeconds: 60 } });
      await store.appendLogs([append('no-such-invocation', lines(2))]);
      expect(await store.readLogs('no-such-invocation', 0, 10)).toBeUndefined();
      const inv = newInvocation();
      await store.enqueue([inv]);
      const [c] = (await store.claim(claimReq(T0))).items;
      await store.appendLogs([append(inv.requestId, lines(2))]);
      await store.settle([succeed(inv.requestId, c!.leaseToken, T0 + 1)]);
      expect(await store.prune(T0 + 120_000)).toBe(1);
      expect(await store.readLogs(inv.requestId, 0, 10)).toBeUndefined();
    });

    it('numbers lines from two instances appending at once without gaps or repeats', async () => {
      const [a, b] = await pair();
      const inv = newInvocation();
      await a.enqueue([inv]);
      await Promise.all(
        Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).appendLogs([append(inv.requestId, lines(3, i * 3))])),
      );
      const page = (await a.readLogs(inv.requestId, 0, 100))!;
      expect(page.lines.map((l) => l.seq)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
      expect(new Set(page.lines.map((l) => l.message)).size).toBe(30);
    });
  });

  describe('lookup by invocation id', () => {
    it('finds the invocation holding a function\'s invocationId, and nothing else', async () => {
      const store = await open();
      const x = newInvocation({ functionName: 'a', invocationId: 'order_1', payloadKey: 'k' });
      const y = newInvocation({ functionName: 'b', invocationId: 'order_1', payloadKey: 'k' });
      await store.enqueue([x, y, newInvocation({ functionName: 'a' })]);
      expect((await store.findByInvocationId('a', 'order_1'))?.requestId).toBe(x.requestId);
      expect((await store.findByInvocationId('b', 'order_1'))?.requestId).toBe(y.requestId);
      expect(await store.findByInvocationId('a', 'order_2')).toBeUndefined();
      expect(await store.findByInvocationId('c', 'order_1')).toBeUndefined();
    });

    it('lists by invocationId prefix, taken literally (no wildcards), with the other filters and paging', async () => {
      const store = await open();
      const ids = ['order_1', 'order_12', 'order-2', 'orderX1', 'ord', 'Order_1', 'other_1'];
      const items = ids.map((invocationId, i) =>
        newInvocation({ functionName: i % 2 ? 'a' : 'b', invocationId, payloadKey: 'k', createdAt: T0 + i }),
      );
      await store.enqueue([...items, newInvocation({ functionName: 'a', createdAt: T0 + 50 })]);
      const found = async (query: Parameters<Store['list']>[0]) => (await store.list(query)).items.map((r) => r.invocationId);
      expect(await found({ limit: 100, invocationIdPrefix: 'order_1' })).toEqual(['order_12', 'order_1']);
      expect(await found({ limit: 100, invocationIdPrefix: 'order' })).toEqual(['orderX1', 'order-2', 'order_12', 'order_1']);
      expect(await found({ limit: 100, invocationIdPrefix: 'order', functionName: 'a' })).toEqual(['orderX1', 'order_12']);
      expect(await found({ limit: 100, invocationIdPrefix: 'order_%' })).toEqual([]);
      await store.claim(claimReq(T0 + 100, [slot('b', 100)]));
      expect(await found({ limit: 100, invocationIdPrefix: 'order', statuses: ['Running'] })).toEqual(['order-2', 'order_1']);
      const first = await store.list({ limit: 2, invocationIdPrefix: 'o' });
      expect(first.items.map((r) => r.invocationId)).toEqual(['other_1', 'ord']);
      const second = await store.list({ limit: 10, invocationIdPrefix: 'o', cursor: first.nextCursor! });
      expect(second.items.map((r) => r.invocationId)).toEqual(['orderX1', 'order-2', 'order_12', 'order_1']);
      expect(second.nextCursor).toBeUndefined();
    });
  });

  describe('creation fields', () => {
    it('keeps rerunOf and traceContext through claims and settles', async () => {
      const store = await open();
      const traceContext = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01;vendor=1';
      const inv = newInvocation({ rerunOf: 'original-request', traceContext });
      await store.enqueue([inv]);
      expect(await store.get(inv.requestId)).toMatchObject({ rerunOf: 'original-request', traceContext });
      const [c] = (await store.claim(claimReq(T0))).items;
      expect(c!.record).toMatchObject({ rerunOf: 'original-request', traceContext });
      await store.settle([succeed(inv.requestId, c!.leaseToken, T0 + 1)]);
      expect((await store.list({ limit: 10 })).items[0]).toMatchObject({ rerunOf: 'original-request', traceContext });
      const plain = newInvocation();
      await store.enqueue([plain]);
      const record = (await store.get(plain.requestId))!;
      expect(record.rerunOf).toBeUndefined();
      expect(record.traceContext).toBeUndefined();
    });
  });
}
