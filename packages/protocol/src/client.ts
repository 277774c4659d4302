import type {
  Assignment,
  AttemptFinishedRequest,
  AttemptReportRequest,
  AttemptReportResponse,
  ClaimAfterReportRequest,
  ClaimAfterReportResponse,
  ClaimRequest,
  CreatePushRequest,
  HeartbeatResponse,
  Job,
  JobDetail,
  ListPushesQuery,
  LogAppendResponse,
  Push,
  PushList,
  ServerInfo,
  StepFinishedRequest,
  StepStartedRequest,
  Worker,
} from './api.ts';
import type { Artifact, ArtifactStats, CollectResult, JobInput } from './artifacts.ts';
import type { QueueView, Session } from './dashboard-views.ts';
import { ApiRequestError } from './errors.ts';
import type { EventFilter, EventType, SwitchyardEvent } from './events.ts';
import { LOG_CONTENT_TYPE } from './log-frames.ts';
import type { LogIndex, LogLines, LogSearch, LogUpdate } from './log-views.ts';
import { parseSse } from './sse.ts';
import type { BuilderStats, LastGreen, PushTimes, StatsQuery, WaitTimes, WorkerUtilisation } from './stats.ts';
import type { CreateSubscriptionRequest, Delivery, Subscription } from './subscriptions.ts';
import { TOOLS_BASE_PATH, toolPath } from './tool-paths.ts';
import type { ToolRecord } from './tools.ts';
import { fetchStream, fetchTransport, type StreamResponse, type StreamTransport, type Transport } from './transport.ts';

export const DEFAULT_SERVER = 'http://127.0.0.1:7420';

export interface ClientOptions {
  server: string;
  token?: string | undefined;
  /** How requests travel; default fetch. The Node entry's client defaults to node:http. */
  transport?: Transport | undefined;
  /** How streamed answers (logs, events) travel; default fetch. The Node entry's: node:http. */
  stream?: StreamTransport | undefined;
  /** Sent with every request (the dashboard's CSRF token). */
  headers?: Record<string, string> | undefined;
}

export interface EventStreamOptions extends EventFilter {
  /** Resume after this event id; 0 replays the whole retained log. Omitted: only new events. */
  since?: number;
  signal?: AbortSignal;
  /** Told when the stream is connected and receiving, and when it lost the connection and is retrying. */
  /** With `live`, the id the stream follows from: every event after it comes. */
  onConnection?: (state: 'live' | 'reconnecting', cursor?: number) => void;
}

type Query = Record<string, string | number | boolean | undefined>;

/** The typed client for the coordinator's API, used by the CLI, the worker and the tests. */
export class SwitchyardClient {
  readonly server: string;
  private readonly token: string | undefined;
  private readonly transport: Transport;
  private readonly stream: StreamTransport;
  private readonly extraHeaders: Record<string, string>;

  constructor(options: ClientOptions) {
    this.server = options.server.replace(/\/+$/, '');
    this.token = options.token;
    this.transport = options.transport ?? fetchTransport;
    this.stream = options.stream ?? fetchStream;
    this.extraHeaders = options.headers ?? {};
  }

  /** The same client with another bearer: a running attempt's requests carry the attempt's own credential. */
  withToken(token: string): SwitchyardClient {
    return new SwitchyardClient({
      server: this.server,
      token,
      transport: this.transport,
      stream: this.stream,
      headers: this.extraHeaders,
    });
  }

  url(path: string, query: Query = {}): string {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined) params.set(key, String(value));
    }
    const qs = params.toString();
    return `${this.server}${path}${qs ? `?${qs}` : ''}`;
  }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    const all = { ...this.extraHeaders, ...extra };
    return this.token ? { authorization: `Bearer ${this.token}`, ...all } : all;
  }

  async request<T>(
    method: string,
    path: string,
    options: { query?: Query; body?: unknown; raw?: Uint8Array; contentType?: string; signal?: AbortSignal } = {},
  ): Promise<T> {
    let headers = this.headers();
    let body: Uint8Array | undefined;
    if (options.raw !== undefined) {
      body = options.raw;
      headers = this.headers({ 'content-type': options.contentType ?? 'application/octet-stream' });
    } else if (options.body !== undefined) {
      body = new TextEncoder().encode(JSON.stringify(options.body));
      headers = this.headers({ 'content-type': 'application/json' });
    }
    const response = await this.transport(method, this.url(path, options.query), headers, body, options.signal);
    const text = new TextDecoder().decode(response.body);
    if (response.status < 200 || response.status >= 300) throw toRequestError(response.status, text);
    return (text ? JSON.parse(text) : {}) as T;
  }

  /** A GET whose answer is read as it arrives; a non-2xx answer throws, as `request` does. */
  private async openStream(
    path: string,
    query: Query,
    accept: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<StreamResponse> {
    const headers = this.headers(accept ? { accept } : {});
    const response = await this.stream(this.url(path, query), headers, signal);
    if (response.status >= 200 && response.status < 300) return response;
    const decoder = new TextDecoder();
    let text = '';
    for await (const chunk of response.body) text += decoder.decode(chunk, { stream: true });
    throw toRequestError(response.status, text + decoder.decode());
  }

  // ---- reads and user actions ----
  info(): Promise<ServerInfo> {
    return this.request('GET', '/api/v1/server');
  }
  async createPush(push: CreatePushRequest): Promise<Push> {
    return (await this.request<{ push: Push }>('POST', '/api/v1/pushes', { body: push })).push;
  }
  async listPushes(query: ListPushesQuery = {}): Promise<Push[]> {
    return (await this.listPushPage(query)).pushes;
  }
  /** One page of pushes, newest first, and the `before` of the next (null after the last). */
  listPushPage(query: ListPushesQuery = {}): Promise<PushList> {
    return this.request('GET', '/api/v1/pushes', { query });
  }
  async getPush(id: number): Promise<Push> {
    return (await this.request<{ push: Push }>('GET', `/api/v1/pushes/${id}`)).push;
  }
  async listJobs(
    query: { state?: string; repo?: string; branch?: string; builder?: string; limit?: number } = {},
  ): Promise<Job[]> {
    return (await this.request<{ jobs: Job[] }>('GET', '/api/v1/jobs', { query })).jobs;
  }
  async getJob(id: number): Promise<JobDetail> {
    return (await this.request<{ job: JobDetail }>('GET', `/api/v1/jobs/${id}`)).job;
  }
  async cancelJob(id: number): Promise<Job> {
    return (await this.request<{ job: Job }>('POST', `/api/v1/jobs/${id}/cancel`)).job;
  }
  async retriggerJob(id: number): Promise<Job> {
    return (await this.request<{ job: Job }>('POST', `/api/v1/jobs/${id}/retrigger`)).job;
  }
  /** The same builder's recent jobs on the job's repo and branch, newest first, without the job itself. */
  async similarJobs(id: number, query: { limit?: number } = {}): Promise<Job[]> {
    return (await this.request<{ jobs: Job[] }>('GET', `/api/v1/jobs/${id}/similar`, { query })).jobs;
  }
  /** Pending jobs per pool in the order they will run, with their effective priorities. */
  queue(): Promise<QueueView> {
    return this.request('GET', '/api/v1/queue');
  }

  // ---- logs by line ----
  /** A job's log: its line count, step sections and error lines. */
  logIndex(jobId: number, query: { attempt?: number } = {}): Promise<LogIndex> {
    return this.request('GET', `/api/v1/jobs/${jobId}/log/index`, { query });
  }
  /** Lines `from` to `to` (inclusive, from 1) of a job's log. */
  logLines(jobId: number, query: { from: number; to: number; attempt?: number }): Promise<LogLines> {
    return this.request('GET', `/api/v1/jobs/${jobId}/log/lines`, { query });
  }
  /**
   * A job's log as numbered lines from `from` on, then each line as it is written, until the
   * attempt ends (the last update says `complete`). Ends early, without `complete`, if the
   * connection drops: follow again from the first line not yet whole.
   */
  async *followLog(
    jobId: number,
    options: { from?: number; attempt?: number; signal?: AbortSignal } = {},
  ): AsyncGenerator<LogUpdate> {
    const query: Query = { from: options.from, attempt: options.attempt };
    const response = await this.openStream(
      `/api/v1/jobs/${jobId}/log/follow`,
      query,
      'text/event-stream',
      options.signal,
    );
    for await (const message of parseSse(response.body)) {
      if (message.event === 'update') yield JSON.parse(message.data) as LogUpdate;
    }
  }
  /** Every line of a job's log matching `q`. */
  searchLog(jobId: number, query: { q: string; case?: boolean; attempt?: number }): Promise<LogSearch> {
    return this.request('GET', `/api/v1/jobs/${jobId}/log/search`, { query });
  }

  // ---- browser sessions ----
  session(): Promise<Session> {
    return this.request('GET', '/api/v1/session');
  }
  signIn(token: string): Promise<Session> {
    return this.request('POST', '/api/v1/session', { body: { token } });
  }
  signOut(): Promise<Session> {
    return this.request('DELETE', '/api/v1/session');
  }

  // ---- webhooks ----
  async createSubscription(request: CreateSubscriptionRequest): Promise<Subscription> {
    const body = await this.request<{ subscription: Subscription }>('POST', '/api/v1/subscriptions', { body: request });
    return body.subscription;
  }
  async listSubscriptions(): Promise<Subscription[]> {
    return (await this.request<{ subscriptions: Subscription[] }>('GET', '/api/v1/subscriptions')).subscriptions;
  }
  async getSubscription(id: number): Promise<Subscription> {
    return (await this.request<{ subscription: Subscription }>('GET', `/api/v1/subscriptions/${id}`)).subscription;
  }
  async deleteSubscription(id: number): Promise<void> {
    await this.request('DELETE', `/api/v1/subscriptions/${id}`);
  }
  async listDeliveries(id: number, query: { limit?: number; before?: number } = {}): Promise<Delivery[]> {
    const path = `/api/v1/subscriptions/${id}/deliveries`;
    return (await this.request<{ deliveries: Delivery[] }>('GET', path, { query })).deliveries;
  }
  async redeliver(id: number, deliveryId: number): Promise<Delivery> {
    const path = `/api/v1/subscriptions/${id}/deliveries/${deliveryId}/redeliver`;
    return (await this.request<{ delivery: Delivery }>('POST', path)).delivery;
  }

  // ---- the answers ----
  /** The newest push of the branch whose every job succeeded; rejects with a 404 when there is none. */
  lastGreen(repo: string, branch: string): Promise<LastGreen> {
    return this.request(
      'GET',
      `/api/v1/repos/${encodeURIComponent(repo)}/branches/${encodeURIComponent(branch)}/last-green`,
    );
  }
  pushTimes(query: StatsQuery = {}): Promise<PushTimes> {
    return this.request('GET', '/api/v1/stats/pushes', { query });
  }
  waitTimes(query: StatsQuery = {}): Promise<WaitTimes> {
    return this.request('GET', '/api/v1/stats/waits', { query });
  }
  builderStats(query: StatsQuery = {}): Promise<BuilderStats> {
    return this.request('GET', '/api/v1/stats/builders', { query });
  }
  workerUtilisation(query: StatsQuery = {}): Promise<WorkerUtilisation> {
    return this.request('GET', '/api/v1/stats/workers', { query });
  }
  /** The JSON Schema of one event type. */
  eventSchema(type: EventType): Promise<Record<string, unknown>> {
    return this.request('GET', `/api/v1/schemas/events/${type}.json`);
  }

  async listWorkers(): Promise<Worker[]> {
    return (await this.request<{ workers: Worker[] }>('GET', '/api/v1/workers')).workers;
  }
  async listArtifacts(jobId: number): Promise<Artifact[]> {
    return (await this.request<{ artifacts: Artifact[] }>('GET', `/api/v1/jobs/${jobId}/artifacts`)).artifacts;
  }
  /** The job's `fetch:` entries, resolved to the artifacts of the dependency jobs it waited for. */
  async jobInputs(jobId: number, signal?: AbortSignal): Promise<JobInput[]> {
    const path = `/api/v1/jobs/${jobId}/inputs`;
    return (await this.request<{ inputs: JobInput[] }>('GET', path, withSignal({}, signal))).inputs;
  }
  artifactStats(): Promise<ArtifactStats> {
    return this.request('GET', '/api/v1/artifacts/stats');
  }
  /** Deletes expired artifacts and the blobs nothing references any more, now rather than at the next sweep. */
  collectArtifacts(): Promise<CollectResult> {
    return this.request('POST', '/api/v1/artifacts/collect');
  }

  /** The tool store's files, newest first; `filename` keeps those uploaded under that name. */
  async listTools(query: { filename?: string } = {}): Promise<ToolRecord[]> {
    return (await this.request<{ tools: ToolRecord[] }>('GET', TOOLS_BASE_PATH, { query })).tools;
  }
  /** Removes a tool from the store; its bytes go at the next collection unless an artifact shares them. */
  async deleteTool(sha512: string): Promise<void> {
    await this.request('DELETE', toolPath(sha512));
  }

  /** The job's log as plain text; with `follow`, yields output until the job ends. */
  async *log(
    jobId: number,
    options: { attempt?: number; follow?: boolean; stream?: string; signal?: AbortSignal } = {},
  ): AsyncGenerator<Uint8Array> {
    const query: Query = { attempt: options.attempt, follow: options.follow ? 1 : undefined, stream: options.stream };
    const response = await this.openStream(`/api/v1/jobs/${jobId}/log`, query, undefined, options.signal);
    yield* response.body;
  }

  /**
   * The live event stream. Reconnects by itself after a dropped connection, resuming from the
   * last event it saw, so a consumer sees every matching event exactly once.
   */
  async *events(options: EventStreamOptions = {}): AsyncGenerator<SwitchyardEvent> {
    let lastId = options.since;
    let delayMs = 250;
    while (!options.signal?.aborted) {
      const query: Query = {
        types: options.types?.join(','),
        repo: options.repo,
        branch: options.branch,
        builder: options.builder,
        result: options.result,
        author: options.author,
        routing_key: options.routingKey,
        job: options.job,
        push: options.push,
        since: lastId,
      };
      try {
        const response = await this.openStream('/api/v1/events', query, 'text/event-stream', options.signal);
        delayMs = 250;
        for await (const message of parseSse(response.body)) {
          if (message.event === 'ready') {
            lastId ??= (JSON.parse(message.data) as { cursor: number }).cursor;
            options.onConnection?.('live', lastId);
            continue;
          }
          if (message.event === 'dropped') throw new Error(`event stream dropped: ${message.data}`);
          const event = JSON.parse(message.data) as SwitchyardEvent;
          lastId = event.id;
          yield event;
        }
      } catch (error) {
        if (options.signal?.aborted) return;
        if (error instanceof ApiRequestError && error.status < 500) throw error;
      }
      options.onConnection?.('reconnecting');
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      delayMs = Math.min(delayMs * 2, 5000);
    }
  }

  // ---- the worker protocol ----
  async claim(workerName: string, request: ClaimRequest, signal?: AbortSignal): Promise<Assignment | null> {
    const options: { body: ClaimRequest; signal?: AbortSignal } = { body: request };
    if (signal) options.signal = signal;
    const response = await this.request<{ assignment: Assignment | null }>(
      'POST',
      `/api/v1/workers/${encodeURIComponent(workerName)}/claim`,
      options,
    );
    return response.assignment;
  }
  /** A claim that first delivers the last reports of the attempt the worker just ended. */
  claimAfterReport(
    workerName: string,
    request: ClaimAfterReportRequest,
    signal?: AbortSignal,
  ): Promise<ClaimAfterReportResponse> {
    return this.request(
      'POST',
      `/api/v1/workers/${encodeURIComponent(workerName)}/claim`,
      withSignal({ body: request }, signal),
    );
  }
  /** Several reports of one attempt in one request, applied together. */
  report(attemptId: number, body: AttemptReportRequest, signal?: AbortSignal): Promise<AttemptReportResponse> {
    return this.request('POST', `/api/v1/attempts/${attemptId}/report`, withSignal({ body }, signal));
  }
  heartbeat(attemptId: number, waitSeconds: number, signal?: AbortSignal): Promise<HeartbeatResponse> {
    const options: { query: Query; signal?: AbortSignal } = { query: { wait: waitSeconds } };
    if (signal) options.signal = signal;
    return this.request('POST', `/api/v1/attempts/${attemptId}/heartbeat`, options);
  }
  stepStarted(attemptId: number, index: number, body: StepStartedRequest, signal?: AbortSignal): Promise<unknown> {
    return this.request('POST', `/api/v1/attempts/${attemptId}/steps/${index}/started`, withSignal({ body }, signal));
  }
  appendLog(
    attemptId: number,
    step: number,
    seq: number,
    frames: Uint8Array,
    signal?: AbortSignal,
  ): Promise<LogAppendResponse> {
    return this.request(
      'POST',
      `/api/v1/attempts/${attemptId}/log`,
      withSignal({ query: { step, seq }, raw: frames, contentType: LOG_CONTENT_TYPE }, signal),
    );
  }
  stepFinished(attemptId: number, index: number, body: StepFinishedRequest, signal?: AbortSignal): Promise<unknown> {
    return this.request('POST', `/api/v1/attempts/${attemptId}/steps/${index}/finished`, withSignal({ body }, signal));
  }
  attemptFinished(attemptId: number, body: AttemptFinishedRequest, signal?: AbortSignal): Promise<unknown> {
    return this.request('POST', `/api/v1/attempts/${attemptId}/finished`, withSignal({ body }, signal));
  }
}

/** Adds a signal only when there is one: `signal: undefined` is not a valid RequestInit field value. */
function withSignal<T extends object>(options: T, signal: AbortSignal | undefined): T & { signal?: AbortSignal } {
  return signal ? { ...options, signal } : options;
}

/** A non-2xx answer as an error, with the server's code and message when the body has them. */
export function toRequestError(status: number, text: string): ApiRequestError {
  try {
    const body = JSON.parse(text) as { error?: { code?: string; message?: string; details?: unknown } };
    if (body.error?.message) {
      return new ApiRequestError(status, body.error.code ?? 'unknown', body.error.message, body.error.details);
    }
  } catch {
    // not JSON: fall through to the raw text
  }
  return new ApiRequestError(status, 'http-error', `HTTP ${status}: ${text.slice(0, 500)}`);
}
