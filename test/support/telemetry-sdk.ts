// The OpenTelemetry SDK as an application registers it, with in-memory exporters: what nestjs-obo
// reports through @opentelemetry/api, read back through the official SDK (not our own code).
import { context, metrics, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader, type DataPoint, type MetricData } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';

/** One metric data point, flattened: the metric's name, its scope and the point's attributes and value. */
export interface MetricPoint {
  readonly name: string;
  readonly scope: string;
  readonly scopeVersion: string | undefined;
  readonly unit: string;
  readonly description: string;
  readonly attributes: Record<string, unknown>;
  /** A counter's or gauge's value; a histogram's `{ count, sum, ... }`. */
  readonly value: unknown;
}

export interface TestTelemetry {
  /** Every span ended since the last {@link reset}, in the order they ended. */
  spans(): ReadableSpan[];
  /** Collects the metrics now (cumulative: totals since the SDK was registered). */
  metrics(): Promise<MetricPoint[]>;
  /** Forgets the spans ended so far (metrics stay cumulative). */
  reset(): void;
  /** Unregisters everything from the API's globals and shuts the SDK down. */
  shutdown(): Promise<void>;
}

/**
 * Registers a TracerProvider (SimpleSpanProcessor into an InMemorySpanExporter), a MeterProvider
 * (a PeriodicExportingMetricReader into an InMemoryMetricExporter, flushed on demand), the
 * AsyncLocalStorage context manager and the W3C trace-context propagator. Call it before the Nest
 * apps are created: they take their metric instruments when built.
 */
export function registerTelemetry(): TestTelemetry {
  const spans = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 3_600_000 });
  const meterProvider = new MeterProvider({ readers: [reader] });
  if (!context.setGlobalContextManager(contextManager) || !trace.setGlobalTracerProvider(tracerProvider) || !metrics.setGlobalMeterProvider(meterProvider) || !propagation.setGlobalPropagator(new W3CTraceContextPropagator())) {
    throw new Error('an OpenTelemetry global was already registered in this test file');
  }
  return {
    spans: () => spans.getFinishedSpans(),
    reset: () => spans.reset(),
    metrics: async () => {
      metricExporter.reset();
      await reader.forceFlush();
      const points: MetricPoint[] = [];
      for (const resource of metricExporter.getMetrics()) {
        for (const scope of resource.scopeMetrics) {
          for (const metric of scope.metrics as MetricData[]) {
            for (const point of metric.dataPoints as DataPoint<unknown>[]) {
              points.push({
                name: metric.descriptor.name,
                scope: scope.scope.name,
                scopeVersion: scope.scope.version,
                unit: metric.descriptor.unit,
                description: metric.descriptor.description,
                attributes: { ...point.attributes },
                value: point.value,
              });
            }
          }
        }
      }
      return points;
    },
    shutdown: async () => {
      trace.disable();
      metrics.disable();
      propagation.disable();
      context.disable();
      await tracerProvider.shutdown();
      await meterProvider.shutdown();
    },
  };
}

/** The points of metric `name` whose attributes include `attributes`. */
export function pointsOf(points: readonly MetricPoint[], name: string, attributes: Record<string, unknown> = {}): MetricPoint[] {
  return points.filter((p) => p.name === name && Object.entries(attributes).every(([k, v]) => p.attributes[k] === v));
}

/** Sum of the values of metric `name`'s counter points whose attributes include `attributes` (0 when none). */
export function counted(points: readonly MetricPoint[], name: string, attributes: Record<string, unknown> = {}): number {
  return pointsOf(points, name, attributes).reduce((sum, p) => sum + (p.value as number), 0);
}

/**
 * Everything an exporter would send, as one text: span names, attributes, events, links, status
 * messages, resources and scopes, and every metric's name, description, unit, attributes and value.
 */
export function exportedText(spans: readonly ReadableSpan[], points: readonly MetricPoint[]): string {
  const spanParts = spans.map((span) => ({
    name: span.name,
    kind: span.kind,
    attributes: span.attributes,
    events: span.events.map((event) => ({ name: event.name, attributes: event.attributes })),
    links: span.links.map((link) => ({ attributes: link.attributes, context: link.context })),
    status: span.status,
    resource: span.resource.attributes,
    scope: span.instrumentationScope,
  }));
  return JSON.stringify({ spans: spanParts, metrics: points });
}
