/**
 * Helpers for users' own tests: `import { fakeClock } from 'async-invoker/testing'`.
 *
 * @module async-invoker/testing
 */
export { fakeClock, type FakeClock } from './fake-clock.js';
