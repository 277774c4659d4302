import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import swagger from '@fastify/swagger';
import { type TypeBoxTypeProvider, TypeBoxValidatorCompiler } from '@fastify/type-provider-typebox';
import {
  ApiError,
  CpuProfileQuery,
  ErrorResponse,
  PROFILE_PATHS,
  PROFILE_SECONDS,
  type ProfileKind,
} from '@switchyard/protocol';
import { checkAdminToken, reserveProfile } from '@switchyard/proxy/diagnostics';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, LogController } from 'fastify';
import type { Logger } from 'pino';
import Type from 'typebox';
import type { SignerConfig } from '../config/load-signer-config.ts';
import type { SigningService, SignOutcome } from '../signing-service.ts';
import { HashRequest, HashSignature, PublicKey, Sha256Hex, SignedOutput, SignParams } from './api-schemas.ts';
import { authorize } from './authorize.ts';
import { createServerAnsweringExpect } from './expect-continue.ts';
import { readVerifiedBody } from './read-body.ts';
import type { SignerMetrics } from './signer-metrics.ts';
import { admitUpload, SIGN_PATH } from './upload-check.ts';

type App = FastifyInstance<Server, IncomingMessage, ServerResponse, Logger, TypeBoxTypeProvider>;

export interface SignerAppContext {
  config: SignerConfig;
  service: SigningService;
  metrics: SignerMetrics;
  logger: Logger;
  version: string;
  /** Where a heap snapshot passes through on its way out (the cache's scratch directory). */
  scratchDir: string;
}

/** Not `as const`: the type provider then leaves the reply's type open, so a stream can be sent. */
const Bytes = { description: 'the bytes', type: 'string', format: 'binary' };
const errors = (...statuses: number[]) => Object.fromEntries(statuses.map((s) => [s, { $ref: 'ErrorResponse#' }]));

/** The signer's HTTP API. Its route schemas are also its OpenAPI document (GET /openapi.json). */
export async function buildSignerApp(ctx: SignerAppContext): Promise<App> {
  const { config, service, metrics } = ctx;
  const app = Fastify({
    loggerInstance: ctx.logger,
    // Request lines are logged by the handlers, with job and attempt, never the Authorization header.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 64 * 1024,
    forceCloseConnections: true,
    routerOptions: { maxParamLength: 128 },
    serverFactory: (handler) =>
      createServerAnsweringExpect(
        handler,
        (request) => decideBeforeBody(ctx, request),
        (code) => metrics.refusals.inc({ code }),
        ctx.logger,
      ),
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.setValidatorCompiler(TypeBoxValidatorCompiler);
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Switchyard signer API',
        version: ctx.version,
        description:
          'Signs MARs, Authenticode binaries, detached OpenPGP signatures and digests with keys that never leave ' +
          'the signer. Ask by digest first (GET), upload only on a miss (PUT with Expect: 100-continue). ' +
          'Errors are `{ "error": { "code", "message", "details" } }`. Send `Authorization: Bearer <signing token>`.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  app.addSchema(ErrorResponse);

  app.setErrorHandler((error: FastifyError | ApiError, request, reply) => {
    // A refusal sent while the body is still coming: don't read it, close the connection instead.
    if (!request.raw.complete) reply.header('connection', 'close');
    if (error instanceof ApiError) {
      metrics.refusals.inc({ code: error.code });
      return reply.code(error.status).send(error.toBody());
    }
    if (error.validation) {
      metrics.refusals.inc({ code: 'invalid-request' });
      const message = error.validation
        .map((v) => `${error.validationContext}${v.instancePath}: ${v.message}`)
        .join('; ');
      return reply.code(400).send({ error: { code: 'invalid-request', message, details: {} } });
    }
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      const code = status === 413 ? 'payload-too-large' : status === 415 ? 'unsupported-media-type' : 'invalid-request';
      metrics.refusals.inc({ code });
      return reply.code(status).send({ error: { code, message: error.message, details: {} } });
    }
    request.log.error({ err: error, url: request.url }, 'request failed');
    return reply
      .code(500)
      .send({ error: { code: 'internal', message: 'internal error; see the signer log', details: {} } });
  });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url;
    metrics.routes.observe({
      method: request.method,
      route: route ?? 'unmatched',
      status: reply.statusCode,
      seconds: reply.elapsedTime / 1000,
      longLived: route === PROFILE_PATHS.cpu || route === PROFILE_PATHS.heap,
    });
  });
  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send({
      error: { code: 'not-found', message: `no route ${request.method} ${request.url.split('?')[0]}`, details: {} },
    });
  });

  app.get(
    '/api/v1/sign/:format/:keyId/:sha256',
    {
      schema: {
        operationId: 'lookupSigned',
        tags: ['signing'],
        summary: 'Ask by digest: the signed output of this input if the signer has it (200), else 404 (then upload)',
        params: SignParams,
        response: { 200: SignedOutput, ...errors(400, 401, 403, 404) },
      },
    },
    async (request) => {
      authorize(request.headers, config.secrets, request.params.format);
      const key = service.keyFor(request.params.format, request.params.keyId);
      const cached = await service.lookup(request.params.format, key, request.params.sha256);
      if (!cached)
        throw new ApiError('not-found', 'not signed yet: upload it with PUT to the same URL', { signed: false });
      return describe({ output: cached, cache: 'hit' }, request.params.format, key.id, request.params.sha256);
    },
  );

  app.register(async (uploads: App) => {
    // The handler reads the body itself (counted, hashed, limited): no parser may touch it first.
    uploads.removeAllContentTypeParsers();
    uploads.addContentTypeParser('*', (_request, _payload, done) => done(null));
    uploads.put(
      '/api/v1/sign/:format/:keyId/:sha256',
      {
        schema: {
          operationId: 'sign',
          tags: ['signing'],
          summary:
            'Upload a file and get it signed. With Expect: 100-continue, refusals (401/403/404/411/413) and inputs ' +
            'already signed (200) are answered before a body byte is sent. The body must have the sha256 the URL names.',
          params: SignParams,
          response: { 200: SignedOutput, ...errors(400, 401, 403, 404, 411, 413) },
        },
      },
      async (request) => {
        const upload = admitUpload(request.headers, request.params, service, config.secrets, config.maxUploadBytes);
        const outcome = await service.sign(upload.format, upload.key, upload.sha256, async () => {
          const body = await readVerifiedBody(request.raw, upload.sha256, config.maxUploadBytes);
          metrics.uploadBytes.inc(body.length);
          return body;
        });
        // A hit found here (no Expect was sent) leaves the body unread: the connection can't be reused.
        if (!request.raw.complete) request.raw.resume();
        request.log.info(
          {
            job: upload.claims.job,
            attempt: upload.claims.attempt,
            format: upload.format,
            key: upload.key.id,
            input: upload.sha256,
            output: outcome.output.sha256,
            cache: outcome.cache,
            entries: outcome.entries,
          },
          'signed',
        );
        return describe(outcome, upload.format, upload.key.id, upload.sha256);
      },
    );
  });

  app.post(
    '/api/v1/sign-hash/:keyId',
    {
      schema: {
        operationId: 'signHash',
        tags: ['signing'],
        summary: 'Sign a digest computed by the caller (format `hash`), so a huge file never travels',
        params: Type.Object({ keyId: Type.String() }),
        body: HashRequest,
        response: { 200: HashSignature, ...errors(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const claims = authorize(request.headers, config.secrets, 'hash');
      const key = service.keyFor('hash', request.params.keyId);
      const signature = await service.signDigest(key, request.body.algorithm, request.body.digest);
      request.log.info({ job: claims.job, attempt: claims.attempt, format: 'hash', key: key.id }, 'signed');
      return { key: key.id, algorithm: request.body.algorithm, signature: signature.toString('base64') };
    },
  );

  app.get(
    '/api/v1/outputs/:sha256',
    {
      schema: {
        operationId: 'getOutput',
        tags: ['signing'],
        summary: 'A signed output by its own sha256 (checked against it before it is sent)',
        params: Type.Object({ sha256: Sha256Hex }),
        response: { 200: Bytes, ...errors(400, 401, 404) },
      },
    },
    async (request, reply) => {
      authorize(request.headers, config.secrets, null);
      const bytes = await service.output(request.params.sha256);
      if (!bytes) throw new ApiError('not-found', `no output ${request.params.sha256} (never made, or evicted)`);
      return reply
        .header('content-type', 'application/octet-stream')
        .header('etag', `"${request.params.sha256}"`)
        .header('content-length', bytes.length)
        .send(bytes);
    },
  );

  app.get(
    '/api/v1/keys',
    {
      schema: {
        operationId: 'listKeys',
        tags: ['keys'],
        summary: 'The public keys, with the formats each may sign (no token needed)',
        security: [],
        response: { 200: Type.Object({ keys: Type.Array(PublicKey) }) },
      },
    },
    async () => ({
      keys: [...service.keys.values()].map((key) => ({
        id: key.id,
        formats: [...key.formats],
        fingerprint: key.fingerprint,
        publicKey: key.publicKey,
        ...(key.marAlgorithm ? { marAlgorithm: key.marAlgorithm } : {}),
      })),
    }),
  );

  registerProfileRoutes(app, ctx);
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) =>
    reply.header('content-type', metrics.registry.contentType).send(await metrics.registry.metrics()),
  );
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  app.get('/healthz', { schema: { hide: true } }, async () => ({ ok: true }));
  return app;
}

/** `switchyard profile` for the signer: the admin token of the config's `admin:`; heap snapshots only when it allows them. */
function registerProfileRoutes(app: App, ctx: SignerAppContext): void {
  const admin = ctx.config.admin;
  const send = (reply: FastifyReply, kind: ProfileKind, seconds: number) => {
    const profile = reserveProfile({ kind, seconds, service: 'signer', scratchDir: ctx.scratchDir });
    reply.hijack();
    return profile.send(reply.raw);
  };
  app.post(
    PROFILE_PATHS.cpu,
    {
      schema: {
        operationId: 'takeCpuProfile',
        tags: ['operations'],
        summary: 'Sample the signer for `seconds` and answer a .cpuprofile (Chrome DevTools, speedscope); admin token',
        querystring: CpuProfileQuery,
        response: { 200: Bytes, ...errors(400, 401, 403, 409) },
      },
    },
    async (request, reply) => {
      checkAdminToken(request.headers.authorization, admin?.tokenSha256 ?? null);
      return send(reply, 'cpu', request.query.seconds ?? PROFILE_SECONDS.default);
    },
  );
  app.post(
    PROFILE_PATHS.heap,
    {
      schema: {
        operationId: 'takeHeapSnapshot',
        tags: ['operations'],
        summary: 'A heap snapshot of the signer (.heapsnapshot); admin token, and only with admin.heap_snapshots: true',
        response: { 200: Bytes, ...errors(401, 403, 409) },
      },
    },
    async (request, reply) => {
      checkAdminToken(request.headers.authorization, admin?.tokenSha256 ?? null);
      if (!admin?.heapSnapshots) {
        throw new ApiError(
          'forbidden',
          'heap snapshots are off: one holds whatever the heap holds, secrets read at start among it (admin.heap_snapshots: true allows them)',
        );
      }
      return send(reply, 'heap', 0);
    },
  );
}

async function decideBeforeBody(ctx: SignerAppContext, request: IncomingMessage) {
  const match = request.method === 'PUT' ? SIGN_PATH.exec((request.url ?? '').split('?')[0] as string) : null;
  if (!match) return 'continue' as const;
  let parts: string[];
  try {
    parts = match.map((part) => decodeURIComponent(part));
  } catch {
    throw new ApiError('invalid-request', 'the URL has a malformed %-escape');
  }
  const [, format = '', keyId = '', sha256 = ''] = parts;
  const upload = admitUpload(
    request.headers,
    { format, keyId, sha256 },
    ctx.service,
    ctx.config.secrets,
    ctx.config.maxUploadBytes,
  );
  const cached = await ctx.service.lookup(upload.format, upload.key, upload.sha256);
  if (!cached) return 'continue' as const;
  ctx.metrics.cacheLookups.inc({ format: upload.format, result: 'hit' });
  return { status: 200, body: describe({ output: cached, cache: 'hit' }, upload.format, upload.key.id, upload.sha256) };
}

function describe(outcome: SignOutcome, format: string, keyId: string, input: string) {
  return {
    format,
    key: keyId,
    input,
    output: {
      sha256: outcome.output.sha256,
      size: outcome.output.size,
      url: `/api/v1/outputs/${outcome.output.sha256}`,
    },
    cache: outcome.cache,
    ...(outcome.entries ? { entries: outcome.entries } : {}),
  };
}
