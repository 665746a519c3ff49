/**
 * A trigger that replays with light-my-request fails when it is created if the package cannot be
 * found, not after its first 202. The resolver is passed in; the package stays installed.
 */
import { describe, expect, it } from 'vitest';
import { createInvoker, memoryStore } from '../../src/index.js';
import { assertInjector, MissingInjectorError } from '../../src/http/injector.js';
import { injectReplay } from '../../src/http/replay.js';
import { createTriggerCore } from '../../src/http/trigger.js';

const missing = (specifier: string): string => {
  throw Object.assign(new Error(`Cannot find module '${specifier}'`), { code: 'MODULE_NOT_FOUND' });
};

describe('light-my-request check', () => {
  it('names the package and the install command, keeping the resolver error as the cause', () => {
    let thrown: unknown;
    try {
      assertInjector(missing);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(MissingInjectorError);
    const error = thrown as MissingInjectorError;
    expect(error.message).toContain("'light-my-request'");
    expect(error.message).toContain('npm install light-my-request');
    expect(error.code).toBe('MissingDependency');
    expect((error.cause as { code?: string }).code).toBe('MODULE_NOT_FOUND');
  });

  it('is made when the replay is built, before the trigger registers its function', () => {
    const invoker = createInvoker({ store: memoryStore() });
    const create = () => createTriggerCore(invoker, {}, injectReplay(() => () => undefined, missing));
    expect(create).toThrow(MissingInjectorError);
    // Nothing was registered: the same name is still free.
    expect(() => createTriggerCore(invoker, {}, injectReplay(() => () => undefined))).not.toThrow();
    return invoker.close();
  });

  it('passes where the package is installed (as here)', () => {
    expect(() => assertInjector()).not.toThrow();
  });
});
