/**
 * light-my-request, the injector the node-based adapters replay with: an optional peer
 * dependency, checked when a trigger is created and imported on the first replay.
 */
import { createRequire } from 'node:module';

export type Inject = typeof import('light-my-request');

/** Resolves a package name to a file, throwing when it is not installed (`require.resolve`). */
export type Resolve = (specifier: string) => string;

export const INJECTOR_PACKAGE = 'light-my-request';

/** The error a missing injector gives, naming the package and the command that installs it. */
export class MissingInjectorError extends Error {
  override readonly name = 'MissingDependencyError';
  readonly code = 'MissingDependency' as const;
  constructor(cause: unknown) {
    super(
      `asyncTrigger replays requests into your app with '${INJECTOR_PACKAGE}', which is not installed; ` +
        `install it next to async-invoker: npm install ${INJECTOR_PACKAGE}`,
      { cause },
    );
  }
}

// Resolved from this file, as the import below will be: a copy elsewhere in the tree does not count.
const requireHere = createRequire(import.meta.url);

/**
 * Throws `MissingInjectorError` unless light-my-request can be found. Synchronous (resolving,
 * not loading), so `asyncTrigger` can fail when it is created instead of after the first 202,
 * when the replay would fail and the invocation end Failed. `resolve` is there for tests.
 */
export function assertInjector(resolve: Resolve = requireHere.resolve): void {
  try {
    resolve(INJECTOR_PACKAGE);
  } catch (error) {
    throw new MissingInjectorError(error);
  }
}

let injectPromise: Promise<Inject> | undefined;

/** The injector, imported once (on the first replay: it is not needed before). */
export function loadInject(): Promise<Inject> {
  injectPromise ??= import('light-my-request').then(
    (mod) => ((mod as { default?: Inject }).default ?? mod) as Inject,
    (error: unknown) => {
      injectPromise = undefined;
      throw new MissingInjectorError(error);
    },
  );
  return injectPromise;
}
