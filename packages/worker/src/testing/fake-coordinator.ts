import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type Assignment,
  FrameDecoder,
  type JobSpec,
  type LogStream,
  type ReportEntry,
  SWITCHYARD_VERSION,
  WORKER_PROTOCOL_HEADER,
} from '@switchyard/protocol';

/** What the worker told the coordinator, in the order it arrived. */
export type Report =
  | { type: 'started'; attemptId: number; step: number; name: string }
  | { type: 'log'; attemptId: number; step: number; seq: number; chunks: { stream: LogStream; text: string }[] }
  | {
      type: 'finished';
      attemptId: number;
      step: number;
      exitCode: number | null;
      signal: string | null;
      timedOut: boolean;
      cancelled: boolean;
    }
  | { type: 'attempt'; attemptId: number; result: string; reason?: string; message?: string };

interface Waiter {
  until: () => boolean;
  wake: () => void;
}

/**
 * Just enough of the coordinator's worker protocol to drive a real worker: claims and heartbeats
 * are held like the real ones, log batches are checked for sequence gaps and repeats, and the
 * test can take the coordinator down, cancel a job, or take a lease away.
 */
export class FakeCoordinator {
  readonly reports: Report[] = [];
  readonly claims: { worker: string; body: Record<string, unknown>; protocol: string | undefined }[] = [];
  heartbeats = 0;
  /** Requests that carried several reports (`POST /attempts/:id/report`). */
  batches = 0;
  /** Claims that carried the last reports of an attempt. */
  claimsWithReport = 0;
  /** Every request is answered 503 while true. */
  down = false;
  /** Requests answered 503 because the coordinator was down. */
  refused = 0;
  /** Heartbeats alone are answered 503 while true. */
  heartbeatsFailing = false;
  /** Heartbeats alone get no answer at all while true, as across a partition that drops them. */
  heartbeatsLost = false;
  /** Claims are answered 401 while true. */
  refuseClaims = false;
  /** Claims are answered with this error while set, as a coordinator of another version answers them. */
  claimRefusal: { status: number; code: string; message: string } | undefined;
  /** The version GET /api/v1 reports. */
  version = SWITCHYARD_VERSION;
  private readonly pending: Assignment[] = [];
  private readonly cancelled = new Set<number>();
  private readonly leaseLost = new Set<number>();
  private readonly nextSeq = new Map<string, number>();
  private waiters: Waiter[] = [];
  private nextAttemptId = 1;
  private server!: Server;

  url = '';

  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      void this.handle(request, response);
    });
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    for (const waiter of this.waiters) waiter.wake();
    this.server.closeAllConnections();
    this.server.close();
    await once(this.server, 'close');
  }

  /** Queues a job for the next claim; returns its attempt id. */
  assign(job: JobSpec, lease: { leaseSeconds?: number; heartbeatSeconds?: number } = {}): number {
    const attemptId = this.nextAttemptId++;
    this.pending.push({
      attemptId,
      attemptNumber: 1,
      leaseSeconds: lease.leaseSeconds ?? 30,
      heartbeatSeconds: lease.heartbeatSeconds ?? 1,
      job,
      attemptToken: attemptCredential(attemptId),
    });
    this.notify();
    return attemptId;
  }

  cancel(attemptId: number): void {
    this.cancelled.add(attemptId);
    this.notify();
  }

  takeLease(attemptId: number): void {
    this.leaseLost.add(attemptId);
    this.notify();
  }

  /** Resolves once `predicate` holds for the reports received so far. */
  waitFor(predicate: (reports: Report[]) => boolean): Promise<void> {
    return this.when(() => predicate(this.reports));
  }

  /** Resolves once `count` requests in all were refused while the coordinator was down. */
  waitForRefusals(count: number): Promise<void> {
    return this.when(() => this.refused >= count);
  }

  /** Resolves once the coordinator has received `count` claims in all. */
  waitForClaims(count: number): Promise<void> {
    return this.when(() => this.claims.length >= count);
  }

  /** The attempt's final report, once it arrives. */
  async result(attemptId: number): Promise<Extract<Report, { type: 'attempt' }>> {
    await this.waitFor((reports) => reports.some((r) => r.type === 'attempt' && r.attemptId === attemptId));
    return this.reports.find((r) => r.type === 'attempt' && r.attemptId === attemptId) as Extract<
      Report,
      { type: 'attempt' }
    >;
  }

  /** All output of one step of an attempt, per stream. */
  log(attemptId: number, step: number): Record<LogStream, string> {
    const text: Record<LogStream, string> = { header: '', stdout: '', stderr: '' };
    for (const report of this.reports) {
      if (report.type !== 'log' || report.attemptId !== attemptId || report.step !== step) continue;
      for (const chunk of report.chunks) text[chunk.stream] += chunk.text;
    }
    return text;
  }

  forAttempt(attemptId: number): Report[] {
    return this.reports.filter((report) => report.attemptId === attemptId);
  }

  private when(until: () => boolean, timeoutMs?: number): Promise<void> {
    if (until()) return Promise.resolve();
    return new Promise((resolve) => {
      const waiter = { until, wake: () => finish() };
      const timer = timeoutMs === undefined ? undefined : setTimeout(() => finish(), timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== waiter);
        resolve();
      };
      this.waiters.push(waiter);
    });
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) if (waiter.until()) waiter.wake();
  }

  private record(report: Report): void {
    this.reports.push(report);
    this.notify();
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const url = new URL(request.url ?? '/', 'http://fake');
    const reply = (status: number, payload: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(payload));
    };
    const fail = (status: number, code: string, message: string) => reply(status, { error: { code, message } });
    if (this.down) {
      this.refused++;
      this.notify();
      return fail(503, 'unavailable', 'the coordinator is restarting');
    }
    const json = () => JSON.parse(body.toString() || '{}') as Record<string, unknown>;

    const claim = url.pathname.match(/^\/api\/v1\/workers\/([^/]+)\/claim$/);
    if (claim) {
      if (this.refuseClaims) return fail(401, 'unauthenticated', 'a worker token is required');
      const protocol = request.headers[WORKER_PROTOCOL_HEADER] as string | undefined;
      if (this.claimRefusal) {
        this.claims.push({ worker: decodeURIComponent(claim[1]!), body: json(), protocol });
        this.notify();
        const { status, code, message } = this.claimRefusal;
        return fail(status, code, message);
      }
      const { report, ...claimBody } = json() as {
        report?: { attemptId: number; attemptToken: string; entries: ReportEntry[] };
      };
      // As the coordinator does: the reports first; a refusal of them does not stop the claim.
      const refusal = !report
        ? undefined
        : report.attemptToken === attemptCredential(report.attemptId)
          ? this.applyReport(report.attemptId, report.entries)
          : { code: 'unauthenticated', message: "the report does not carry its attempt's credential" };
      this.claimsWithReport += report ? 1 : 0;
      this.claims.push({ worker: decodeURIComponent(claim[1]!), body: claimBody, protocol });
      this.notify();
      const waitSeconds = Number(json().waitSeconds ?? 0);
      await this.when(() => this.pending.length > 0, waitSeconds * 1000);
      const assignment = this.pending.shift() ?? null;
      return reply(200, refusal ? { assignment, reportRefused: refusal } : { assignment });
    }

    if (url.pathname === '/api/v1/server') return reply(200, { name: 'switchyard', version: this.version });

    const attempt = url.pathname.match(/^\/api\/v1\/attempts\/(\d+)\/(.+)$/);
    if (!attempt) return fail(404, 'not-found', url.pathname);
    const attemptId = Number(attempt[1]);
    const action = attempt[2]!;
    if (this.leaseLost.has(attemptId)) return fail(409, 'lease-lost', `attempt ${attemptId} is not yours any more`);

    // As the coordinator does: what acts on an attempt needs its own credential; heartbeats the worker's.
    const credential = request.headers.authorization;
    if (action !== 'heartbeat' && credential !== `Bearer ${attemptCredential(attemptId)}`) {
      return fail(401, 'unauthenticated', "send the attempt's own credential");
    }
    if (action === 'heartbeat' && credential === `Bearer ${attemptCredential(attemptId)}`) {
      return fail(401, 'unauthenticated', "heartbeats carry the worker's token, not the attempt's");
    }
    if (action === 'heartbeat') {
      this.heartbeats++;
      if (this.heartbeatsFailing) return fail(503, 'unavailable', 'heartbeats are failing');
      if (this.heartbeatsLost) return;
      const waitSeconds = Number(url.searchParams.get('wait') ?? 0);
      await this.when(() => this.cancelled.has(attemptId) || this.leaseLost.has(attemptId), waitSeconds * 1000);
      if (this.leaseLost.has(attemptId)) return fail(409, 'lease-lost', `attempt ${attemptId} is not yours any more`);
      return reply(200, { cancel: this.cancelled.has(attemptId), leaseExpiresAt: new Date().toISOString(), heldMs: 0 });
    }
    if (action === 'report') {
      const refusal = this.applyReport(attemptId, (json() as { entries: ReportEntry[] }).entries);
      if (refusal) return fail(409, refusal.code, refusal.message);
      this.batches++;
      return reply(200, { cancel: this.cancelled.has(attemptId) });
    }
    if (action === 'log') {
      const refusal = this.applyLog(
        attemptId,
        Number(url.searchParams.get('step')),
        Number(url.searchParams.get('seq')),
        body,
      );
      if (refusal) return fail(409, refusal.code, refusal.message);
      return reply(200, { bytes: 0, cancel: this.cancelled.has(attemptId) });
    }
    const step = action.match(/^steps\/(\d+)\/(started|finished)$/);
    if (step) {
      const index = Number(step[1]);
      const data = json();
      if (step[2] === 'started') this.record({ type: 'started', attemptId, step: index, name: String(data.name) });
      else this.recordStepFinished(attemptId, index, data);
      return reply(200, {});
    }
    if (action === 'finished') {
      this.recordAttemptFinished(attemptId, json());
      return reply(200, {});
    }
    return fail(404, 'not-found', url.pathname);
  }

  /** Several reports in their order, as the coordinator's report verb takes them; a refusal, or undefined. */
  private applyReport(attemptId: number, entries: ReportEntry[]): { code: string; message: string } | undefined {
    if (this.leaseLost.has(attemptId))
      return { code: 'lease-lost', message: `attempt ${attemptId} is not yours any more` };
    for (const entry of entries) {
      if (entry.kind === 'step-started')
        this.record({ type: 'started', attemptId, step: entry.index, name: entry.name });
      if (entry.kind === 'step-finished') this.recordStepFinished(attemptId, entry.index, entry);
      if (entry.kind === 'attempt-finished') this.recordAttemptFinished(attemptId, entry);
      if (entry.kind === 'log') {
        const refusal = this.applyLog(attemptId, entry.step, entry.seq, Buffer.from(entry.frames, 'base64'));
        if (refusal) return refusal;
      }
    }
    return undefined;
  }

  private applyLog(
    attemptId: number,
    step: number,
    seq: number,
    body: Buffer,
  ): { code: string; message: string } | undefined {
    const key = `${attemptId}/${step}`;
    const expected = this.nextSeq.get(key) ?? 0;
    if (seq > expected) return { code: 'log-sequence-gap', message: `expected seq ${expected}, got ${seq}` };
    if (seq === expected) {
      this.nextSeq.set(key, expected + 1);
      const decoded = new FrameDecoder().push(body).map((c) => ({ stream: c.stream, text: c.data.toString() }));
      this.record({ type: 'log', attemptId, step, seq, chunks: decoded });
    }
    return undefined;
  }

  private recordStepFinished(attemptId: number, step: number, data: Record<string, unknown>): void {
    this.record({
      type: 'finished',
      attemptId,
      step,
      exitCode: data.exitCode as number | null,
      signal: data.signal as string | null,
      timedOut: data.timedOut as boolean,
      cancelled: data.cancelled as boolean,
    });
  }

  private recordAttemptFinished(attemptId: number, data: Record<string, unknown>): void {
    this.record({
      type: 'attempt',
      attemptId,
      result: String(data.result),
      ...(data.reason === undefined ? {} : { reason: String(data.reason) }),
      ...(data.message === undefined ? {} : { message: String(data.message) }),
    });
  }
}

/** The credential the fake hands out with an attempt, and expects on everything that acts on it. */
function attemptCredential(attemptId: number): string {
  return `attempt-${attemptId}-credential`;
}
