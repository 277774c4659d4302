/**
 * Where the reference pages' data comes from: the schemas, the commander program, and the
 * coordinator, proxy and signer themselves, built in this process the way their tests build them.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ERROR_STATUS, EVENT_TYPES, eventSchemaDocument, FarmConfig } from '@switchyard/protocol';
import { pino } from 'pino';
import type { Registry } from 'prom-client';
import { createProgram } from '../../packages/cli/src/program.ts';
import { parseConfig } from '../../packages/coordinator/src/config/load-config.ts';
import { createCoordinatorContext } from '../../packages/coordinator/src/coordinator-context.ts';
import { openFarmStore } from '../../packages/coordinator/src/store/open-store.ts';
import { ProxyMetrics } from '../../packages/proxy/src/stats.ts';
import { SignerConfigFile } from '../../packages/signing/src/config/signer-config-schema.ts';
import { SignerMetrics } from '../../packages/signing/src/server/signer-metrics.ts';
import { type CommandDoc, describeProgram } from './cli-page.ts';
import type { ConfigFile } from './configuration-page.ts';
import type { EventDocument } from './events-page.ts';
import type { OpenApiDocument } from './http-api-page.ts';
import type { MetricDoc, MetricsSection } from './metrics-page.ts';
import type { JsonSchema } from './schema-fields.ts';

/** A schema as JSON: TypeBox marks schemas with symbol keys, which are not part of the document. */
function plain(schema: unknown): JsonSchema {
  return JSON.parse(JSON.stringify(schema)) as JsonSchema;
}

export function configFiles(): ConfigFile[] {
  return [
    { title: 'Farm configuration', source: 'packages/protocol/src/config.ts', schema: plain(FarmConfig) },
    {
      title: 'Signer configuration',
      source: 'packages/signing/src/config/signer-config-schema.ts',
      schema: plain(SignerConfigFile),
    },
  ];
}

export function cliCommands(): CommandDoc[] {
  return describeProgram(createProgram());
}

export function eventDocuments(): EventDocument[] {
  return EVENT_TYPES.map((type) => eventSchemaDocument(type) as unknown as EventDocument);
}

export const errorStatus: Readonly<Record<string, number>> = ERROR_STATUS;

function metricsOf(registry: Registry): MetricDoc[] {
  return registry.getMetricsAsArray().map((metric) => {
    // prom-client keeps the type and label names on the metric, though its typings leave them out.
    const { name, help, type, labelNames } = metric as unknown as {
      name: string;
      help: string;
      type: string;
      labelNames?: string[];
    };
    return { name, help, type, labels: [...(labelNames ?? [])] };
  });
}

/** The smallest farm a coordinator starts with: the API and metrics don't depend on what it builds. */
const FARM_YAML = 'repos: [{ name: docs, url: /srv/docs.git }]\nbuilders: []\n';

/**
 * A coordinator context over SQLite in a temporary directory, as the API tests build it: its
 * OpenAPI document and the metrics its registry holds once everything is wired.
 */
export async function coordinatorSources(): Promise<{ openapi: OpenApiDocument; metrics: MetricDoc[] }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'switchyard-docs-'));
  const logger = pino({ level: 'silent' });
  const farm = parseConfig('docs-farm.yml', FARM_YAML, {});
  const store = await openFarmStore(join(dataDir, 'switchyard.db'), {
    agingMs: () => farm.scheduling.agingMs,
    logger,
  });
  try {
    const context = await createCoordinatorContext({ farm: () => farm, store, dataDir, logger });
    try {
      await context.app.ready();
      return {
        openapi: plain(context.app.swagger()) as unknown as OpenApiDocument,
        metrics: metricsOf(context.api.metrics.registry),
      };
    } finally {
      await context.close();
    }
  } finally {
    await store.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

export function proxyMetrics(): MetricDoc[] {
  const none = () => 0;
  return metricsOf(
    new ProxyMetrics([], { entries: none, bytes: none, maxBytes: none, memoryBytes: none, evictions: none }).registry,
  );
}

export function signerMetrics(): MetricDoc[] {
  return metricsOf(new SignerMetrics().registry);
}

export function metricsSections(coordinator: MetricDoc[]): MetricsSection[] {
  return [
    { title: 'Coordinator', source: 'packages/coordinator/src/coordinator-context.ts', metrics: coordinator },
    { title: 'Proxy', source: 'packages/proxy/src/stats.ts', metrics: proxyMetrics() },
    { title: 'Signer', source: 'packages/signing/src/server/signer-metrics.ts', metrics: signerMetrics() },
  ];
}
