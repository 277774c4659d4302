import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { Logger } from 'pino';
import { parseCommitNotification } from './commit-notification.ts';
import type { CommitListener, CommitSignal, EventRecord, LogSignal } from './port.ts';

/** How many of this process's latest committed event ids it remembers (far more than a feed read lags). */
const REMEMBERED_EVENT_IDS = 10_000;

/** What one write transaction committed, as the store tells the commit signal after the commit. */
export interface CommittedWrite {
  /** Its event rows, in id order. */
  events: readonly EventRecord[];
  /** The attempts whose log chunks it stored. */
  grownLogs: readonly number[];
  /**
   * What the transaction announced to the other coordinators itself (on PostgreSQL, a NOTIFY sent
   * by its event insert, which the commit delivers): whether its events, and which grown logs.
   */
  announced: { events: boolean; logs: ReadonlySet<number> };
}

/** What the store tells its commit signal of each write transaction. */
export interface CommitRecorder {
  /**
   * The write is about to commit: the function returned is called once the commit has been told
   * (`committed`), or has failed.
   */
  committing(): () => void;
  /** After each commit that appended events or stored log chunks. */
  committed(write: CommittedWrite): void;
}

/**
 * The notifications a transaction's event insert sends on PostgreSQL (dialect.ts): the events
 * channel with the sender and, appended by the insert, its last event id; and the logs that grew.
 */
export interface InsertNotice {
  channel: string;
  sender: string;
  logs: Notification | null;
  /** The attempts `logs` names. */
  logIds: readonly number[];
}

/** The last of a commit's event rows, which come in id order (null for none). */
function lastIdOf(events: readonly EventRecord[]): number | null {
  return events.at(-1)?.id ?? null;
}

/** Tells listeners in this process that a transaction with events committed, or that a log grew. */
export class LocalCommits implements CommitSignal, CommitRecorder, LogSignal {
  private readonly listeners = new Set<CommitListener>();
  private readonly logListeners = new Set<(attemptId: number) => void>();
  /** Ids of events committed by this process, oldest first. */
  private readonly committedIds = new Set<number>();
  /** This process's commits sent and not yet told: each settles when it is. */
  private readonly inFlight = new Set<Promise<void>>();

  committing(): () => void {
    let release = () => {};
    const told = new Promise<void>((resolve) => {
      release = resolve;
    });
    this.inFlight.add(told);
    return () => {
      this.inFlight.delete(told);
      release();
    };
  }

  async settled(): Promise<void> {
    if (this.inFlight.size > 0) await Promise.all(this.inFlight);
  }

  onCommit(listener: CommitListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Called by the store after each commit that appended events or stored log chunks. */
  committed({ events, grownLogs }: CommittedWrite): void {
    for (const attemptId of grownLogs) this.logAppended(attemptId);
    if (events.length === 0) return;
    for (const { id } of events) this.committedIds.add(id);
    for (const id of this.committedIds) {
      if (this.committedIds.size <= REMEMBERED_EVENT_IDS) break;
      this.committedIds.delete(id);
    }
    for (const listener of this.listeners) listener(lastIdOf(events), events);
  }

  /**
   * Events up to `lastEventId` (or, when null, an unknown range) committed, here or in another
   * process; `events`: the commit's rows, when its notification carried them.
   */
  announce(lastEventId: number | null, events?: readonly EventRecord[]): void {
    for (const listener of this.listeners) listener(lastEventId, events);
  }

  committedHere(eventId: number): boolean {
    return this.committedIds.has(eventId);
  }

  onLogAppended(listener: (attemptId: number) => void): () => void {
    this.logListeners.add(listener);
    return () => this.logListeners.delete(listener);
  }

  /** Log chunks of the attempt were stored, here or in another process. */
  logAppended(attemptId: number): void {
    for (const listener of this.logListeners) listener(attemptId);
  }
}

/** Attempt ids per log notification: a payload stays far below PostgreSQL's 8,000 bytes. */
const ATTEMPTS_PER_NOTIFY = 400;

const RECONNECT_MS = 1000;

/** One NOTIFY: a channel and its payload. */
export interface Notification {
  channel: string;
  payload: string;
}

/**
 * Commits on PostgreSQL, seen from every coordinator of the farm: a commit here is announced in
 * this process at once and to the others with NOTIFY. A transaction with events sends it from
 * its event insert (`insertNotice`), so the commit delivers it: no statement of its own. A NOTIFY
 * inside a transaction makes commits that notify take turns (the distributed reference, section
 * 4), but those commits take turns already, under the lock that hands event ids out in commit
 * order (dialect.ts). A commit without events (log chunks alone) notifies after the commit, in a
 * statement that commits made meanwhile share. One dedicated connection LISTENs and reconnects
 * when it drops; notifications missed meanwhile are covered by the change feed's poll, and by a
 * wake-up right after reconnecting.
 *
 * Log chunks stored are announced on a second channel, with the attempts' ids, so that a log
 * followed through one coordinator wakes when another stores its next batch: the change feed
 * would not see a commit of chunks alone.
 */
export class PostgresCommits implements CommitSignal, CommitRecorder, LogSignal {
  private readonly local = new LocalCommits();
  private listener: pg.Client | null = null;
  private closed = false;
  private retry: NodeJS.Timeout | null = null;
  /** Whether a send is scheduled or in flight; what comes meanwhile goes with the next one. */
  private sending = false;
  /** Whether events committed since the last notification was sent. */
  private eventsCommitted = false;
  /**
   * The highest event id committed here since the last NOTIFY: sent with it, so that a coordinator
   * whose change feed has already read that far skips the read (an older one reads anyway).
   */
  private lastCommittedId: number | null = null;
  /** Attempts whose logs grew since the last log notification was sent. */
  private readonly grownLogs = new Set<number>();
  /** Sent with each NOTIFY, so this coordinator's own notifications, already acted on, are ignored. */
  private readonly sender = randomUUID();
  readonly channel: string;
  readonly logChannel: string;

  constructor(
    private readonly connectionString: string,
    /** The farm's schema, when not the default: channels are per database, so tests sharing one don't cross. */
    schema: string | null,
    /** Sends the notifications in one statement. */
    private readonly notify: (notifications: readonly Notification[]) => Promise<void>,
    private readonly logger: Logger,
  ) {
    this.channel = schema ? `switchyard_events_${schema}` : 'switchyard_events';
    this.logChannel = schema ? `switchyard_logs_${schema}` : 'switchyard_logs';
  }

  onLogAppended(listener: (attemptId: number) => void): () => void {
    return this.local.onLogAppended(listener);
  }

  /** What a transaction's event insert sends, naming the logs it grew (see the class comment). */
  insertNotice(grownLogs: readonly number[]): InsertNotice {
    const logIds = grownLogs.slice(0, ATTEMPTS_PER_NOTIFY);
    const logs = logIds.length > 0 ? this.logNotification(logIds) : null;
    return { channel: this.channel, sender: this.sender, logs, logIds };
  }

  private logNotification(attemptIds: readonly number[]): Notification {
    return { channel: this.logChannel, payload: `${this.sender} ${attemptIds.join(',')}` };
  }

  onCommit(listener: CommitListener): () => void {
    return this.local.onCommit(listener);
  }

  committedHere(eventId: number): boolean {
    return this.local.committedHere(eventId);
  }

  committing(): () => void {
    return this.local.committing();
  }

  settled(): Promise<void> {
    return this.local.settled();
  }

  /**
   * Tells this process at once, and the others what the transaction did not announce itself:
   * one NOTIFY statement at a time, commits made while one is in flight sharing the next (a
   * woken coordinator reads every event after its cursor anyway).
   */
  committed(write: CommittedWrite): void {
    this.local.committed(write);
    const last = lastIdOf(write.events);
    if (last !== null && !write.announced.events) {
      this.lastCommittedId = Math.max(this.lastCommittedId ?? 0, last);
      this.eventsCommitted = true;
    }
    for (const attemptId of write.grownLogs) {
      if (!write.announced.logs.has(attemptId)) this.grownLogs.add(attemptId);
    }
    if (this.eventsCommitted || this.grownLogs.size > 0) this.send();
  }

  /**
   * Sends what is pending once the current turn of the event loop is over, so that a report's
   * commit (events) and the log chunks it stored, told one after the other, share a statement.
   */
  private send(): void {
    if (this.sending) return;
    this.sending = true;
    setImmediate(() => void this.sendPending());
  }

  private async sendPending(): Promise<void> {
    try {
      while (!this.closed && (this.eventsCommitted || this.grownLogs.size > 0)) {
        const notifications: Notification[] = [];
        if (this.eventsCommitted) {
          this.eventsCommitted = false;
          const payload = this.lastCommittedId === null ? this.sender : `${this.sender} ${this.lastCommittedId}`;
          this.lastCommittedId = null;
          notifications.push({ channel: this.channel, payload });
        }
        if (this.grownLogs.size > 0) {
          const ids = [...this.grownLogs].slice(0, ATTEMPTS_PER_NOTIFY);
          for (const id of ids) this.grownLogs.delete(id);
          notifications.push(this.logNotification(ids));
        }
        await this.notify(notifications);
      }
    } catch (error) {
      this.eventsCommitted = false;
      this.grownLogs.clear();
      this.logger.warn(
        { err: error },
        'NOTIFY after a commit failed; other coordinators see its events and log chunks at their next poll',
      );
    } finally {
      this.sending = false;
    }
  }

  async listen(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.connectionString,
      application_name: `switchyard-listen ${process.pid}`,
    });
    client.on('notification', (message) => {
      if (message.channel === this.logChannel) this.receivedLogNotification(message.payload ?? '');
      else this.receivedCommitNotification(message.payload ?? '');
    });
    client.on('error', (error) => {
      this.logger.warn({ err: error }, 'the LISTEN connection to PostgreSQL failed; reconnecting');
      this.reconnect(client);
    });
    client.on('end', () => this.reconnect(client));
    await client.connect();
    await client.query(`LISTEN ${pg.escapeIdentifier(this.channel)}`);
    await client.query(`LISTEN ${pg.escapeIdentifier(this.logChannel)}`);
    this.listener = client;
    // Whatever committed while no one listened is read now.
    this.local.announce(null);
  }

  private receivedCommitNotification(payload: string): void {
    // This coordinator's own notification, acted on at its commit: not worth parsing its rows.
    if (payload === this.sender || payload.startsWith(`${this.sender} `)) return;
    const { lastEventId, events } = parseCommitNotification(payload);
    this.local.announce(lastEventId, events ?? undefined);
  }

  private receivedLogNotification(payload: string): void {
    const [sender, ids = ''] = payload.split(' ');
    if (sender === this.sender) return;
    for (const id of ids.split(',')) {
      if (/^\d+$/.test(id)) this.local.logAppended(Number(id));
    }
  }

  private reconnect(client: pg.Client): void {
    if (this.closed || this.listener !== client || this.retry) return;
    this.listener = null;
    client.removeAllListeners('end');
    this.retry = setTimeout(() => {
      this.retry = null;
      this.listen().catch((error: unknown) => {
        this.logger.warn({ err: error }, 'reconnecting to PostgreSQL to LISTEN failed; retrying');
        this.retry = setTimeout(() => this.reconnectAfterFailure(), RECONNECT_MS);
      });
    }, RECONNECT_MS);
  }

  private reconnectAfterFailure(): void {
    this.retry = null;
    if (this.closed) return;
    this.listen().catch(() => {
      this.retry = setTimeout(() => this.reconnectAfterFailure(), RECONNECT_MS);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    const client = this.listener;
    this.listener = null;
    await client?.end().catch(() => undefined);
  }
}
