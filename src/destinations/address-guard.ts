/**
 * Which addresses a webhook destination may connect to. By default only public unicast
 * addresses: a webhook URL comes from configuration, and without this a destination could be
 * pointed at the cloud metadata service (169.254.169.254), a database on the private network, or
 * the app's own admin port. The decision is made on the resolved address, at connect time (so a
 * DNS answer cannot change between the check and the connection), for every redirect too.
 */
import { isIP } from 'node:net';

export interface AddressPolicy {
  /** Allow every address (loopback and private networks too). @default false */
  readonly allowPrivateNetwork?: boolean;
  /** Addresses or CIDR ranges allowed even though they are not public, e.g. `['10.1.2.0/24', '::1']`. */
  readonly allow?: readonly string[];
}

/** Why an address is refused, or undefined when it may be used. */
export function refusal(address: string, policy: AddressPolicy = {}): string | undefined {
  if (policy.allowPrivateNetwork) return undefined;
  const parsed = parseAddress(address);
  if (!parsed) return `${address} is not an IP address`;
  if (policy.allow?.some((range) => inRange(parsed, range))) return undefined;
  const reason = special(parsed);
  return reason ? `${address} is ${reason}; set allowPrivateNetwork or allow to deliver there` : undefined;
}

interface Address {
  /** 4 or 16 bytes. */
  readonly bytes: number[];
}

function parseAddress(text: string): Address | undefined {
  const address = text.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const version = isIP(address);
  if (version === 4) return { bytes: address.split('.').map(Number) };
  if (version === 6) return { bytes: ipv6Bytes(address) };
  return undefined;
}

function ipv6Bytes(address: string): number[] {
  let text = address;
  // An embedded IPv4 tail (::ffff:10.0.0.1): as two 16-bit groups.
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const groups = (part: string | undefined) => (part ? part.split(':').map((g) => parseInt(g, 16)) : []);
  const h = groups(head);
  const t = groups(tail);
  const all = tail === undefined ? h : [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
  return all.flatMap((g) => [g >> 8, g & 0xff]);
}

/** What is special about an address (not public unicast), if anything. */
function special({ bytes }: Address): string | undefined {
  if (bytes.length === 4) return specialV4(bytes);
  const [b0 = 0, b1 = 0] = bytes;
  // IPv4 inside IPv6: mapped (::ffff:a.b.c.d), compatible (::a.b.c.d), NAT64 (64:ff9b::/96).
  const first10zero = bytes.slice(0, 10).every((b) => b === 0);
  if (first10zero && bytes[10] === 0xff && bytes[11] === 0xff) return specialV4(bytes.slice(12));
  if (bytes.slice(0, 12).every((b) => b === 0)) {
    if (bytes.slice(12).every((b) => b === 0)) return 'the unspecified address';
    if (bytes.slice(12, 15).every((b) => b === 0) && bytes[15] === 1) return 'loopback';
    return specialV4(bytes.slice(12)) ?? 'an IPv4-compatible address (deprecated)';
  }
  if (b0 === 0x00 && b1 === 0x64 && bytes[2] === 0xff && bytes[3] === 0x9b && bytes.slice(4, 12).every((b) => b === 0)) {
    return specialV4(bytes.slice(12));
  }
  if ((b0 & 0xfe) === 0xfc) return 'a unique-local address (fc00::/7)';
  if (b0 === 0xfe && (b1 & 0xc0) === 0x80) return 'a link-local address (fe80::/10)';
  if (b0 === 0xfe && (b1 & 0xc0) === 0xc0) return 'a site-local address (fec0::/10)';
  if (b0 === 0xff) return 'a multicast address';
  if (b0 === 0x20 && b1 === 0x01 && bytes[2] === 0x0d && bytes[3] === 0xb8) return 'a documentation address (2001:db8::/32)';
  if (b0 === 0x20 && b1 === 0x02) return specialV4(bytes.slice(2, 6)) === undefined ? undefined : 'a 6to4 address of a private IPv4 network';
  return undefined;
}

function specialV4([a = 0, b = 0, c = 0]: number[]): string | undefined {
  if (a === 0) return 'in 0.0.0.0/8 ("this network")';
  if (a === 10) return 'a private address (10.0.0.0/8)';
  if (a === 127) return 'loopback';
  if (a === 169 && b === 254) return 'link-local (169.254.0.0/16, where cloud metadata services answer)';
  if (a === 172 && b >= 16 && b <= 31) return 'a private address (172.16.0.0/12)';
  if (a === 192 && b === 168) return 'a private address (192.168.0.0/16)';
  if (a === 100 && b >= 64 && b <= 127) return 'a shared (carrier-grade NAT) address (100.64.0.0/10)';
  if (a === 192 && b === 0 && c === 0) return 'an IETF protocol address (192.0.0.0/24)';
  if ((a === 192 && b === 0 && c === 2) || (a === 198 && b === 51 && c === 100) || (a === 203 && b === 0 && c === 113)) return 'a documentation address';
  if (a === 198 && (b === 18 || b === 19)) return 'a benchmarking address (198.18.0.0/15)';
  if (a >= 224 && a <= 239) return 'a multicast address';
  if (a >= 240) return 'a reserved address (240.0.0.0/4, broadcast)';
  return undefined;
}

function inRange(address: Address, range: string): boolean {
  const [base, bits] = range.split('/') as [string, string | undefined];
  const net = parseAddress(base);
  if (!net) return false;
  // Compare IPv4 ranges with IPv4-mapped IPv6 addresses too.
  const a = address.bytes.length === 16 && net.bytes.length === 4 && isMapped(address.bytes) ? address.bytes.slice(12) : address.bytes;
  if (a.length !== net.bytes.length) return false;
  const prefix = bits === undefined ? a.length * 8 : Number(bits);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > a.length * 8) return false;
  for (let i = 0; i < a.length; i++) {
    const take = Math.max(0, Math.min(8, prefix - i * 8));
    if (take === 0) break;
    const mask = (0xff << (8 - take)) & 0xff;
    if ((a[i]! & mask) !== (net.bytes[i]! & mask)) return false;
  }
  return true;
}

function isMapped(bytes: readonly number[]): boolean {
  return bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
}
