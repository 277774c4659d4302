import {
  ApiError,
  Artifact,
  ArtifactName,
  ArtifactStats,
  blobPath,
  CollectResult,
  JobInput,
  type JobTokenClaims,
  Sha256Hex,
  UploadArtifactResponse,
} from '@switchyard/protocol';
import type { FastifyReply, FastifyRequest } from 'fastify';
import Type from 'typebox';
import { type App, errorResponses } from '../app-types.ts';
import type { ApiContext } from '../context.ts';
import { sendStoredBytes } from '../stored-bytes.ts';

const JobParams = Type.Object({ id: Type.Integer({ minimum: 1 }) });
const ArtifactParams = Type.Object({ id: Type.Integer({ minimum: 1 }), name: ArtifactName });
const IMMUTABLE = 'public, max-age=31536000, immutable';
const Bytes = { description: 'the bytes', type: 'string', format: 'binary' };

/** Artifact uploads (streamed, never parsed), listings, redirects to blobs, and the blobs themselves. */
export function registerArtifactRoutes(app: App, ctx: ApiContext): void {
  app.register(async (uploads: App) => {
    // The body is streamed to disk by the handler: no parser may read it first, whatever its type.
    uploads.removeAllContentTypeParsers();
    uploads.addContentTypeParser('*', (_request, _payload, done) => done(null));
    uploads.put(
      '/api/v1/jobs/:id/artifacts/:name',
      {
        config: { actsOn: 'job' },
        schema: {
          operationId: 'uploadArtifact',
          tags: ['artifacts'],
          summary:
            'Upload an artifact of a running job (streamed). Send Expect: 100-continue and X-Content-SHA256: refusals ' +
            '(401/403/404/409/413) and content already stored (200) are answered before the body. 201: stored.',
          params: ArtifactParams,
          response: {
            200: UploadArtifactResponse,
            201: UploadArtifactResponse,
            ...errorResponses(400, 401, 403, 404, 409, 413),
          },
        },
      },
      async (request, reply) => {
        try {
          const { job, attempt } = request.attemptClaims as JobTokenClaims;
          const upload = await ctx.artifacts.admit(job, attempt, request.params.name, request.headers);
          const stored = await ctx.artifacts.recordIfStored(upload);
          if (stored) return closeIfBodyPending(request, reply).code(200).send(stored);
          return reply.code(201).send(await ctx.artifacts.receive(upload, request.raw));
        } catch (error) {
          ctx.artifactMetrics.uploads.inc({ outcome: 'refused' });
          closeIfBodyPending(request, reply);
          throw error;
        }
      },
    );
  });

  app.get(
    '/api/v1/jobs/:id/artifacts',
    {
      config: { scope: 'read' },
      schema: {
        operationId: 'listArtifacts',
        tags: ['artifacts'],
        summary: "A job's artifacts (not yet expired): name, size, sha256, content type, blob URL",
        params: JobParams,
        response: { 200: Type.Object({ artifacts: Type.Array(Artifact) }), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => ({ artifacts: await ctx.artifacts.records.list(request.params.id) }),
  );

  app.get(
    '/api/v1/jobs/:id/artifacts/:name',
    {
      config: { scope: 'read' },
      schema: {
        operationId: 'getArtifact',
        tags: ['artifacts'],
        summary: 'Redirects (302) to the blob holding the artifact: GET /api/v1/blobs/sha256/<hex>',
        params: ArtifactParams,
        response: { 302: { description: 'Location: the blob', type: 'null' }, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      const artifact = await ctx.artifacts.records.find(request.params.id, request.params.name);
      return reply.redirect(blobPath(artifact.sha256), 302);
    },
  );

  app.get(
    '/api/v1/jobs/:id/inputs',
    {
      config: { scope: 'read' },
      schema: {
        operationId: 'jobInputs',
        tags: ['artifacts'],
        summary: "The job's fetch: entries, each resolved to the artifact of the dependency job it waited for",
        params: JobParams,
        response: { 200: Type.Object({ inputs: Type.Array(JobInput) }), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => ({ inputs: await ctx.artifacts.records.inputs(request.params.id) }),
  );

  app.get(
    '/api/v1/blobs/sha256/:hex',
    {
      config: { scope: 'read' },
      schema: {
        operationId: 'getBlob',
        tags: ['artifacts'],
        summary:
          'Stored bytes by sha256. Immutable: ETag is the quoted digest, Cache-Control public for a year; ' +
          'honours Range (206, 416), If-Range and If-None-Match (304); with blobs on S3 and server.blobs.redirect_downloads, a 307 to a presigned URL',
        params: Type.Object({ hex: Sha256Hex }),
        response: {
          200: Bytes,
          206: Bytes,
          304: { description: 'not modified', type: 'null' },
          307: { description: 'Location: a presigned URL of the blob in S3, valid for 5 minutes', type: 'null' },
          ...errorResponses(400, 401, 403, 404, 416),
        },
      },
    },
    async (request, reply) => serveBlob(ctx, request.params.hex, request, reply),
  );

  app.get(
    '/api/v1/artifacts/stats',
    {
      schema: {
        operationId: 'artifactStats',
        tags: ['artifacts'],
        summary: 'Artifacts and blobs stored, logical and stored bytes, and the dedup ratio (logical / stored)',
        response: { 200: ArtifactStats },
      },
    },
    async () => ctx.artifacts.records.stats(),
  );

  app.post(
    '/api/v1/artifacts/collect',
    {
      config: { scope: 'admin' },
      schema: {
        operationId: 'collectArtifacts',
        tags: ['artifacts'],
        summary: 'Delete expired artifacts and unreferenced blobs now, rather than at the next hourly sweep',
        response: { 200: CollectResult, ...errorResponses(401, 403) },
      },
    },
    async () => ctx.artifacts.collect(),
  );
}

async function serveBlob(ctx: ApiContext, sha256: string, request: FastifyRequest, reply: FastifyReply) {
  const blob = await ctx.artifacts.records.blob(sha256);
  const stored = blob ? await ctx.artifacts.blobs.size(sha256) : null;
  if (!blob || stored !== blob.size) {
    if (blob) request.log.error({ sha256, expected: blob.size, stored }, 'a stored blob is missing or damaged');
    throw new ApiError('not-found', `no blob with sha256 ${sha256}`);
  }
  return sendStoredBytes(request, reply, {
    blobs: ctx.artifacts.blobs,
    sha256,
    size: blob.size,
    etag: `"${sha256}"`,
    cacheControl: IMMUTABLE,
    contentType: blob.content_type,
  });
}

/**
 * An answer given before the request's body was read: the client may still be sending it, so
 * the connection is closed after the answer rather than drained.
 */
export function closeIfBodyPending(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (!request.raw.complete) reply.header('connection', 'close');
  return reply;
}
