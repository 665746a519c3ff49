/** Normalises the ways a destination can be given into two kinds. */
import type { Destination, DestinationTarget } from './types.js';

export type ResolvedDestination =
  | { readonly kind: 'function'; readonly functionName: string }
  | { readonly kind: 'send'; readonly destination: Destination };

export function resolveDestination(target: DestinationTarget | undefined): ResolvedDestination | undefined {
  if (target === undefined) return undefined;
  if (typeof target === 'function') {
    return { kind: 'send', destination: { send: target, description: `callback ${target.name || '(anonymous)'}` } };
  }
  if ('send' in target && typeof target.send === 'function') return { kind: 'send', destination: target };
  return { kind: 'function', functionName: (target as { function: string }).function };
}
