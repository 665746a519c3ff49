/** What every HTTP adapter re-exports besides its own asyncTrigger and taskRoutes. */
export { DEFAULT_ALLOWED_HEADERS } from './record.js';
export { DEFAULT_FUNCTION_NAME, DEFAULT_MAX_BODY_BYTES, type TriggerOptions } from './options.js';
export { DELAY_HEADER, INVOCATION_ID_HEADER, REQUEST_ID_HEADER, DEFAULT_TYPE_HEADERS } from './headers.js';
export { getReplayContext } from './replay-context.js';
export { HttpReplayError } from './result.js';
export { MissingInjectorError } from './injector.js';
export type { AuthorizeResult, RecordedRequest, ReplayContext, ReplayResult, RequestListener, TaskRoutesOptions } from './types.js';
