// Wrap a function the app already has so callers can fire it in the background and get a
// request id at once, with retries, backoff, an event age and a task record for free.
//
//   npm run build && node examples/wrap-handler/index.js
//
// It uses the embedded SQLite store: accepted work survives a restart (set DB_PATH to choose
// the file; it defaults to ./data/wrap-handler.db).
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { createInvoker, NonRetryableError } from 'async-invoker';
import { sqliteStore } from 'async-invoker/sqlite';

// --- The existing code: an async function that sometimes fails. ---------------------------
let mailServerUp = false;
async function sendWelcomeEmail({ to, name }) {
  if (!to.includes('@')) throw new NonRetryableError(`not an address: ${to}`); // retrying cannot help
  if (!mailServerUp) {
    mailServerUp = true; // the first call finds the server down, the retry gets through
    throw new Error('mail server unavailable');
  }
  return { delivered: to, subject: `Welcome, ${name}!` };
}

// --- Wrapping it. -------------------------------------------------------------------------
const path = process.env.DB_PATH ?? './data/wrap-handler.db';
mkdirSync(dirname(path), { recursive: true });
const invoker = createInvoker({ store: sqliteStore({ path }) });

invoker.register('sendWelcomeEmail', sendWelcomeEmail, {
  maxAsyncRetryAttempts: 3,
  retryBackoff: { initialDelayMs: 200, jitter: 'none' },
  destinations: {
    onFailure: async (record) => console.log(`gave up on ${record.requestContext.requestId}: ${record.responsePayload.errorMessage}`),
  },
});

/** The async twin of sendWelcomeEmail: resolves with a request id once the call is stored. */
export const sendWelcomeEmailAsync = (user, options) => invoker.invokeAsync('sendWelcomeEmail', user, options);

// --- Using it. ----------------------------------------------------------------------------
const finished = new Map();
const done = new Promise((resolve) => {
  const settle = (event) => {
    finished.set(event.requestId, event);
    if (finished.size === 2) resolve();
  };
  invoker.on('succeeded', settle);
  invoker.on('failed', settle);
});

invoker.on('retrying', (e) => console.log(`retrying ${e.requestId} after: ${e.error.errorMessage}`));

const ok = await sendWelcomeEmailAsync({ to: 'ada@example.com', name: 'Ada' }, { invocationId: `welcome_${Date.now()}` });
const bad = await sendWelcomeEmailAsync({ to: 'not-an-address', name: 'Bob' });
console.log(`accepted ${ok.requestId} and ${bad.requestId}`);

await done;
const record = await invoker.getInvocation(ok.requestId);
console.log(`${ok.requestId}: ${record.status} after ${record.attempts} attempts ->`, JSON.stringify(record.result));
const failed = await invoker.getInvocation(bad.requestId);
console.log(`${bad.requestId}: ${failed.status} (${failed.condition}) ${failed.error.errorMessage}`);
await invoker.close(); // the worker holds the process open until then
