import {
  ApiError,
  Sha512Hex,
  TOOL_FILENAME_HEADER,
  TOOL_VISIBILITY_HEADER,
  TOOLS_BASE_PATH,
  ToolFilename,
  ToolRecord,
} from '@switchyard/protocol';
import type { FastifyRequest } from 'fastify';
import Type from 'typebox';
import { type App, errorResponses } from '../app-types.ts';
import type { ApiContext } from '../context.ts';
import { sendStoredBytes } from '../stored-bytes.ts';
import { closeIfBodyPending } from './artifacts.ts';

const ToolParams = Type.Object({ digest: Sha512Hex });
const TOOL_PATH = `${TOOLS_BASE_PATH}/sha512/:digest`;
const Bytes = { description: 'the bytes', type: 'string', format: 'binary' };
/** Who may read an internal tool: the farm's read rule, as for artifacts (`public_read` waives it; a running attempt's credential reads). */
const READERS = 'read';

/**
 * The tool store, tooltool-compatible: uploads by sha512 (streamed, never parsed), downloads at
 * `<base>/sha512/<digest>` that any tooltool-style client fetches, the listing, and deletion.
 */
export function registerToolRoutes(app: App, ctx: ApiContext): void {
  app.register(async (uploads: App) => {
    // The body is streamed to disk by the handler: no parser may read it first, whatever its type.
    uploads.removeAllContentTypeParsers();
    uploads.addContentTypeParser('*', (_request, _payload, done) => done(null));
    uploads.put(
      TOOL_PATH,
      {
        config: { scope: 'push' },
        schema: {
          operationId: 'uploadTool',
          tags: ['tools'],
          summary:
            'Upload a tool file (streamed), addressed by its sha512. Content-Length is required; ' +
            `${TOOL_VISIBILITY_HEADER}: public|internal (default internal) and ${TOOL_FILENAME_HEADER}: <name> ` +
            'are optional. With Expect: 100-continue, refusals (400/401/403/409/411/413) and a digest stored ' +
            'already (200) are answered before the body. 201: stored. 400 digest-mismatch: the body is not ' +
            'that sha512, nothing kept. 409: stored with another visibility.',
          params: ToolParams,
          response: {
            200: ToolRecord,
            201: ToolRecord,
            ...errorResponses(400, 401, 403, 409, 411, 413),
          },
        },
      },
      async (request, reply) => {
        try {
          const upload = ctx.tools.admit(request.params.digest, request.headers);
          const stored = await ctx.tools.recordIfStored(upload);
          if (stored) return closeIfBodyPending(request, reply).code(200).send(stored);
          const { tool, created } = await ctx.tools.receive(upload, request.raw);
          return reply.code(created ? 201 : 200).send(tool);
        } catch (error) {
          ctx.toolMetrics.uploads.inc({ outcome: 'refused' });
          closeIfBodyPending(request, reply);
          throw error;
        }
      },
    );
  });

  app.get(
    TOOL_PATH,
    {
      config: { scopeFor: (request) => scopeToRead(ctx, request) },
      schema: {
        operationId: 'getTool',
        tags: ['tools'],
        summary:
          'A tool file by sha512 (GET or HEAD): a public one to anyone, an internal one under the read rule. ' +
          'Immutable: ETag is the quoted digest; Cache-Control public for a year when anyone may read it, else private; honours Range ' +
          '(206, 416), If-Range and If-None-Match (304); with blobs on S3 and server.blobs.redirect_downloads, a 307 to a presigned URL',
        params: ToolParams,
        response: {
          200: Bytes,
          206: Bytes,
          304: { description: 'not modified', type: 'null' },
          307: { description: 'Location: a presigned URL of the blob in S3, valid for 5 minutes', type: 'null' },
          ...errorResponses(400, 401, 403, 404, 416),
        },
      },
    },
    async (request, reply) => {
      const { digest } = request.params;
      const tool = await ctx.tools.records.find(digest);
      const stored = tool ? await ctx.tools.blobs.size(tool.sha256) : null;
      if (!tool || stored !== tool.size) {
        if (tool) request.log.error({ sha512: digest, expected: tool.size, stored }, 'a tool is missing or damaged');
        throw new ApiError('not-found', `no tool with sha512 ${digest}`);
      }
      await sendStoredBytes(request, reply, {
        blobs: ctx.tools.blobs,
        sha256: tool.sha256,
        size: tool.size,
        etag: `"${digest}"`,
        // A shared cache serves what it stores without asking for a token: it may store what the
        // coordinator itself would give anyone, and nothing else.
        cacheControl: `${tool.visibility === 'public' || ctx.farm().publicRead ? 'public' : 'private'}, max-age=31536000, immutable`,
        contentType: 'application/octet-stream',
      });
      if (request.method === 'GET' && [200, 206, 307].includes(reply.statusCode)) {
        ctx.toolMetrics.downloads.inc({ visibility: tool.visibility });
      }
      return reply;
    },
  );

  app.get(
    TOOLS_BASE_PATH,
    {
      config: { scope: READERS },
      schema: {
        operationId: 'listTools',
        tags: ['tools'],
        summary: 'The tools stored, newest first; ?filename= keeps those uploaded under that name',
        querystring: Type.Object({ filename: Type.Optional(ToolFilename) }),
        response: { 200: Type.Object({ tools: Type.Array(ToolRecord) }), ...errorResponses(400, 401, 403) },
      },
    },
    async (request) => ({ tools: await ctx.tools.records.list(request.query.filename) }),
  );

  app.delete(
    TOOL_PATH,
    {
      config: { scope: 'admin' },
      schema: {
        operationId: 'deleteTool',
        tags: ['tools'],
        summary: 'Remove a tool; its bytes go at the next collection unless an artifact shares them',
        params: ToolParams,
        response: { 204: Type.Null({ description: 'deleted' }), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      await ctx.tools.records.delete(request.params.digest);
      return reply.code(204).send(null);
    },
  );
}

/**
 * A public tool is anyone's to download; an internal one, or a digest the store does not hold
 * (so that a 404 tells nothing about internal tools), needs the read rule.
 */
async function scopeToRead(ctx: ApiContext, request: FastifyRequest) {
  const { digest } = request.params as { digest: string };
  return (await ctx.tools.records.visibilityOf(digest)) === 'public' ? null : READERS;
}
