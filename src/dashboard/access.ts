/**
 * Who may use the dashboard: `authorize` decides every request; without it only loopback
 * clients, and never a request that came through a proxy. Actions (POSTs) must come from the
 * dashboard's own origin.
 */
import type { DashboardSettings } from './options.js';
import { errorReply } from './reply.js';
import type { BodyReply, DashboardRequest } from './types.js';

/** 127.0.0.0/8 and ::1, also as IPv4-mapped IPv6 (`::ffff:127.0.0.1`), as node reports peers. */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  const a = address.toLowerCase().replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  if (a === '::1' || a === '0:0:0:0:0:0:0:1') return true;
  const v4 = a.startsWith('::ffff:') ? a.slice(7) : a;
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(v4);
  return m !== null && m[1] === '127' && m.slice(2).every((part) => Number(part) <= 255);
}

/**
 * Headers a reverse proxy adds: a request carrying one was sent by someone else through a proxy
 * that happens to run on this machine, so its loopback peer address proves nothing.
 */
const FORWARDING_HEADERS = ['forwarded', 'x-forwarded-for', 'x-real-ip', 'x-forwarded-host', 'via'];

/** The refusal for a request, or undefined when it may proceed. */
export async function checkAccess<Req>(settings: DashboardSettings<Req>, req: DashboardRequest<Req>): Promise<BodyReply | undefined> {
  if (settings.authorize) {
    const verdict = await settings.authorize(req.raw);
    if (verdict === true) return undefined;
    return verdict === 401
      ? errorReply(401, 'Unauthorized', 'authentication is required for the dashboard')
      : errorReply(403, 'Forbidden', 'not allowed to use the dashboard');
  }
  const forwarded = FORWARDING_HEADERS.some((name) => req.header(name) !== undefined);
  if (forwarded || !isLoopbackAddress(req.remoteAddress)) {
    return errorReply(
      403,
      'LoopbackOnly',
      'without an authorize option the dashboard answers only clients on this machine (127.0.0.1 or ::1), not through a proxy',
    );
  }
  return undefined;
}

/**
 * A POST's refusal when it may come from another site: its `Origin` must be the dashboard's own
 * (the `Host` it was sent to) or one of `allowedOrigins`. Browsers send `Origin` with every POST,
 * so a missing one is refused too. `Sec-Fetch-Site`, when sent, must say same-origin.
 */
export function checkSameOrigin<Req>(settings: DashboardSettings<Req>, req: DashboardRequest<Req>): BodyReply | undefined {
  const refuse = (why: string) => errorReply(403, 'CrossSiteRequest', `actions must come from the dashboard's own page: ${why}`);
  const site = req.header('sec-fetch-site');
  if (site !== undefined && site !== 'same-origin') return refuse(`Sec-Fetch-Site is ${JSON.stringify(site)}`);
  const origin = req.header('origin');
  if (origin === undefined || origin === 'null') return refuse('the request has no Origin header');
  const wanted = origin.toLowerCase();
  if (settings.allowedOrigins.has(wanted)) return undefined;
  const host = req.header('host')?.toLowerCase();
  let originHost: string;
  try {
    originHost = new URL(wanted).host;
  } catch {
    return refuse('its Origin header is not a URL');
  }
  if (host === undefined || originHost !== host) return refuse(`Origin ${JSON.stringify(origin)} is not this dashboard's`);
  return undefined;
}
