import {
  type CreateSubscriptionRequest,
  type Delivery,
  type EventFilterConfig,
  redactUrl,
  redactUrls,
  type Subscription,
} from '@switchyard/protocol';
import { type Kysely, sql } from 'kysely';
import type { ConfiguredWebhook } from '../config/events-config.ts';
import { dialectOf } from './dialect.ts';
import { conflict, notFound } from './errors.ts';
import { iso } from './mappers.ts';
import { PENDING } from './partial-indexes.ts';
import type { DeliveryRecord, SingletonFence, SubscriptionRecord, SubscriptionStore } from './port.ts';
import { requireFence } from './replica-records.ts';
import type { Database } from './schema.ts';
import type { Store } from './store.ts';

type SubscriptionRow = SubscriptionRecord;

/** Any fixed key shared by the replicas of a farm: the lock under which one syncs the config's webhooks. */
const WEBHOOK_SYNC_LOCK = 0x5377_7977;
type DeliveryRow = DeliveryRecord;

/** The webhook subscriptions and their delivery queues and logs, in the database. */
export class SubscriptionRecords implements SubscriptionStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly store: Store,
    private readonly clock: () => number = Date.now,
  ) {}

  async create(request: CreateSubscriptionRequest): Promise<SubscriptionRow> {
    return this.store.write(async (ctx) => {
      const lastEventId = await lastCommittedEventId(ctx.trx);
      const row = await ctx.trx
        .insertInto('subscriptions')
        .values({
          name: null,
          source: 'api',
          url: request.url,
          secret: request.secret,
          filter: JSON.stringify(request.filter ?? {}),
          cursor: Math.min(request.since ?? lastEventId, lastEventId),
          created_at: ctx.now,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      await ctx.emit('subscription.changed', { subscription: row.id, change: 'created' });
      if (request.since !== undefined) return row;
      // A subscription starts after the event announcing it: that one is about it, not for it.
      await ctx.flushEvents();
      const announced = (ctx.events.at(-1) as { event: { id: number } }).event.id;
      return ctx.trx
        .updateTable('subscriptions')
        .set({ cursor: announced })
        .where('id', '=', row.id)
        .returningAll()
        .executeTakeFirstOrThrow();
    });
  }

  /**
   * Makes the config's webhooks the `config` subscriptions: new ones start at the end of the
   * log, changed ones keep their queue, removed ones are deleted with it.
   */
  async syncConfigured(webhooks: readonly ConfiguredWebhook[]): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      // Every replica syncs at start and on reload: on PostgreSQL they take turns, so two
      // starting at once don't both add a new webhook (its name is no key).
      if (dialectOf(trx) === 'postgres')
        await sql`select pg_advisory_xact_lock(${sql.lit(WEBHOOK_SYNC_LOCK)})`.execute(trx);
      const lastEventId = await lastCommittedEventId(trx);
      const existing = await trx.selectFrom('subscriptions').selectAll().where('source', '=', 'config').execute();
      const wanted = new Set(webhooks.map((hook) => hook.name));
      for (const row of existing) {
        if (!wanted.has(row.name as string)) await trx.deleteFrom('subscriptions').where('id', '=', row.id).execute();
      }
      for (const hook of webhooks) {
        const values = { url: hook.url, secret: hook.secret, filter: JSON.stringify(hook.filter) };
        if (existing.some((row) => row.name === hook.name)) {
          await trx.updateTable('subscriptions').set(values).where('name', '=', hook.name).execute();
        } else {
          await trx
            .insertInto('subscriptions')
            .values({ ...values, name: hook.name, source: 'config', cursor: lastEventId, created_at: this.clock() })
            .execute();
        }
      }
    });
  }

  async all(): Promise<SubscriptionRow[]> {
    return this.db.selectFrom('subscriptions').selectAll().orderBy('id').execute();
  }

  async find(id: number): Promise<SubscriptionRow | undefined> {
    return this.db.selectFrom('subscriptions').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async require(id: number): Promise<SubscriptionRow> {
    const row = await this.find(id);
    if (!row) throw notFound(`subscription ${id} does not exist`);
    return row;
  }

  async remove(id: number): Promise<void> {
    const row = await this.require(id);
    if (row.source === 'config') {
      throw conflict(`subscription ${id} is the webhook "${row.name}" of the config file; remove it there`);
    }
    await this.store.write(async (ctx) => {
      await ctx.trx.deleteFrom('subscriptions').where('id', '=', id).execute();
      await ctx.emit('subscription.changed', { subscription: id, change: 'deleted' });
    });
  }

  async view(row: SubscriptionRow): Promise<Subscription> {
    const counts = await this.db
      .selectFrom('deliveries')
      .select(['state'])
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .where('subscription_id', '=', row.id)
      .where('state', 'in', ['pending', 'failed'])
      .groupBy('state')
      .execute();
    const count = (state: string) => Number(counts.find((c) => c.state === state)?.count ?? 0);
    return {
      id: row.id,
      name: row.name,
      source: row.source,
      // Whoever may read subscriptions need not see the receiver's credentials.
      url: redactUrl(row.url),
      filter: JSON.parse(row.filter) as EventFilterConfig,
      cursor: row.cursor,
      pending: count('pending'),
      failed: count('failed'),
      createdAt: iso(row.created_at),
    };
  }

  /** Queues deliveries for these events (in id order) and moves the cursor past `cursor`. */
  async enqueue(
    subscriptionId: number,
    eventIds: readonly number[],
    cursor: number,
    fence?: SingletonFence,
  ): Promise<void> {
    const now = this.clock();
    await this.store.write(async (ctx) => {
      const { trx } = ctx;
      if (fence) await requireFence(ctx, fence);
      if (eventIds.length > 0) {
        await trx
          .insertInto('deliveries')
          .values(
            eventIds.map((eventId) => ({
              subscription_id: subscriptionId,
              event_id: eventId,
              state: 'pending' as const,
              next_attempt_at: now,
              first_attempt_at: null,
              created_at: now,
              finished_at: null,
              redelivery_of: null,
            })),
          )
          .execute();
      }
      await trx
        .updateTable('subscriptions')
        .set({ cursor })
        .where('id', '=', subscriptionId)
        .where('cursor', '<', cursor)
        .execute();
    });
  }

  async nextPending(subscriptionId: number): Promise<DeliveryRow | undefined> {
    return this.db
      .selectFrom('deliveries')
      .selectAll()
      .where('subscription_id', '=', subscriptionId)
      .where('state', '=', PENDING)
      .orderBy('id')
      .executeTakeFirst();
  }

  async attemptCount(deliveryId: number): Promise<number> {
    const row = await this.db
      .selectFrom('delivery_attempts')
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .where('delivery_id', '=', deliveryId)
      .executeTakeFirst();
    return Number(row?.count ?? 0);
  }

  /** Logs one POST and moves the delivery on: delivered, failed for good, or due again at `retryAt`. */
  async recordAttempt(
    delivery: DeliveryRow,
    attempt: { at: number; status: number | null; error: string | null; durationMs: number },
    outcome: { state: 'delivered' | 'failed' } | { state: 'pending'; retryAt: number },
    fence?: SingletonFence,
  ): Promise<void> {
    await this.store.write(async (ctx) => {
      const { trx } = ctx;
      if (fence) await requireFence(ctx, fence);
      const previous = await trx
        .selectFrom('delivery_attempts')
        .select((eb) => eb.fn.max<number | null>('number').as('number'))
        .where('delivery_id', '=', delivery.id)
        .executeTakeFirst();
      await trx
        .insertInto('delivery_attempts')
        .values({
          delivery_id: delivery.id,
          number: (previous?.number ?? 0) + 1,
          attempted_at: attempt.at,
          status: attempt.status,
          error: attempt.error,
          duration_ms: attempt.durationMs,
        })
        .execute();
      await trx
        .updateTable('deliveries')
        .set({
          state: outcome.state,
          first_attempt_at: delivery.first_attempt_at ?? attempt.at,
          next_attempt_at: outcome.state === 'pending' ? outcome.retryAt : null,
          finished_at: outcome.state === 'pending' ? null : attempt.at,
        })
        .where('id', '=', delivery.id)
        .execute();
    });
  }

  /** Queues the same event again for the same subscription, behind what is already queued. */
  async redeliver(subscriptionId: number, deliveryId: number): Promise<DeliveryRow> {
    const original = await this.db
      .selectFrom('deliveries')
      .selectAll()
      .where('id', '=', deliveryId)
      .where('subscription_id', '=', subscriptionId)
      .executeTakeFirst();
    if (!original) throw notFound(`subscription ${subscriptionId} has no delivery ${deliveryId}`);
    return this.store.write(async (ctx) => {
      const row = await ctx.trx
        .insertInto('deliveries')
        .values({
          subscription_id: subscriptionId,
          event_id: original.event_id,
          state: 'pending',
          next_attempt_at: ctx.now,
          first_attempt_at: null,
          created_at: ctx.now,
          finished_at: null,
          redelivery_of: original.id,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      await ctx.emit('subscription.changed', { subscription: subscriptionId, change: 'redelivery' });
      return row;
    });
  }

  /** The delivery log, newest first. */
  async deliveries(subscriptionId: number, options: { limit: number; before?: number }): Promise<Delivery[]> {
    let query = this.db
      .selectFrom('deliveries')
      .innerJoin('events', 'events.id', 'deliveries.event_id')
      .selectAll('deliveries')
      .select('events.type as event_type')
      .where('deliveries.subscription_id', '=', subscriptionId)
      .orderBy('deliveries.id', 'desc')
      .limit(options.limit);
    if (options.before) query = query.where('deliveries.id', '<', options.before);
    const rows = await query.execute();
    return this.withAttempts(rows);
  }

  async delivery(subscriptionId: number, deliveryId: number): Promise<Delivery> {
    const rows = await this.db
      .selectFrom('deliveries')
      .innerJoin('events', 'events.id', 'deliveries.event_id')
      .selectAll('deliveries')
      .select('events.type as event_type')
      .where('deliveries.id', '=', deliveryId)
      .where('deliveries.subscription_id', '=', subscriptionId)
      .execute();
    const [delivery] = await this.withAttempts(rows);
    if (!delivery) throw notFound(`subscription ${subscriptionId} has no delivery ${deliveryId}`);
    return delivery;
  }

  private async withAttempts(rows: Array<DeliveryRow & { event_type: string }>): Promise<Delivery[]> {
    if (rows.length === 0) return [];
    const attempts = await this.db
      .selectFrom('delivery_attempts')
      .selectAll()
      .where(
        'delivery_id',
        'in',
        rows.map((row) => row.id),
      )
      .orderBy('number')
      .execute();
    return rows.map((row) => ({
      id: row.id,
      subscriptionId: row.subscription_id,
      eventId: row.event_id,
      eventType: row.event_type,
      state: row.state,
      attempts: attempts
        .filter((a) => a.delivery_id === row.id)
        .map((a) => ({
          number: a.number,
          at: iso(a.attempted_at),
          status: a.status,
          // Recorded before errors were redacted, an error may still name the URL in full.
          error: a.error === null ? null : redactUrls(a.error),
          durationMs: a.duration_ms,
        })),
      nextAttemptAt: row.next_attempt_at === null ? null : iso(row.next_attempt_at),
      createdAt: iso(row.created_at),
      finishedAt: row.finished_at === null ? null : iso(row.finished_at),
      redeliveryOf: row.redelivery_of,
    }));
  }
}

/** Where a subscription made now starts: after the last event committed so far. */
async function lastCommittedEventId(db: Kysely<Database>): Promise<number> {
  const row = await db
    .selectFrom('events')
    .select((eb) => eb.fn.max<number | null>('id').as('id'))
    .executeTakeFirst();
  return Number(row?.id ?? 0);
}
