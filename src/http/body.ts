/** Reading an async request's raw body, bounded, before anything is stored: node streams and Web `Request`s. */
import type { IncomingMessage } from 'node:http';
import type { BodyResult } from './types.js';

const TOO_LARGE: BodyResult = { ok: false, reason: 'tooLarge' };
const CONSUMED: BodyResult = { ok: false, reason: 'consumed' };
const ABORTED: BodyResult = { ok: false, reason: 'aborted' };
const EMPTY: BodyResult = { ok: true, body: Buffer.alloc(0) };

/**
 * Collects a node request's body up to `maxBytes`. A declared `content-length` over the limit is
 * refused before reading a byte; a chunked body is refused as soon as it passes the limit.
 * Either way the rest is left to node, which discards what the client still sends.
 */
export function readNodeBody(req: IncomingMessage, maxBytes: number): Promise<BodyResult> {
  const declared = Number(req.headers['content-length']);
  if (declared > maxBytes) return Promise.resolve(TOO_LARGE);
  // A body parser mounted before the trigger already drained the stream: waiting would hang.
  if (req.readableEnded || (req as { _body?: unknown })._body === true) return Promise.resolve(CONSUMED);
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (result: BodyResult) => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      resolve(result);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        // Stop buffering; keep the stream flowing so the connection drains and the 413 arrives.
        done(TOO_LARGE);
        req.resume();
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => done({ ok: true, body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size) });
    // The client went away mid-body: nothing to store, and not a failure of the server.
    const onError = () => done(ABORTED);
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}

/** The same for a Web `Request`: refused past `maxBytes`, declared or counted. */
export async function readWebBody(request: Request, maxBytes: number): Promise<BodyResult> {
  // Refused before the body stream is touched: a host that never saw it read discards it itself.
  if (Number(request.headers.get('content-length')) > maxBytes) return TOO_LARGE;
  if (request.bodyUsed) return CONSUMED;
  if (request.body === null) return EMPTY;
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        // Keep reading and dropping what still comes, as node's `resume()` does above: cancelling
        // would make a node host (e.g. @hono/node-server) destroy the socket before the 413 is sent.
        void drain(reader);
        return TOO_LARGE;
      }
      chunks.push(value);
    }
  } catch {
    return ABORTED;
  }
  return { ok: true, body: Buffer.concat(chunks, size) };
}

async function drain(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
  try {
    while (!(await reader.read()).done);
  } catch {
    // The connection closed: nothing left to drain.
  }
}
