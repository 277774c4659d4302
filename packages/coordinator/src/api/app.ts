import cookie from '@fastify/cookie';
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import websocket from '@fastify/websocket';
import { ApiError, ErrorResponse, LOG_CONTENT_TYPE } from '@switchyard/protocol';
import Fastify, { type FastifyError, LogController } from 'fastify';
import { ThrottledLog } from '../throttled-log.ts';
import type { App } from './app-types.ts';
import { accessOf, authorize } from './auth.ts';
import { ConnectionGuard } from './connection-guard.ts';
import type { ApiContext } from './context.ts';
import { registerDashboard } from './dashboard.ts';
import { DiskFullRefusals } from './disk-full.ts';
import { artifactUploadCheck, createServerAnsweringExpect } from './expect-continue.ts';
import { requestValidatorCompiler } from './request-validation.ts';
import { timeRoute } from './route-timing.ts';
import { registerArtifactRoutes } from './routes/artifacts.ts';
import { registerEventSocketRoutes } from './routes/event-socket.ts';
import { registerEventRoutes } from './routes/events.ts';
import { registerFarmViewRoutes } from './routes/farm-views.ts';
import { registerJobRoutes } from './routes/jobs.ts';
import { registerLogLineRoutes } from './routes/log-lines.ts';
import { registerLogRoutes } from './routes/logs.ts';
import { registerMetaRoutes } from './routes/meta.ts';
import { registerProfileRoutes } from './routes/profile.ts';
import { registerPushRoutes } from './routes/pushes.ts';
import { registerReplicaRoutes } from './routes/replicas.ts';
import { registerSchemaRoutes } from './routes/schemas.ts';
import { registerSessionRoutes } from './routes/session.ts';
import { registerStatsRoutes } from './routes/stats.ts';
import { registerSubscriptionRoutes } from './routes/subscriptions.ts';
import { registerToolRoutes } from './routes/tools.ts';
import { registerWorkerRoutes } from './routes/workers.ts';
import { apiErrorOf, storeErrorOf } from './store-errors.ts';
import { toolUploadCheck } from './tool-upload-check.ts';

const MAX_LOG_BATCH_BYTES = 8 * 1024 * 1024;

/** Builds the HTTP API: every route, its schema (which is also the OpenAPI document), auth and errors. */
export async function buildApp(ctx: ApiContext): Promise<App> {
  const warnings = new ThrottledLog(ctx.logger);
  const guard = new ConnectionGuard(() => ctx.farm().settings, ctx.metrics, warnings);
  const diskFull = new DiskFullRefusals(ctx.metrics, warnings);
  const app = Fastify({
    loggerInstance: ctx.logger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 4 * 1024 * 1024,
    // A sha512 in a tool's path is 128 characters; fastify's default refuses params past 100.
    routerOptions: { maxParamLength: 256 },
    // No cap on a whole request: a large upload may take hours. A body must keep a minimum rate
    // instead, and a client is held to a number of connections (connection-guard.ts).
    requestTimeout: 0,
    keepAliveTimeout: 65_000,
    // On shutdown, close kept-alive worker connections instead of waiting out their timeout.
    forceCloseConnections: true,
    // Our own server, so that Expect: 100-continue is answered after the checks, not before them.
    serverFactory: (handler) =>
      guard.attach(
        createServerAnsweringExpect(
          guard.timeBodies(handler),
          [
            artifactUploadCheck(ctx.credentials, ctx.artifacts, ctx.artifactMetrics),
            toolUploadCheck(ctx.farm, ctx.credentials, ctx.tools, ctx.toolMetrics),
          ].map((check) => diskFull.counting(check)),
          ctx.logger,
        ),
      ),
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.setValidatorCompiler(requestValidatorCompiler);

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Switchyard coordinator API',
        version: ctx.version,
        description:
          'Pushes in, jobs out. Errors are `{ "error": { "code", "message", "details" } }`. ' +
          "With an `auth:` config section, send `Authorization: Bearer <token>`. Each operation's `x-switchyard-auth` " +
          "names what it needs: a token scope (`read` is waived by `auth.public_read`), `attempt` (the claim's " +
          '`attemptToken`, for the one attempt the route acts on), or `per-request` (decided by what is asked for; see its summary).',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  app.addSchema(ErrorResponse);
  // Parses the dashboard's session cookie before the auth hook reads it.
  await app.register(cookie);
  // Clients send nothing but the upgrade; a small frame limit keeps them from sending more.
  await app.register(websocket, { options: { maxPayload: 64 * 1024 } });
  // @fastify/websocket hides its routes from the OpenAPI document; the event socket is part of the API.
  // Each operation names what calling it needs (auth.ts), for clients and the generated reference.
  app.addHook('onRoute', (route) => {
    if (route.websocket && route.schema) route.schema.hide = false;
    if (route.schema) Object.assign(route.schema, { 'x-switchyard-auth': accessOf(route.config ?? {}) });
  });

  // JSON and log frames only: anything else is a 415, not a string that fails validation.
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser(
    LOG_CONTENT_TYPE,
    { parseAs: 'buffer', bodyLimit: MAX_LOG_BATCH_BYTES },
    (_req, body, done) => done(null, body),
  );

  app.addHook('onRequest', async (request) => {
    if (request.routeOptions.url === undefined) return;
    await authorize(ctx.farm(), request, ctx.sessions, ctx.credentials);
  });

  app.addHook('onSend', async (request, reply) => {
    if (reply.statusCode >= 400 && guard.closeAfterRefusal(request.raw, reply.raw)) reply.header('connection', 'close');
  });
  app.addHook('onClose', async () => warnings.close());

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    ctx.metrics.httpRequests.inc({ method: request.method, route, status: String(reply.statusCode) });
    timeRoute(ctx.metrics, request, reply);
  });

  // Store refusals and a full disk under the files arrive here too: storeErrorOf sorts them out first.
  app.setErrorHandler((error: FastifyError | ApiError, request, reply) => {
    const refusal = storeErrorOf(error);
    if (refusal) {
      diskFull.note(refusal, request.raw);
      const answer = apiErrorOf(refusal);
      return reply.code(answer.status).send(answer.toBody());
    }
    if (error instanceof ApiError) {
      return reply.code(error.status).send(error.toBody());
    }
    if (error.validation) {
      const problems = error.validation.map((v) => {
        const where = v.instancePath
          ? `${error.validationContext}${v.instancePath.replace(/\//g, '.')}`
          : error.validationContext;
        return `${where}: ${v.message}`;
      });
      return reply.code(400).send({
        error: { code: 'invalid-request', message: problems.join('; '), details: { problems: error.validation } },
      });
    }
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      const code = status === 413 ? 'payload-too-large' : status === 415 ? 'unsupported-media-type' : 'invalid-request';
      return reply.code(status).send({ error: { code, message: error.message, details: { fastify: error.code } } });
    }
    request.log.error({ err: error, url: request.url }, 'request failed');
    return reply
      .code(500)
      .send({ error: { code: 'internal', message: 'internal error; see the coordinator log', details: {} } });
  });

  await registerDashboard(app, ctx.dashboardDir, (request, reply) => {
    reply.code(404).send({
      error: { code: 'not-found', message: `no route ${request.method} ${request.url.split('?')[0]}`, details: {} },
    });
  });

  registerMetaRoutes(app, ctx);
  registerReplicaRoutes(app, ctx);
  registerPushRoutes(app, ctx);
  registerJobRoutes(app, ctx);
  registerLogRoutes(app, ctx);
  registerWorkerRoutes(app, ctx);
  registerEventRoutes(app, ctx);
  registerArtifactRoutes(app, ctx);
  registerToolRoutes(app, ctx);
  registerEventSocketRoutes(app, ctx);
  registerSchemaRoutes(app);
  registerSubscriptionRoutes(app, ctx);
  registerStatsRoutes(app, ctx);
  registerLogLineRoutes(app, ctx);
  registerFarmViewRoutes(app, ctx);
  registerSessionRoutes(app, ctx);
  registerProfileRoutes(app, ctx);
  return app;
}
