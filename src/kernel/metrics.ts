import { Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type Metrics = {
  readonly registry: Registry;
  observeHttp(method: string, route: string, status: number, seconds: number): void;
};

/** One registry per platform instance (not prom-client's global), so tests can build many apps. */
export function createMetrics(options: { defaultMetrics: boolean }): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry, prefix: 'plinth_' });
  const duration = new Histogram({
    name: 'plinth_http_request_duration_seconds',
    help: 'HTTP request duration by method, route pattern and status code',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  return {
    registry,
    observeHttp(method, route, status, seconds) {
      duration.labels(method, route, String(status)).observe(seconds);
    },
  };
}
