/**
 * `httpDestination(url)`: POSTs the record as JSON to a webhook, over node:http(s) with a lookup
 * that refuses loopback, private and link-local addresses unless allowed (see address-guard.ts).
 */
import { createHmac } from 'node:crypto';
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { refusal, type AddressPolicy } from './address-guard.js';
import { z } from 'zod';
import { parseOptions } from '../config.js';
import { DestinationDeliveryError } from '../errors.js';
import type { Destination, DestinationContext, DestinationRecord } from './types.js';
import { activeTraceParent } from '../telemetry/telemetry.js';

export interface HttpDestinationOptions {
  /** Extra request headers (e.g. authorization). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Abort the request after this long. @default 10000 */
  readonly timeoutMs?: number;
  /** Signs the body: `X-Async-Invoker-Signature: sha256=<hex HMAC-SHA256 of the body>`. */
  readonly secret?: string;
  /** Largest record sent, bytes. @default 262144 */
  readonly maxRecordBytes?: number;
  /**
   * Deliver to loopback, private, link-local and other non-public addresses too. Off by default:
   * a webhook URL must not reach the cloud metadata service or a private service. @default false
   */
  readonly allowPrivateNetwork?: boolean;
  /** Non-public addresses or CIDR ranges to allow nonetheless, e.g. `['10.1.2.0/24']`. */
  readonly allow?: readonly string[];
}

const USER_AGENT = 'async-invoker/0.1 (+destination)';
const MAX_SAME_HOST_REDIRECTS = 3;

const CIDR = /^[0-9a-fA-F:.]+(\/\d{1,3})?$/;

const optionsSchema = z.strictObject({
  headers: z.record(z.string(), z.string({ error: 'a string header value' })).optional(),
  timeoutMs: z.number().int({ error: 'an integer from 1 to 600000' }).min(1, { error: 'an integer from 1 to 600000' }).max(600_000, { error: 'an integer from 1 to 600000' }).default(10_000),
  secret: z.string({ error: 'a non-empty string' }).min(1, { error: 'a non-empty string' }).optional(),
  maxRecordBytes: z.number().int({ error: 'an integer from 1 to 104857600' }).min(1, { error: 'an integer from 1 to 104857600' }).max(104_857_600, { error: 'an integer from 1 to 104857600' }).optional(),
  allowPrivateNetwork: z.boolean({ error: 'true or false' }).default(false),
  allow: z
    .array(z.string().regex(CIDR, { error: 'an IP address or CIDR range, e.g. 10.0.0.0/8 or fd00::/8' }), { error: 'a list of IP addresses or CIDR ranges' })
    .optional(),
});

const urlSchema = z.url({ protocol: /^https?$/, error: 'an http:// or https:// URL' });

/** Signature header value for `body` under `secret`, for receivers to compare. */
export function signBody(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export function httpDestination(url: string, options: HttpDestinationOptions = {}): Destination {
  const target = new URL(parseOptions(urlSchema, url, 'url'));
  const opts = parseOptions(optionsSchema, options, 'options');
  const policy: AddressPolicy = { allowPrivateNetwork: opts.allowPrivateNetwork, ...(opts.allow ? { allow: opts.allow } : {}) };
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
      // The delivery's span, so the receiver continues the invocation's trace.
      const traceparent = activeTraceParent();
      if (traceparent) headers.traceparent = traceparent;
      // One controller and one timer per request: AbortSignal.any/timeout are slow on Node 20.
      const controller = new AbortController();
      const onAbort = () => controller.abort(context.signal.reason);
      if (context.signal.aborted) onAbort();
      else context.signal.addEventListener('abort', onAbort, { once: true });
      const timer = setTimeout(() => controller.abort(new Error(`no answer within ${opts.timeoutMs} ms`)), opts.timeoutMs);
      timer.unref();
      try {
        await post(target, headers, body, controller.signal, policy);
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
async function post(target: URL, headers: Record<string, string>, body: string, signal: AbortSignal, policy: AddressPolicy): Promise<void> {
  let location = target;
  for (let hop = 0; ; hop++) {
    let status: number;
    let next: string | undefined;
    try {
      ({ status, location: next } = await send(location, headers, body, signal, policy));
    } catch (cause) {
      if (cause instanceof RefusedAddress) {
        throw new DestinationDeliveryError(`POST ${location.origin}${location.pathname} refused: ${cause.message}`, false, { cause });
      }
      throw new DestinationDeliveryError(`POST ${location.origin}${location.pathname} failed: ${(cause as Error).message}`, true, { cause });
    }
    if (status >= 300 && status < 400) {
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

/** A destination address the policy refuses (not retried: the answer would be the same). */
class RefusedAddress extends Error {}

/** One request; the body of the answer is read and dropped. */
function send(url: URL, headers: Record<string, string>, body: string, signal: AbortSignal, policy: AddressPolicy): Promise<{ status: number; location: string | undefined }> {
  return new Promise((resolve, reject) => {
    // An IP literal is connected to without a lookup: check it here.
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (isIP(host)) {
      const why = refusal(host, policy);
      if (why) return reject(new RefusedAddress(why));
    }
    const options: RequestOptions = {
      method: 'POST',
      headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
      signal,
      lookup: guardedLookup(policy),
    };
    const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, options, (res: IncomingMessage) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, location: header(res.headers.location) }));
      res.on('error', reject);
    });
    req.on('error', (error) => reject(signal.aborted ? (signal.reason ?? error) : error));
    req.end(body);
  });
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** DNS lookup that keeps only the addresses the policy allows (so the check and the connection agree). */
function guardedLookup(policy: AddressPolicy): LookupFunction {
  return (hostname: string, options: LookupOptions, callback: (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, '');
      const allowed = addresses.filter((a) => refusal(a.address, policy) === undefined);
      if (allowed.length === 0) {
        const first = addresses[0];
        return callback(new RefusedAddress(first ? `${hostname} resolves to ${refusal(first.address, policy)}` : `${hostname} has no address`), '');
      }
      if (options.all) callback(null, allowed);
      else callback(null, allowed[0]!.address, allowed[0]!.family);
    });
  };
}
