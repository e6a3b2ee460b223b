/**
 * `litepool/otel`: OpenTelemetry spans and metrics for litepool's pools, from their trace points on
 * `diagnostics_channel`. Needs `@opentelemetry/api` (an optional peer dependency).
 *
 * @example
 * ```ts
 * import { trace, metrics } from '@opentelemetry/api';
 * import { instrument } from 'litepool/otel';
 * const stop = instrument({ tracer: trace.getTracer('crawler'), meter: metrics.getMeter('crawler'), pools: [{ name: 'crawler', pool: lp }] });
 * ```
 * @module
 */
export { instrument } from './instrument.js';
export type { InstrumentOptions, ObservedPool } from './instrument.js';
