import { Counter, Gauge, type Registry } from 'prom-client';
import type { AmqpMetrics } from './amqp-publisher.ts';

/** Metrics of the event outlets: webhook deliveries and the broker exchange. */
export interface EventMetrics {
  webhookDeliveries: Counter<'result'>;
  amqp: AmqpMetrics;
}

export function registerEventMetrics(registry: Registry): EventMetrics {
  return {
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
