/** `dashboard`: serves the dashboard of the node adapter on a local port until Ctrl-C. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { defineCommand } from '../command.js';
import { EXIT, usageError } from '../exit.js';
import { intFlag } from '../values.js';

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export const dashboard = defineCommand({
  name: 'dashboard',
  summary: 'serve the dashboard on http://127.0.0.1:3000 until Ctrl-C',
  description: 'Without an authorize hook the dashboard is read-only and answers loopback clients only.',
  flags: {
    port: { type: 'string', value: 'port', description: 'port to listen on, 0..65535 (0: any free port) (default 3000)' },
    host: { type: 'string', value: 'host', description: 'address to listen on (default 127.0.0.1)' },
  },
  examples: ['async-invoker dashboard --store sqlite:./invocations.db', 'async-invoker dashboard --port 8080 --store redis://127.0.0.1:6379?prefix=orders'],
  async run({ flags, io, invoker }) {
    const port = intFlag('--port', flags.port, { min: 0, max: 65_535 }) ?? 3000;
    const host = flags.host ?? '127.0.0.1';
    if (host.trim() === '') throw usageError('--host must be an address to listen on, e.g. 127.0.0.1; received ""');
    // Loaded here, not at start-up: the other commands do without the HTTP adapters.
    const { dashboard: nodeDashboard } = await import('../../http/node.js');
    const server = createServer(nodeDashboard(await invoker()));
    const interrupts = io.interrupts();
    try {
      await listen(server, port, host);
      const address = server.address() as AddressInfo;
      const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      io.out(`Dashboard on http://${shownHost}:${address.port}/ (Ctrl-C to stop)`);
      if (!LOOPBACK.has(host)) io.err(`async-invoker dashboard: listening on ${host}, not loopback only: without an authorize hook the dashboard serves loopback clients only`);
      await new Promise<void>((resolve) => interrupts.signal.addEventListener('abort', () => resolve(), { once: true }));
      return EXIT.ok;
    } finally {
      interrupts.release();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  },
});

function listen(server: ReturnType<typeof createServer>, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') reject(usageError(`port ${port} on ${host} is in use: choose another with --port`));
      else if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND') reject(usageError(`--host ${host} is not an address of this machine`));
      else reject(error);
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}
