/** Listing cursors: opaque to callers, the same format in every store. */
import { InvalidArgumentError } from '../errors.js';

export interface CursorPosition {
  readonly createdAt: number;
  readonly requestId: string;
}

export function encodeCursor(position: CursorPosition): string {
  return Buffer.from(`${position.createdAt}:${position.requestId}`, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): CursorPosition {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const colon = text.indexOf(':');
  const createdAt = Number(text.slice(0, colon));
  const requestId = text.slice(colon + 1);
  if (colon <= 0 || !Number.isSafeInteger(createdAt) || requestId.length === 0) {
    throw new InvalidArgumentError('cursor', cursor, 'a nextCursor value returned by listInvocations');
  }
  return { createdAt, requestId };
}

/** Newest first: createdAt descending, then requestId descending. True when a sorts before b. */
export function listsBefore(a: CursorPosition, b: CursorPosition): boolean {
  return a.createdAt > b.createdAt || (a.createdAt === b.createdAt && a.requestId > b.requestId);
}
