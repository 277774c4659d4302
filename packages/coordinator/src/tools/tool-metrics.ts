import { Counter, type Registry } from 'prom-client';

/** The tool store's Prometheus metrics, in the coordinator's registry. */
export class ToolMetrics {
  readonly uploads: Counter<'outcome'>;
  readonly bytesReceived: Counter;
  readonly downloads: Counter<'visibility'>;

  constructor(registry: Registry) {
    this.uploads = new Counter({
      name: 'switchyard_tool_uploads_total',
      help: 'Tool uploads: uploaded (body received), deduplicated (stored already, answered before the body), refused',
      labelNames: ['outcome'] as const,
      registers: [registry],
    });
    this.bytesReceived = new Counter({
      name: 'switchyard_tool_received_bytes_total',
      help: 'Tool upload body bytes received',
      registers: [registry],
    });
    this.downloads = new Counter({
      name: 'switchyard_tool_downloads_total',
      help: 'Tool downloads (GETs answered with bytes, whole or a range), by visibility',
      labelNames: ['visibility'] as const,
      registers: [registry],
    });
  }
}
