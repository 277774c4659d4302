import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { NewReplica, ReplicaStore } from '../store/port.ts';

/** Replicas last seen longer ago than this are dropped from the table (and the replicas endpoint). */
const FORGET_AFTER_MS = 24 * 60 * 60 * 1000;

export interface ReplicaTiming {
  /** How often this replica says it is alive. */
  heartbeatMs: number;
  /** Seen within this, a replica counts as alive: a few heartbeats, so one slow write is no death. */
  aliveWindowMs: number;
}

export const DEFAULT_REPLICA_TIMING: ReplicaTiming = { heartbeatMs: 5000, aliveWindowMs: 15_000 };

/**
 * This coordinator process's row in the replicas table: registered at start under an id of its
 * own (random, so a restarted process is a new replica), heartbeated while it runs, marked
 * stopped when it closes. A replica that dies just stops being seen.
 */
export class ReplicaRegistry {
  private self: NewReplica;
  private timer: NodeJS.Timeout | null = null;
  private beating: Promise<void> | null = null;

  constructor(
    private readonly store: ReplicaStore,
    info: { url: string | null; version: string },
    readonly timing: ReplicaTiming,
    private readonly logger: Logger,
  ) {
    this.self = {
      id: `${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`,
      hostname: hostname(),
      pid: process.pid,
      url: info.url,
      version: info.version,
    };
  }

  get id(): string {
    return this.self.id;
  }

  /** Where it serves, once it listens: the next heartbeat records it. */
  setUrl(url: string): void {
    this.self = { ...this.self, url };
  }

  async start(): Promise<void> {
    await this.store.heartbeat(this.self);
    const { now } = await this.store.list();
    await this.store.forgetBefore(now - FORGET_AFTER_MS);
    this.timer = setInterval(() => {
      this.beating ??= this.store
        .heartbeat(this.self)
        .catch((error: unknown) => this.logger.warn({ err: error }, 'replica heartbeat failed; will retry'))
        .finally(() => {
          this.beating = null;
        });
    }, this.timing.heartbeatMs);
  }

  /** Stops heartbeating; `stopped: false` leaves the row to go dead, as a killed process's would. */
  async close(options: { stopped?: boolean } = {}): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.beating;
    if (options.stopped !== false) {
      await this.store.stopped(this.id).catch((error: unknown) => {
        this.logger.warn({ err: error }, 'could not mark this replica stopped');
      });
    }
  }
}
