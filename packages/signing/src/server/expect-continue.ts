import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { ApiError, type ErrorBody } from '@switchyard/protocol';
import type { Logger } from 'pino';

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

/** Before a body: let it come, or answer for good. Refusals are thrown ApiErrors. */
export type ContinueDecision = 'continue' | { status: number; body: unknown };

/**
 * The signer's HTTP server, answering `Expect: 100-continue` itself. Node would otherwise send
 * `100 Continue` before any of our code ran (and Fastify registers no `checkContinue`), so a
 * refused or already signed upload would cost its whole body. `decide` runs every check that
 * needs only the headers; a final answer without 100 closes the connection, since the client
 * will not send the body it announced.
 */
export function createServerAnsweringExpect(
  handler: Handler,
  decide: (request: IncomingMessage) => Promise<ContinueDecision> | ContinueDecision,
  refused: (code: string) => void,
  logger: Logger,
): Server {
  const server = createServer(handler);
  server.on('checkContinue', (request: IncomingMessage, response: ServerResponse) => {
    Promise.resolve()
      .then(() => decide(request))
      .then(
        (answer) => {
          if (answer === 'continue') {
            response.writeContinue();
            handler(request, response);
          } else {
            answerFinal(response, answer.status, answer.body);
          }
        },
        (error: unknown) => {
          if (error instanceof ApiError) {
            refused(error.code);
            answerFinal(response, error.status, error.toBody());
            return;
          }
          logger.error({ err: error, url: request.url }, 'checking an upload before its body failed');
          const body: ErrorBody = { error: { code: 'internal', message: 'internal error; see the signer log' } };
          answerFinal(response, 500, body);
        },
      );
  });
  return server;
}

function answerFinal(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    connection: 'close',
  });
  response.end(text);
}
