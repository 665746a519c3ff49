/**
 * Live updates over Server-Sent Events. The dashboard may run in a web process that runs no
 * handlers, so what changed is read from the store: each topic (the overview, one list page, one
 * invocation) is read by one poll shared by every connection watching it, once a second at most,
 * and only while someone watches. A connection is sent the topic's value when it changes.
 * Local events help where there are any: an event about a watched invocation reads it at once.
 */
import type { Invoker } from '../invoker.js';
import type { InvokerEvents } from '../events.js';
import type { StreamStart } from './types.js';

export interface Topic {
  /** Connections with the same key share one poll. */
  readonly key: string;
  /** For an invocation topic: local events about this request id read it early. */
  readonly requestId?: string;
  read(): Promise<unknown>;
}

/** Polls of one topic start at least this far apart. */
export const POLL_INTERVAL_MS = 1000;
/** An event about a watched invocation reads it early, but never sooner than this after the last read. */
const EARLY_READ_GAP_MS = 250;
/** A comment line this often keeps proxies from closing an idle stream. */
const HEARTBEAT_MS = 15_000;
/** Open streams per dashboard; past it a new one is refused (503) rather than adding polls. */
export const MAX_CONNECTIONS = 100;

type Send = (chunk: string) => void;

interface TopicState {
  readonly topic: Topic;
  readonly subscribers: Set<Send>;
  last: string | undefined;
  busy: boolean;
  lastReadAt: number;
  timer: NodeJS.Timeout | undefined;
}

const WATCHED_EVENTS = ['enqueued', 'started', 'retrying', 'succeeded', 'failed', 'expired', 'invalid', 'stopped', 'destination:succeeded', 'destination:failed'] as const satisfies readonly (keyof InvokerEvents)[];

export class LiveHub {
  readonly #invoker: Invoker;
  readonly #report: (error: unknown) => void;
  readonly #topics = new Map<string, TopicState>();
  #connections = 0;
  #heartbeat: NodeJS.Timeout | undefined;
  readonly #onEvent = (event: { requestId: string }) => this.touch(event.requestId);

  constructor(invoker: Invoker, report: (error: unknown) => void) {
    this.#invoker = invoker;
    this.#report = report;
  }

  get connections(): number {
    return this.#connections;
  }

  /** A stream for `topic`, or undefined when too many are open. */
  open(topic: Topic): StreamStart | undefined {
    if (this.#connections >= MAX_CONNECTIONS) return undefined;
    return (send) => {
      this.#connect();
      let state = this.#topics.get(topic.key);
      const fresh = state === undefined;
      if (!state) {
        state = { topic, subscribers: new Set(), last: undefined, busy: false, lastReadAt: 0, timer: undefined };
        this.#topics.set(topic.key, state);
      }
      state.subscribers.add(send);
      // The browser reconnects by itself after a drop; two seconds leaves a restarting server room.
      send('retry: 2000\n\n');
      if (state.last !== undefined) send(state.last);
      if (fresh) void this.#read(state);
      let open = true;
      return () => {
        if (!open) return;
        open = false;
        state.subscribers.delete(send);
        if (state.subscribers.size === 0) {
          clearTimeout(state.timer);
          this.#topics.delete(topic.key);
        }
        this.#disconnect();
      };
    };
  }

  /** Something happened to `requestId` (a local event, or an action taken here): read its topic soon. */
  touch(requestId: string): void {
    const state = this.#topics.get(`invocation:${requestId}`);
    if (!state || state.busy) return;
    clearTimeout(state.timer);
    const wait = Math.max(0, state.lastReadAt + EARLY_READ_GAP_MS - Date.now());
    state.timer = setTimeout(() => void this.#read(state), wait);
    state.timer.unref();
  }

  async #read(state: TopicState): Promise<void> {
    if (state.busy) return;
    state.busy = true;
    state.timer = undefined;
    state.lastReadAt = Date.now();
    try {
      const text = `event: update\ndata: ${JSON.stringify(await state.topic.read())}\n\n`;
      if (text !== state.last) {
        state.last = text;
        for (const send of state.subscribers) send(text);
      }
    } catch (error) {
      this.#report(error);
      // The page keeps what it shows and says the data may be stale; the next poll tries again.
      for (const send of state.subscribers) send('event: failure\ndata: {"message":"the store could not be read; retrying"}\n\n');
    } finally {
      state.busy = false;
    }
    if (this.#topics.get(state.topic.key) !== state || state.timer !== undefined) return;
    // The next poll starts a full interval after this one started: at most one read a second.
    state.timer = setTimeout(() => void this.#read(state), Math.max(0, state.lastReadAt + POLL_INTERVAL_MS - Date.now()));
    state.timer.unref();
  }

  #connect(): void {
    if (this.#connections++ > 0) return;
    // Listeners only while someone watches: the invoker skips building events nobody listens to.
    for (const name of WATCHED_EVENTS) this.#invoker.on(name, this.#onEvent);
    this.#heartbeat = setInterval(() => {
      for (const state of this.#topics.values()) for (const send of state.subscribers) send(': ping\n\n');
    }, HEARTBEAT_MS);
    this.#heartbeat.unref();
  }

  #disconnect(): void {
    if (--this.#connections > 0) return;
    for (const name of WATCHED_EVENTS) this.#invoker.off(name, this.#onEvent);
    clearInterval(this.#heartbeat);
  }
}
