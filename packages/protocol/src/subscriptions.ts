import Type from 'typebox';
import { EventFilterConfig } from './config.ts';
import { WEBHOOK_URL_PATTERN } from './text.ts';

const Id = Type.Integer({ minimum: 1 });
const Time = Type.String({ format: 'date-time', description: 'ISO 8601, UTC' });
const NullableTime = Type.Union([Time, Type.Null()]);

/** The header that signs a webhook delivery. */
export const SIGNATURE_HEADER = 'switchyard-signature';

export const CreateSubscriptionRequest = Type.Object(
  {
    url: Type.String({
      pattern: WEBHOOK_URL_PATTERN,
      maxLength: 2000,
      description:
        'where each matching event is POSTed; no user:password@ (the receiver checks the switchyard-signature header)',
    }),
    secret: Type.String({ minLength: 16, maxLength: 500, description: 'signs each delivery; never shown again' }),
    filter: Type.Optional(EventFilterConfig),
    since: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: Number.MAX_SAFE_INTEGER,
        description: 'deliver the events after this id too (default: only new events)',
      }),
    ),
  },
  { additionalProperties: false },
);

export const Subscription = Type.Object({
  id: Id,
  name: Type.Union([Type.String({ description: 'config webhooks: their name' }), Type.Null()]),
  source: Type.Enum(['api', 'config']),
  url: Type.String(),
  filter: EventFilterConfig,
  cursor: Type.Integer({ minimum: 0, description: 'events up to this id have been queued or passed over' }),
  pending: Type.Integer({ minimum: 0, description: 'deliveries not yet made' }),
  failed: Type.Integer({ minimum: 0, description: 'deliveries given up after the retry period' }),
  createdAt: Time,
});

export const DeliveryAttempt = Type.Object({
  number: Type.Integer({ minimum: 1 }),
  at: Time,
  status: Type.Union([Type.Integer(), Type.Null()], { description: 'the HTTP status, or null when none came' }),
  error: Type.Union([Type.String(), Type.Null()]),
  durationMs: Type.Integer({ minimum: 0 }),
});

export const Delivery = Type.Object({
  id: Id,
  subscriptionId: Id,
  eventId: Id,
  eventType: Type.String(),
  state: Type.Enum(['pending', 'delivered', 'failed']),
  attempts: Type.Array(DeliveryAttempt),
  nextAttemptAt: NullableTime,
  createdAt: Time,
  finishedAt: NullableTime,
  redeliveryOf: Type.Union([Id, Type.Null()]),
});

export type CreateSubscriptionRequest = Type.Static<typeof CreateSubscriptionRequest>;
export type Subscription = Type.Static<typeof Subscription>;
export type DeliveryAttempt = Type.Static<typeof DeliveryAttempt>;
export type Delivery = Type.Static<typeof Delivery>;
