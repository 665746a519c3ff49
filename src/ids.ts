/**
 * Request ids: 22 characters of nanoid's URL-safe alphabet (A-Za-z0-9_-), 128 random bits.
 *
 * nanoid builds each id by appending characters, which leaves V8 a "cons" string of many
 * pieces: ~290 bytes of heap per id held, and slower hashing. Here one native call encodes 16
 * bytes of a pooled random buffer as base64url: a flat string of 22 characters (no padding).
 */
import { randomFillSync } from 'node:crypto';

const ID_BYTES = 16;
const POOL_IDS = 256;
const pool = Buffer.allocUnsafe(ID_BYTES * POOL_IDS);
let offset = pool.length;

export function newRequestId(): string {
  if (offset === pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const id = pool.toString('base64url', offset, offset + ID_BYTES);
  offset += ID_BYTES;
  return id;
}
