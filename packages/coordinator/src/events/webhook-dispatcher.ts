import {
  type EventFilterConfig,
  hasCredentials,
  redactUrls,
  SIGNATURE_HEADER,
  signDelivery,
} from '@switchyard/protocol';
import type { Logger } from 'pino';
import type { Counter } from 'prom-client';
import { type EventsConfig, toEventFilter } from '../config/events-config.ts';
import { StoreError } from '../store/errors.ts';
import type { DeliveryRecord, SingletonFence, SubscriptionRecord, SubscriptionStore } from '../store/port.ts';
import type { EventLog } from './event-log.ts';
import { type EventSelection, selectEvents } from './logged-event.ts';
import { nextAttemptAt } from './retry-schedule.ts';

const POST_TIMEOUT_MS = 10_000;
const PAGE = 200;

interface Loop {
  abort: AbortController;
  done: Promise<void>;
  /** Ends a wait early: new work (a redelivery) or a stop. */
  wake(): void;
}

/**
 * Delivers events to webhook subscriptions: one loop per subscription, strictly in order — the
 * next event is sent only once the one before it was delivered or given up — and at least
 * once, since each delivery's state is in the database before and after every POST.
 *
 * The loops run on one replica at a time: the one holding the `webhooks` singleton (`lead`),
 * whose queue and cursor writes are fenced by it. One singleton for all subscriptions rather
 * than one each: the deliveries are few and light, one lease row costs one renewal however many
 * subscriptions there are, and a subscription made on any replica is picked up by the holder
 * through `subscription.changed` with nothing to hand over.
 */
export class WebhookDispatcher {
  private readonly loops = new Map<number, Loop>();
  /** After close(), a crashed loop's delayed restart must not bring loops back. */
  private closed = false;
  private restartTimer: NodeJS.Timeout | null = null;
  /** The singleton lease the loops run under; null while another replica delivers. */
  private fence: SingletonFence | null = null;

  constructor(
    private readonly store: SubscriptionStore,
    private readonly log: EventLog,
    private readonly config: () => EventsConfig,
    private readonly deliveries: Counter<'result'>,
    private readonly userAgent: string,
    private readonly logger: Logger,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Brings the config's webhooks into the database and starts a loop per subscription. */
  async start(): Promise<void> {
    await this.store.syncConfigured(this.config().webhooks);
    await this.refresh();
  }

  /** Starts loops for new subscriptions and stops those of deleted ones (told by `subscription.changed`). */
  async refresh(): Promise<void> {
    if (this.closed) return;
    const fence = this.fence;
    const ids = fence ? new Set((await this.store.all()).map((row) => row.id)) : new Set<number>();
    for (const [id, loop] of this.loops) {
      if (!ids.has(id)) {
        loop.abort.abort();
        loop.wake();
        this.loops.delete(id);
      }
    }
    for (const id of ids) if (fence && !this.loops.has(id)) this.spawn(id, fence);
  }

  /** This replica holds the `webhooks` singleton under `fence`: deliver. */
  async lead(fence: SingletonFence): Promise<void> {
    this.fence = fence;
    await this.refresh();
  }

  /** Another replica delivers now (or will): stop every loop. */
  async standDown(): Promise<void> {
    this.fence = null;
    await this.stopLoops();
  }

  /** A delivery was queued out of the usual order (a redelivery, told by `subscription.changed`): look again now. */
  kick(subscriptionId: number): void {
    this.loops.get(subscriptionId)?.wake();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    await this.stopLoops();
  }

  private async stopLoops(): Promise<void> {
    const loops = [...this.loops.values()];
    this.loops.clear();
    for (const loop of loops) {
      loop.abort.abort();
      loop.wake();
    }
    await Promise.all(loops.map((loop) => loop.done));
  }

  private spawn(id: number, fence: SingletonFence): void {
    const abort = new AbortController();
    const loop: Loop = { abort, done: Promise.resolve(), wake: () => {} };
    loop.done = this.run(id, loop, fence).catch((error: unknown) => {
      if (error instanceof StoreError && error.kind === 'singleton-lost') {
        // Another replica delivers now; the lease's runner stands this one down.
        this.logger.warn(
          { err: error, subscription: id },
          'webhook delivery loop stopped: its singleton lease is gone',
        );
        if (this.loops.get(id) === loop) this.loops.delete(id);
        return;
      }
      this.logger.error({ err: error, subscription: id }, 'webhook delivery loop failed; restarting it');
      if (!abort.signal.aborted && this.loops.get(id) === loop) {
        this.loops.delete(id);
        this.restartTimer = setTimeout(() => {
          this.refresh().catch((refreshError: unknown) => {
            this.logger.error({ err: refreshError }, 'restarting webhook delivery loops failed');
          });
        }, 1000);
      }
    });
    this.loops.set(id, loop);
  }

  private async run(id: number, loop: Loop, fence: SingletonFence): Promise<void> {
    const signal = loop.abort.signal;
    let filterJson: string | null = null;
    let selection: EventSelection = selectEvents({});
    while (!signal.aborted) {
      const subscription = await this.store.find(id);
      if (!subscription) return;
      const due = await this.store.nextPending(id);
      if (due) {
        const waitMs = (due.next_attempt_at ?? 0) - this.clock();
        if (waitMs > 0) await this.pause(loop, waitMs);
        else await this.attempt(subscription, due, signal, fence);
        continue;
      }
      if (filterJson !== subscription.filter) {
        filterJson = subscription.filter;
        selection = selectEvents(toEventFilter(JSON.parse(filterJson) as EventFilterConfig));
      }
      const published = this.log.nextPublish();
      const page = await this.log.read(subscription.cursor, PAGE, selection);
      if (page.cursor > subscription.cursor) {
        await this.store.enqueue(
          id,
          page.events.map((logged) => logged.event.id),
          page.cursor,
          fence,
        );
        continue;
      }
      await this.pause(loop, Number.POSITIVE_INFINITY, published);
    }
  }

  /** Waits `ms`, or until `published` settles, a kick, or a stop. */
  private pause(loop: Loop, ms: number, published?: Promise<void>): Promise<void> {
    return new Promise((resolve) => {
      const timer = Number.isFinite(ms) ? setTimeout(resolve, ms) : undefined;
      loop.wake = () => {
        clearTimeout(timer);
        resolve();
      };
      if (loop.abort.signal.aborted) resolve();
      void published?.then(loop.wake);
    });
  }

  private async attempt(
    subscription: SubscriptionRecord,
    delivery: DeliveryRecord,
    signal: AbortSignal,
    fence: SingletonFence,
  ): Promise<void> {
    const logged = await this.log.get(delivery.event_id);
    if (!logged) {
      await this.store.recordAttempt(
        delivery,
        { at: this.clock(), status: null, error: `event ${delivery.event_id} is not in the log`, durationMs: 0 },
        { state: 'failed' },
        fence,
      );
      return;
    }
    const at = this.clock();
    if (hasCredentials(subscription.url)) {
      // Made before such URLs were refused: fetch never sends one, so retrying would only hold
      // the events behind it for the whole retry period.
      await this.store.recordAttempt(
        delivery,
        {
          at,
          status: null,
          error: 'the URL carries user:password@, which is never sent; subscribe again without it',
          durationMs: 0,
        },
        { state: 'failed' },
        fence,
      );
      this.deliveries.inc({ result: 'failed' });
      return;
    }
    const body = logged.json;
    let status: number | null = null;
    let error: string | null = null;
    try {
      const response = await fetch(subscription.url, {
        method: 'POST',
        body,
        redirect: 'manual',
        headers: {
          'content-type': 'application/json',
          'user-agent': this.userAgent,
          [SIGNATURE_HEADER]: signDelivery(subscription.secret, body, Math.floor(at / 1000)),
          'switchyard-event': logged.type,
          'switchyard-event-id': String(logged.event.id),
          'switchyard-delivery': String(delivery.id),
        },
        signal: AbortSignal.any([signal, AbortSignal.timeout(POST_TIMEOUT_MS)]),
      });
      status = response.status;
      await response.body?.cancel();
      if (status < 200 || status >= 300) error = `HTTP ${status}`;
    } catch (failure) {
      // Stopping mid-POST: leave the delivery pending, to be made (again) after the restart.
      if (signal.aborted) return;
      error = describeFailure(failure);
    }
    const now = this.clock();
    const attempt = { at, status, error, durationMs: now - at };
    if (error === null) {
      await this.store.recordAttempt(delivery, attempt, { state: 'delivered' }, fence);
      this.deliveries.inc({ result: 'delivered' });
      return;
    }
    const attempts = (await this.store.attemptCount(delivery.id)) + 1;
    const retryAt = nextAttemptAt(this.config().retry, delivery.first_attempt_at ?? at, attempts, now);
    if (retryAt === null) {
      await this.store.recordAttempt(delivery, attempt, { state: 'failed' }, fence);
      this.deliveries.inc({ result: 'failed' });
      this.logger.warn(
        { subscription: subscription.id, delivery: delivery.id, event: delivery.event_id, error },
        'webhook delivery failed for good after the retry period; redeliver it from the delivery log',
      );
      return;
    }
    await this.store.recordAttempt(delivery, attempt, { state: 'pending', retryAt }, fence);
    this.deliveries.inc({ result: 'retry' });
  }
}

/** Why a POST failed, for the delivery log and the coordinator's: a URL in it is redacted. */
function describeFailure(failure: unknown): string {
  const error = failure as Error & { cause?: { code?: string; message?: string } };
  if (error.name === 'TimeoutError') return `no answer within ${POST_TIMEOUT_MS / 1000} s`;
  return redactUrls(error.cause?.code ?? error.cause?.message ?? error.message);
}
