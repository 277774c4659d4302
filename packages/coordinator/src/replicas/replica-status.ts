/**
 * Which replicas are alive, and what a starting replica may touch: pure, from the replicas table
 * and the store's time.
 */
import type { ReplicaList } from '@switchyard/protocol';
import type { ReplicaRecord, SingletonRecord } from '../store/port.ts';

export type ReplicaState = 'alive' | 'stopped' | 'dead';

/** Stopped cleanly; alive while seen within `aliveWindowMs`; else dead (killed, paused or cut off). */
export function replicaState(replica: ReplicaRecord, now: number, aliveWindowMs: number): ReplicaState {
  if (replica.stoppedAt !== null) return 'stopped';
  return now - replica.lastSeen <= aliveWindowMs ? 'alive' : 'dead';
}

/**
 * Whether a starting replica gives running attempts a full lease: only when no other replica is
 * alive, so the whole farm was down and workers could not heartbeat. With another replica up,
 * workers kept heartbeating through it, and a lease that ran out belongs to a worker that is gone:
 * renewing it would hide that for a lease longer (Buildbot's masters stepped on each other's
 * builds in their restart clean-up).
 */
export function renewLeasesAtStart(
  replicas: readonly ReplicaRecord[],
  me: string,
  now: number,
  aliveWindowMs: number,
): boolean {
  return !replicas.some((replica) => replica.id !== me && replicaState(replica, now, aliveWindowMs) === 'alive');
}

/** The replicas endpoint's answer: each replica's state and the singletons whose lease it holds now. */
export function replicaListView(
  list: { now: number; replicas: readonly ReplicaRecord[]; singletons: readonly SingletonRecord[] },
  self: string,
  aliveWindowMs: number,
): ReplicaList {
  const iso = (ms: number) => new Date(ms).toISOString();
  const held = list.singletons.filter((singleton) => singleton.expiresAt >= list.now);
  return {
    now: iso(list.now),
    aliveWindowMs,
    replicas: list.replicas.map((replica) => ({
      id: replica.id,
      hostname: replica.hostname,
      pid: replica.pid,
      url: replica.url,
      version: replica.version,
      state: replicaState(replica, list.now, aliveWindowMs),
      self: replica.id === self,
      startedAt: iso(replica.startedAt),
      lastSeen: iso(replica.lastSeen),
      stoppedAt: replica.stoppedAt === null ? null : iso(replica.stoppedAt),
      singletons: held.filter((singleton) => singleton.holder === replica.id).map((singleton) => singleton.name),
    })),
    singletons: list.singletons.map((singleton) => ({
      name: singleton.name,
      holder: singleton.holder,
      term: singleton.term,
      expiresAt: iso(singleton.expiresAt),
      acquiredAt: iso(singleton.acquiredAt),
      held: singleton.expiresAt >= list.now,
    })),
  };
}

/**
 * Why this replica should not be sent requests, if it should not: its store unreachable (the
 * error's message), or its change feed stopped or not reading (claims, streams and log followers
 * wait on it) for three polls.
 */
export function readinessProblems(check: {
  storeError: string | null;
  feed: { running: boolean; lastReadAt: number | null };
  feedPollMs: number;
  now: number;
}): string[] {
  const problems: string[] = [];
  if (check.storeError !== null) problems.push(`the store is unreachable: ${check.storeError}`);
  if (!check.feed.running) problems.push('the change feed is not running');
  else if (check.feed.lastReadAt === null || check.now - check.feed.lastReadAt > 3 * check.feedPollMs) {
    problems.push(`the change feed has not read the event log for ${3 * check.feedPollMs} ms`);
  }
  return problems;
}
