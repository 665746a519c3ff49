/** Reading an async request's raw body, bounded, before anything is stored. */
import type { IncomingMessage } from 'node:http';

export type BodyResult = { readonly ok: true; readonly body: Buffer } | { readonly ok: false; readonly reason: 'tooLarge' | 'consumed' };

/**
 * Collects the request body up to `maxBytes`. A declared `content-length` over the limit is
 * refused before reading a byte; a chunked body is refused as soon as it passes the limit.
 * Either way the rest is left to node, which discards what the client still sends.
 */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<BodyResult> {
  const declared = Number(req.headers['content-length']);
  if (declared > maxBytes) return Promise.resolve({ ok: false, reason: 'tooLarge' });
  // A body parser mounted before the trigger already drained the stream: waiting would hang.
  if (req.readableEnded || (req as { _body?: unknown })._body === true) return Promise.resolve({ ok: false, reason: 'consumed' });
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (result: BodyResult | Error) => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      if (result instanceof Error) reject(result);
      else resolve(result);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        // Stop buffering; keep the stream flowing so the connection drains and the 413 arrives.
        done({ ok: false, reason: 'tooLarge' });
        req.resume();
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => done({ ok: true, body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size) });
    const onError = (error: Error) => done(error);
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}
