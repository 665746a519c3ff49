/** `httpDestination(url)`: POSTs the record as JSON to a webhook. */
import { createHmac } from 'node:crypto';
import { z } from 'zod';
import { parseOptions } from '../config.js';
import { DestinationDeliveryError } from '../errors.js';
import type { Destination, DestinationContext, DestinationRecord } from './types.js';

export interface HttpDestinationOptions {
  /** Extra request headers (e.g. authorization). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Abort the request after this long. @default 10000 */
  readonly timeoutMs?: number;
  /** Signs the body: `X-Async-Invoker-Signature: sha256=<hex HMAC-SHA256 of the body>`. */
  readonly secret?: string;
  /** Largest record sent, bytes. @default 262144 */
  readonly maxRecordBytes?: number;
}

const USER_AGENT = 'async-invoker/0.1 (+destination)';
const MAX_SAME_HOST_REDIRECTS = 3;

const optionsSchema = z.strictObject({
  headers: z.record(z.string(), z.string({ error: 'a string header value' })).optional(),
  timeoutMs: z.number().int({ error: 'an integer from 1 to 600000' }).min(1, { error: 'an integer from 1 to 600000' }).max(600_000, { error: 'an integer from 1 to 600000' }).default(10_000),
  secret: z.string({ error: 'a non-empty string' }).min(1, { error: 'a non-empty string' }).optional(),
  maxRecordBytes: z.number().int({ error: 'an integer from 1 to 104857600' }).min(1, { error: 'an integer from 1 to 104857600' }).max(104_857_600, { error: 'an integer from 1 to 104857600' }).optional(),
});

const urlSchema = z.url({ protocol: /^https?$/, error: 'an http:// or https:// URL' });

/** Signature header value for `body` under `secret`, for receivers to compare. */
export function signBody(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export function httpDestination(url: string, options: HttpDestinationOptions = {}): Destination {
  const target = new URL(parseOptions(urlSchema, url, 'url'));
  const opts = parseOptions(optionsSchema, options, 'options');
  const destination: Destination = {
    description: `webhook ${target.origin}${target.pathname}`,
    async send(record: DestinationRecord, context: DestinationContext) {
      const body = JSON.stringify(record);
      const headers: Record<string, string> = {
        ...opts.headers,
        'content-type': 'application/json',
        'user-agent': USER_AGENT,
        'x-fc-request-id': record.requestContext.requestId,
      };
      if (opts.secret) headers['x-async-invoker-signature'] = signBody(body, opts.secret);
      // One controller and one timer per request: AbortSignal.any/timeout are slow on Node 20.
      const controller = new AbortController();
      const onAbort = () => controller.abort(context.signal.reason);
      if (context.signal.aborted) onAbort();
      else context.signal.addEventListener('abort', onAbort, { once: true });
      const timer = setTimeout(() => controller.abort(new Error(`no answer within ${opts.timeoutMs} ms`)), opts.timeoutMs);
      timer.unref();
      try {
        await post(target, headers, body, controller.signal);
      } finally {
        clearTimeout(timer);
        context.signal.removeEventListener('abort', onAbort);
      }
    },
  };
  if (opts.maxRecordBytes !== undefined) return { ...destination, maxRecordBytes: opts.maxRecordBytes };
  return destination;
}

/** POSTs, following redirects to the same host only; throws DestinationDeliveryError on failure. */
async function post(target: URL, headers: Record<string, string>, body: string, signal: AbortSignal): Promise<void> {
  let location = target;
  for (let hop = 0; ; hop++) {
    let response: Response;
    try {
      response = await fetch(location, { method: 'POST', headers, body, redirect: 'manual', signal });
    } catch (cause) {
      throw new DestinationDeliveryError(`POST ${location.origin}${location.pathname} failed: ${(cause as Error).message}`, true, { cause });
    }
    await response.body?.cancel().catch(() => {});
    const status = response.status;
    if (status >= 300 && status < 400) {
      const next = response.headers.get('location');
      const nextUrl = next ? new URL(next, location) : undefined;
      if (!nextUrl || nextUrl.host !== target.host || hop >= MAX_SAME_HOST_REDIRECTS) {
        throw new DestinationDeliveryError(
          `POST ${location.origin}${location.pathname} answered ${status} redirecting to ${nextUrl?.origin ?? 'nowhere'}; only redirects to the same host are followed`,
          false,
          { statusCode: status },
        );
      }
      location = nextUrl;
      continue;
    }
    if (status >= 200 && status < 300) return;
    const retryable = status >= 500 || status === 429 || status === 408;
    throw new DestinationDeliveryError(`POST ${location.origin}${location.pathname} answered ${status}`, retryable, { statusCode: status });
  }
}
