/**
 * The mark a replayed request carries, so middleware can tell a replay from a client's request.
 * A symbol property: a client cannot set it (headers and bodies carry no symbols).
 */
import type { ReplayContext } from './types.js';

/** `Symbol.for` so two copies of the package in one process still recognise each other's replays. */
const REPLAY = Symbol.for('async-invoker.http.replay');

type Marked = { [REPLAY]?: ReplayContext };

/** Marks `target` (a node request or a Web `Request`) as the replay `context`. */
export function markReplay(target: object, context: ReplayContext): void {
  (target as Marked)[REPLAY] = context;
}

/**
 * The replay's invocation when `req` is a request the trigger replays, else `undefined`. Takes
 * each framework's own request object: node's `IncomingMessage` or Express's `req`, a Web
 * `Request`, Koa's `ctx` (its `ctx.req`), Fastify's `request` or Hono's `c.req` (their `.raw`).
 */
export function getReplayContext(req: object): ReplayContext | undefined {
  const own = (req as Marked)[REPLAY];
  if (own) return own;
  const { raw, req: inner } = req as { raw?: unknown; req?: unknown };
  if (typeof raw === 'object' && raw !== null) return (raw as Marked)[REPLAY];
  if (typeof inner === 'object' && inner !== null) return (inner as Marked)[REPLAY];
  return undefined;
}
