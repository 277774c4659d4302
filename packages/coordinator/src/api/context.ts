import type { Logger } from 'pino';
import type { ArtifactMetrics } from '../artifacts/artifact-metrics.ts';
import type { ArtifactService } from '../artifacts/artifact-service.ts';
import type { ClaimBroker } from '../claims/claim-broker.ts';
import type { Farm } from '../config/farm-config.ts';
import type { AttemptCredentials } from '../credentials/attempt-credentials.ts';
import type { Activity } from '../events/activity.ts';
import type { EventLog } from '../events/event-log.ts';
import type { LogService } from '../logs/log-service.ts';
import type { LogTexts } from '../logs/log-texts.ts';
import type { Metrics } from '../metrics.ts';
import type { FarmStore } from '../store/port.ts';
import type { ToolMetrics } from '../tools/tool-metrics.ts';
import type { ToolService } from '../tools/tool-service.ts';
import type { Sessions } from './sessions.ts';

/** What route handlers work with; built once by the composition root. */
export interface ApiContext {
  farm(): Farm;
  store: FarmStore;
  /** The committed events as the change feed delivered them, for streams. */
  events: EventLog;
  /** Wake-ups from the change feed: a job changed, an attempt was cancelled. */
  activity: Activity;
  logs: LogService;
  /** Logs as numbered lines, for the dashboard's viewer. */
  logTexts: LogTexts;
  /** Signed-in browsers. */
  sessions: Sessions;
  /** The built dashboard served at `/`; null: not built. */
  dashboardDir: string | null;
  broker: ClaimBroker;
  /** Mints the credentials a claim hands out with an attempt, and checks them. */
  credentials: AttemptCredentials;
  metrics: Metrics;
  /** The data directory (a real disk): a heap snapshot passes through a file there on its way out. */
  dataDir: string;
  artifacts: ArtifactService;
  artifactMetrics: ArtifactMetrics;
  tools: ToolService;
  toolMetrics: ToolMetrics;
  logger: Logger;
  version: string;
  /** Aborted when the coordinator shuts down, ending long-lived responses. */
  shutdown: AbortSignal;
  /** This coordinator among the farm's replicas, for the replicas endpoint and the health probes. */
  replica: {
    id: string;
    aliveWindowMs: number;
    feedHealth(): { running: boolean; lastReadAt: number | null };
    feedPollMs: number;
  };
}
