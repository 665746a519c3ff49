/** `--json`: exactly the API's JSON, indented, on stdout. */
import type { Io } from './io.js';

export function printJson(io: Io, value: unknown): void {
  io.out(JSON.stringify(value, null, 2));
}
