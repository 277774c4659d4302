import type { ArtifactStats } from '@switchyard/protocol';
import { Counter, Gauge, type Registry } from 'prom-client';

/** The artifact store's Prometheus metrics, in the coordinator's registry; the gauges are read at scrape time. */
export class ArtifactMetrics {
  readonly uploads: Counter<'outcome'>;
  readonly bytesReceived: Counter;
  readonly bytesNotSent: Counter;

  constructor(registry: Registry, stats: () => Promise<ArtifactStats>) {
    this.uploads = new Counter({
      name: 'switchyard_artifact_uploads_total',
      help: 'Artifact uploads: uploaded (body received), deduplicated (answered before the body), refused',
      labelNames: ['outcome'] as const,
      registers: [registry],
    });
    this.bytesReceived = new Counter({
      name: 'switchyard_artifact_received_bytes_total',
      help: 'Upload body bytes received',
      registers: [registry],
    });
    this.bytesNotSent = new Counter({
      name: 'switchyard_artifact_dedup_saved_bytes_total',
      help: 'Upload body bytes never sent because the content was stored already (dedup on the wire)',
      registers: [registry],
    });
    const gauge = (name: string, help: string, read: (s: ArtifactStats) => number) =>
      new Gauge({
        name,
        help,
        registers: [registry],
        async collect() {
          this.set(read(await stats()));
        },
      });
    gauge('switchyard_artifacts', 'Artifacts stored (job, name)', (s) => s.artifacts);
    gauge('switchyard_artifact_logical_bytes', 'Sizes of all artifacts added up', (s) => s.logicalBytes);
    gauge('switchyard_artifact_stored_bytes', 'Blob bytes on disk, each distinct content once', (s) => s.storedBytes);
    gauge('switchyard_artifact_dedup_ratio', 'Logical bytes / stored bytes', (s) => s.dedupRatio);
  }
}
