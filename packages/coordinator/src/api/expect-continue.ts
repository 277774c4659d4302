import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { ApiError, type ErrorBody } from '@switchyard/protocol';
import type { Logger } from 'pino';
import type { ArtifactMetrics } from '../artifacts/artifact-metrics.ts';
import type { ArtifactService } from '../artifacts/artifact-service.ts';
import type { AttemptCredentials } from '../credentials/attempt-credentials.ts';
import { StoreError } from '../store/errors.ts';
import { checkAttemptCredential } from './auth.ts';
import { apiErrorOf } from './store-errors.ts';

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

const UPLOAD_PATH = /^\/api\/v1\/jobs\/([^/?#]+)\/artifacts\/([^/?#]+)$/;
const ARTIFACT_NAME = /^[A-Za-z0-9][A-Za-z0-9._+-]*$/;

/** Before a body: let it come, or answer for good (content stored already). Refusals are thrown ApiErrors. */
export type ContinueDecision = 'continue' | { status: number; body: unknown };

/** An upload route (a PUT) whose checks need only the request's headers. */
export interface ContinueCheck {
  /** The paths it answers for; the capture groups are passed to `decide`. */
  path: RegExp;
  decide(request: IncomingMessage, groups: string[]): Promise<ContinueDecision>;
  /** Counts a refusal in the route's metrics. */
  refused(): void;
}

/**
 * The API's HTTP server, answering `Expect: 100-continue` itself. Node would otherwise send
 * `100 Continue` before any of our code ran, so a client would send a whole body only to have
 * it refused. For an upload that one of `checks` answers for, every check that needs only the
 * headers runs first — the token, the route, the size limit, and what the route needs (for
 * an artifact, the job and its running attempt) — and a refusal is final before a body byte is
 * sent; content the store holds already is recorded at once, and its body never sent. Every
 * other request is told to continue and routed as usual.
 */
export function createServerAnsweringExpect(handler: Handler, checks: ContinueCheck[], logger: Logger): Server {
  const server = createServer(handler);
  server.on('checkContinue', (request: IncomingMessage, response: ServerResponse) => {
    const path = (request.url ?? '').split('?')[0] as string;
    const found =
      request.method === 'PUT'
        ? checks.map((check) => ({ check, match: check.path.exec(path) })).find(({ match }) => match !== null)
        : undefined;
    if (!found?.match) {
      response.writeContinue();
      handler(request, response);
      return;
    }
    found.check.decide(request, found.match.slice(1)).then(
      (answer) => {
        if (answer === 'continue') {
          response.writeContinue();
          handler(request, response);
        } else {
          answerFinal(response, answer.status, answer.body);
        }
      },
      (error: unknown) => {
        found.check.refused();
        const refusal = error instanceof StoreError ? apiErrorOf(error) : error;
        if (refusal instanceof ApiError) {
          answerFinal(response, refusal.status, refusal.toBody());
          return;
        }
        logger.error({ err: error, url: request.url }, 'checking an upload before its body failed');
        const body: ErrorBody = { error: { code: 'internal', message: 'internal error; see the coordinator log' } };
        answerFinal(response, 500, body);
      },
    );
  });
  return server;
}

/** Artifact uploads: the attempt's credential, the name, the size limit, the job and its running attempt; dedup by X-Content-SHA256. */
export function artifactUploadCheck(
  credentials: AttemptCredentials,
  artifacts: ArtifactService,
  metrics: ArtifactMetrics,
): ContinueCheck {
  return {
    path: UPLOAD_PATH,
    decide: (request, [rawJobId = '', rawName = '']) => decide(request, rawJobId, rawName, credentials, artifacts),
    refused: () => metrics.uploads.inc({ outcome: 'refused' }),
  };
}

async function decide(
  request: IncomingMessage,
  rawJobId: string,
  rawName: string,
  credentials: AttemptCredentials,
  artifacts: ArtifactService,
): Promise<ContinueDecision> {
  const claims = checkAttemptCredential(credentials, 'job', rawJobId, request.headers.authorization);
  let name: string;
  try {
    name = decodeURIComponent(rawName);
  } catch {
    throw new ApiError('invalid-request', `"${rawName}" is not a valid URL path segment`);
  }
  if (!/^[1-9]\d{0,15}$/.test(rawJobId)) throw new ApiError('invalid-request', `"${rawJobId}" is not a job id`);
  if (!ARTIFACT_NAME.test(name) || name.length > 200) {
    throw new ApiError('invalid-request', `"${name}" is not an artifact name (letters, digits, ".", "_", "+", "-")`);
  }
  const upload = await artifacts.admit(claims.job, claims.attempt, name, request.headers);
  const stored = await artifacts.recordIfStored(upload);
  return stored ? { status: 200, body: stored } : 'continue';
}

/**
 * A final answer instead of 100 Continue. The client sends no body, so the connection can't
 * be reused: it is closed once the answer is out.
 */
function answerFinal(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    connection: 'close',
  });
  response.end(text);
}
