/** The webhook address guard, decided as a unit on addresses: no packet is sent anywhere. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { refusal } from '../../src/destinations/address-guard.js';

describe('webhook address guard', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['0.0.0.0', '0.0.0.0/8'],
    ['10.0.0.5', '10.0.0.0/8'],
    ['172.16.0.1', '172.16.0.0/12'],
    ['172.31.255.255', '172.16.0.0/12'],
    ['192.168.1.1', '192.168.0.0/16'],
    ['169.254.169.254', 'metadata'],
    ['100.64.0.1', 'carrier-grade'],
    ['192.0.0.8', 'IETF'],
    ['192.0.2.1', 'documentation'],
    ['198.18.0.1', 'benchmarking'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:169.254.169.254', 'metadata'],
    ['::ffff:10.1.2.3', '10.0.0.0/8'],
    ['::10.1.2.3', '10.0.0.0/8'],
    ['64:ff9b::a9fe:a9fe', 'metadata'],
    ['fc00::1', 'unique-local'],
    ['fd12:3456:789a::1', 'unique-local'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['fec0::1', 'site-local'],
    ['ff02::1', 'multicast'],
    ['2001:db8::1', 'documentation'],
    ['2002:0a00:0001::1', '6to4'],
    ['[::1]', 'loopback'],
  ])('refuses %s (%s) by default, with a reason naming the address', (address, what) => {
    const reason = refusal(address);
    expect(reason).toBeDefined();
    expect(reason).toContain(address.replace(/^\[|\]$/g, ''));
    expect(reason!.toLowerCase()).toContain(what.toLowerCase().split('/')[0]!);
    expect(reason).toMatch(/allowPrivateNetwork/);
  });

  it.each(['93.184.216.34', '8.8.8.8', '1.1.1.1', '172.15.255.255', '172.32.0.1', '100.128.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8', '2002:0808:0808::1'])(
    'allows the public address %s',
    (address) => expect(refusal(address)).toBeUndefined(),
  );

  it('allows everything with allowPrivateNetwork, and listed addresses and ranges with allow', () => {
    expect(refusal('127.0.0.1', { allowPrivateNetwork: true })).toBeUndefined();
    expect(refusal('10.1.2.3', { allow: ['10.1.2.0/24'] })).toBeUndefined();
    expect(refusal('10.1.3.3', { allow: ['10.1.2.0/24'] })).toBeDefined();
    expect(refusal('::ffff:10.1.2.3', { allow: ['10.1.2.0/24'] })).toBeUndefined();
    expect(refusal('::1', { allow: ['::1'] })).toBeUndefined();
    expect(refusal('fd00::5', { allow: ['fd00::/8'] })).toBeUndefined();
    expect(refusal('169.254.169.254', { allow: ['10.0.0.0/8'] })).toBeDefined();
  });

  it('refuses what is not an IP address', () => {
    expect(refusal('localhost')).toMatch(/not an IP address/);
  });

  it('decides every IPv4 address the same way in its IPv4-mapped IPv6 form (property)', () => {
    fc.assert(
      fc.property(fc.ipV4(), (v4) => {
        expect(refusal(`::ffff:${v4}`) === undefined).toBe(refusal(v4) === undefined);
      }),
      { numRuns: 10_000 },
    );
  });
});

describe('webhook destinations, end to end on loopback', () => {
  it('refuses loopback by default without connecting, records why, and does not retry; delivers when allowed', async () => {
    const { createServer } = await import('node:http');
    const { createInvoker, fakeClock, httpDestination, memoryStore } = await import('../../src/index.js');
    let connections = 0;
    let delivered = 0;
    const server = createServer((req, res) => {
      delivered++;
      req.resume();
      res.end();
    });
    server.on('connection', () => connections++);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const clock = fakeClock();
    const invoker = createInvoker({ store: memoryStore(), clock });
    const failures: { message: string; willRetry: boolean }[] = [];
    invoker.on('destination:failed', (e) => failures.push({ message: e.error.errorMessage, willRetry: e.willRetry }));
    try {
      invoker.register('guarded', () => 1, { destinations: { onSuccess: httpDestination(`http://127.0.0.1:${port}/hook`) } });
      invoker.register('named', () => 1, { destinations: { onSuccess: httpDestination(`http://localhost:${port}/hook`) } });
      invoker.register('opened', () => 1, { destinations: { onSuccess: httpDestination(`http://127.0.0.1:${port}/hook`, { allow: ['127.0.0.0/8'] }) } });
      const guarded = await invoker.invokeAsync('guarded', {});
      await invoker.invokeAsync('named', {});
      await invoker.invokeAsync('opened', {});
      await clock.advance(0);
      const { waitFor } = await import('../helpers.js');
      await waitFor(() => failures.length === 2 && delivered === 1, { what: 'two refusals and one delivery' });
      expect(connections).toBe(1);
      for (const f of failures) {
        expect(f.willRetry).toBe(false);
        expect(f.message).toMatch(/refused: .*(127\.0\.0\.1|::1).* is loopback; set allowPrivateNetwork or allow/);
      }
      const record = await invoker.getInvocation(guarded.requestId);
      expect(record!.events.at(-1)!.detail).toMatch(/onSuccess delivery failed for good .*refused: 127\.0\.0\.1 is loopback/);
    } finally {
      await invoker.close();
      server.close();
    }
  });
});
