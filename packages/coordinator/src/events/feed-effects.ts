import type { EventDataMap } from '@switchyard/protocol';
import type { ClaimBroker } from '../claims/claim-broker.ts';
import type { LogService } from '../logs/log-service.ts';
import type { Metrics } from '../metrics.ts';
import type { Activity } from './activity.ts';
import type { FeedSubscriber } from './change-feed.ts';
import type { LoggedEvent } from './logged-event.ts';
import type { WebhookDispatcher } from './webhook-dispatcher.ts';

export interface FeedEffectTargets {
  broker: Pick<ClaimBroker, 'offer'>;
  activity: Activity;
  logs: Pick<LogService, 'attemptComplete' | 'attemptCompleteLater' | 'stepCompleteOf'>;
  webhooks: Pick<WebhookDispatcher, 'refresh' | 'kick'>;
  metrics: Pick<Metrics, 'events'>;
  /** Whether this process committed the event: a finished log is compacted where its end was committed. */
  committedHere(eventId: number): boolean;
  /** How long a cancelled attempt's worker may still send its killed step's last output. */
  leaseMs(): number;
  onError(error: unknown, what: string): void;
}

/**
 * What committed events set in motion in this process: pending jobs offered to the workers
 * waiting here, followers and held heartbeats woken, finished logs compressed, webhook loops
 * told of subscription changes. Every process runs the same effects from the same feed, so a
 * change made through one coordinator acts in all of them; only compaction starts in the one
 * process that committed the log's end (the others would only lose the race for its claim), and
 * every process's sweep takes over a log whose compactor died first.
 */
export function feedEffects(targets: FeedEffectTargets): FeedSubscriber {
  return (batch) => {
    const poolsWithWork = new Set<string>();
    const endedHere = attemptsEndedIn(batch);
    for (const logged of batch) {
      targets.metrics.events.inc({ type: logged.type });
      if (logged.attributes.job !== null) targets.activity.jobChanged(logged.attributes.job);
      applyEffect(logged, targets, poolsWithWork, endedHere);
    }
    if (poolsWithWork.size > 0) targets.broker.offer(poolsWithWork);
  };
}

/**
 * The attempts (job id/number) that this batch says ended, not cancelled: compacting all their
 * logs at once covers the steps the same batch finished, which then need no look-up and no
 * compaction claim of their own (a worker's batched report ends its last step and its attempt in
 * one transaction).
 */
function attemptsEndedIn(batch: readonly LoggedEvent[]): Set<string> {
  const ended = new Set<string>();
  for (const logged of batch) {
    if (logged.type !== 'attempt.finished') continue;
    const { job, attempt } = logged.event.data as EventDataMap['attempt.finished'];
    if (attempt.state !== 'cancelled') ended.add(`${job.id}/${attempt.number}`);
  }
  return ended;
}

function applyEffect(
  logged: LoggedEvent,
  targets: FeedEffectTargets,
  poolsWithWork: Set<string>,
  endedHere: ReadonlySet<string>,
): void {
  switch (logged.type) {
    case 'job.pending': {
      const { job } = logged.event.data as EventDataMap['job.pending'];
      poolsWithWork.add(job.pool);
      return;
    }
    case 'step.finished': {
      const { job, attempt, step } = logged.event.data as EventDataMap['step.finished'];
      if (!endedHere.has(`${job.id}/${attempt}`) && targets.committedHere(logged.event.id)) {
        targets.logs.stepCompleteOf(job.id, attempt, step.index);
      }
      return;
    }
    case 'attempt.finished': {
      const { attempt } = logged.event.data as EventDataMap['attempt.finished'];
      targets.activity.attemptChanged(attempt.id);
      if (attempt.state === 'cancelled') targets.activity.attemptCancelled(attempt.id);
      if (!targets.committedHere(logged.event.id)) return;
      if (attempt.state === 'cancelled') targets.logs.attemptCompleteLater(attempt.id, targets.leaseMs());
      else targets.logs.attemptComplete(attempt.id);
      return;
    }
    case 'subscription.changed': {
      const { subscription, change } = logged.event.data as EventDataMap['subscription.changed'];
      if (change === 'redelivery') targets.webhooks.kick(subscription);
      else targets.webhooks.refresh().catch((error: unknown) => targets.onError(error, 'refreshing webhook loops'));
      return;
    }
  }
}
