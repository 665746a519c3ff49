/**
 * Request ids: 22 characters of the URL-safe base64 alphabet (A-Za-z0-9_-): 16 bytes, the first
 * 6 the creation time in milliseconds (big-endian), the other 10 random (80 bits).
 *
 * The time first: ids made close together share their leading characters, so the stores' primary
 * key indexes take new ids in a few places instead of anywhere in the tree (a random 128-bit id
 * cost a PostgreSQL bulk insert about a quarter of its time in index page writes). They are not
 * sorted by time (base64url's characters are not in byte order), only grouped by it.
 *
 * Not nanoid: it builds each id by appending characters, which leaves V8 a "cons" string of many
 * pieces: ~290 bytes of heap per id held, and slower hashing. Here one native call encodes 16
 * bytes of a pooled buffer as base64url: a flat string of 22 characters (no padding).
 */
import { randomFillSync } from 'node:crypto';

const ID_BYTES = 16;
const TIME_BYTES = 6;
const POOL_IDS = 256;
const pool = Buffer.allocUnsafe(ID_BYTES * POOL_IDS);
let offset = pool.length;

export function newRequestId(): string {
  if (offset === pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  // Unique by the 80 random bits whatever the clock says (a fake one too); the time only groups them.
  pool.writeUIntBE(Date.now(), offset, TIME_BYTES);
  const id = pool.toString('base64url', offset, offset + ID_BYTES);
  offset += ID_BYTES;
  return id;
}
