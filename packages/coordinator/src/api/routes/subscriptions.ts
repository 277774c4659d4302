import { CreateSubscriptionRequest, Delivery, Subscription } from '@switchyard/protocol';
import Type from 'typebox';
import { toEventFilter } from '../../config/events-config.ts';
import { type App, errorResponses } from '../app-types.ts';
import type { ApiContext } from '../context.ts';
import { checkEventFilter } from '../event-stream.ts';

const SubscriptionParams = Type.Object({ id: Type.Integer({ minimum: 1 }) });
const DeliveryParams = Type.Object({ id: Type.Integer({ minimum: 1 }), delivery: Type.Integer({ minimum: 1 }) });
const DeliveriesQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
  before: Type.Optional(Type.Integer({ minimum: 1, description: 'a delivery id, for paging' })),
});

/**
 * Webhook subscriptions. They make the coordinator POST to any URL, and list URLs that may hold
 * credentials, so every route needs the `push` scope, reads included.
 */
export function registerSubscriptionRoutes(app: App, ctx: ApiContext): void {
  app.post(
    '/api/v1/subscriptions',
    {
      config: { scope: 'push' },
      schema: {
        operationId: 'createSubscription',
        tags: ['subscriptions'],
        summary: 'Subscribe a URL to events: each matching event is POSTed to it, signed, in order, at least once',
        body: CreateSubscriptionRequest,
        response: { 201: Type.Object({ subscription: Subscription }), ...errorResponses(400, 401, 403) },
      },
    },
    async (request, reply) => {
      checkEventFilter(toEventFilter(request.body.filter ?? {}));
      const row = await ctx.store.subscriptions.create(request.body);
      return reply.code(201).send({ subscription: await ctx.store.subscriptions.view(row) });
    },
  );

  app.get(
    '/api/v1/subscriptions',
    {
      config: { scope: 'push' },
      schema: {
        operationId: 'listSubscriptions',
        tags: ['subscriptions'],
        summary: 'Every subscription, from the API and from the config, with its queue (secrets are never shown)',
        response: { 200: Type.Object({ subscriptions: Type.Array(Subscription) }), ...errorResponses(401, 403) },
      },
    },
    async () => ({
      subscriptions: await Promise.all(
        (await ctx.store.subscriptions.all()).map((row) => ctx.store.subscriptions.view(row)),
      ),
    }),
  );

  app.get(
    '/api/v1/subscriptions/:id',
    {
      config: { scope: 'push' },
      schema: {
        operationId: 'getSubscription',
        tags: ['subscriptions'],
        summary: 'One webhook subscription: its URL, filter and delivery state',
        params: SubscriptionParams,
        response: { 200: Type.Object({ subscription: Subscription }), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => ({
      subscription: await ctx.store.subscriptions.view(await ctx.store.subscriptions.require(request.params.id)),
    }),
  );

  app.delete(
    '/api/v1/subscriptions/:id',
    {
      config: { scope: 'push' },
      schema: {
        operationId: 'deleteSubscription',
        tags: ['subscriptions'],
        summary: 'Stop delivering to a subscription and forget its queue; config webhooks are removed in the config',
        params: SubscriptionParams,
        response: { 204: Type.Null(), ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      await ctx.store.subscriptions.remove(request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/api/v1/subscriptions/:id/deliveries',
    {
      config: { scope: 'push' },
      schema: {
        operationId: 'listDeliveries',
        tags: ['subscriptions'],
        summary: 'The delivery log, newest first: each event queued for the subscription and every POST made for it',
        params: SubscriptionParams,
        querystring: DeliveriesQuery,
        response: { 200: Type.Object({ deliveries: Type.Array(Delivery) }), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      await ctx.store.subscriptions.require(request.params.id);
      const { limit, before } = request.query;
      return {
        deliveries: await ctx.store.subscriptions.deliveries(request.params.id, { limit: limit ?? 50, before }),
      };
    },
  );

  app.post(
    '/api/v1/subscriptions/:id/deliveries/:delivery/redeliver',
    {
      config: { scope: 'push' },
      schema: {
        operationId: 'redeliver',
        tags: ['subscriptions'],
        summary: 'Queue an event of the delivery log again, behind what is already queued for the subscription',
        params: DeliveryParams,
        response: { 202: Type.Object({ delivery: Delivery }), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      const { id, delivery } = request.params;
      await ctx.store.subscriptions.require(id);
      const queued = await ctx.store.subscriptions.redeliver(id, delivery);
      return reply.code(202).send({ delivery: await ctx.store.subscriptions.delivery(id, queued.id) });
    },
  );
}
