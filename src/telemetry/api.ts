/**
 * `@opentelemetry/api`, an optional peer dependency: loaded once, synchronously, when the first
 * invoker with tracing on is created. Absent, everything telemetry does is a no-op.
 */
import { createRequire } from 'node:module';

export type OtelApi = typeof import('@opentelemetry/api');

let loaded: OtelApi | null | undefined;

export function otelApi(): OtelApi | undefined {
  if (loaded === undefined) {
    try {
      loaded = createRequire(import.meta.url)('@opentelemetry/api') as OtelApi;
    } catch {
      loaded = null;
    }
  }
  return loaded ?? undefined;
}
