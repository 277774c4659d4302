import { Counter, Gauge, type Registry } from 'prom-client';
import type { AmqpMetrics } from './amqp-publisher.ts';
import type { HistoryMetrics } from './event-history.ts';

/** Metrics of the event outlets (webhook deliveries, the broker exchange) and of replaying history. */
export interface EventMetrics {
  webhookDeliveries: Counter<'result'>;
  amqp: AmqpMetrics;
  history: HistoryMetrics;
}

export function registerEventMetrics(registry: Registry): EventMetrics {
  const historyReads = new Counter({
    name: 'switchyard_event_history_reads_total',
    help: 'Store reads of a batch of event history (500 ids) for readers replaying it; readers at the same place share one',
    registers: [registry],
  });
  const historyCached = new Gauge({
    name: 'switchyard_event_history_batches_cached',
    help: 'Batches of event history held for readers replaying it (at most 32)',
    registers: [registry],
  });
  return {
    history: { read: () => historyReads.inc(), cached: (count) => historyCached.set(count) },
    webhookDeliveries: new Counter({
      name: 'switchyard_webhook_deliveries_total',
      help: 'Webhook POSTs by result: delivered, retry (to be tried again) or failed (given up)',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    amqp: {
      published: new Counter({
        name: 'switchyard_amqp_published_total',
        help: 'Events published to the broker exchange and confirmed by it',
        registers: [registry],
      }),
      connected: new Gauge({
        name: 'switchyard_amqp_connected',
        help: '1 while the coordinator holds a connection to the broker',
        registers: [registry],
      }),
    },
  };
}
