/**
 * `captureConsole`: what a handler prints with `console.*` also goes to its execution log. The
 * console methods are wrapped once, the first time a function asks for it; they still print,
 * and only calls made inside a capturing handler (its async context) are recorded.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { format } from 'node:util';
import type { LogLevel } from '../stores/contract.js';

type Sink = (level: LogLevel, message: string) => void;

const sinks = new AsyncLocalStorage<Sink>();
let wrapped = false;

const METHODS: readonly [keyof Console & ('log' | 'info' | 'debug' | 'warn' | 'error'), LogLevel][] = [
  ['log', 'info'],
  ['info', 'info'],
  ['debug', 'info'],
  ['warn', 'warn'],
  ['error', 'error'],
];

function wrapConsole(): void {
  if (wrapped) return;
  wrapped = true;
  for (const [method, level] of METHODS) {
    const original = console[method].bind(console);
    console[method] = (...args: unknown[]) => {
      original(...args);
      const sink = sinks.getStore();
      if (!sink) return;
      try {
        sink(level, format(...args));
      } catch {
        // Recording never breaks the handler's own printing.
      }
    };
  }
}

/** Runs `fn` with its console output also sent to `sink`. */
export function withConsoleCapture<T>(sink: Sink, fn: () => T): T {
  wrapConsole();
  return sinks.run(sink, fn);
}
