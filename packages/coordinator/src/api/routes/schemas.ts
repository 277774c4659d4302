import {
  ApiError,
  EVENT_DESCRIPTIONS,
  EVENT_TYPES,
  type EventType,
  eventSchemaDocument,
  eventSchemaPath,
  quoted,
} from '@switchyard/protocol';
import Type from 'typebox';
import { type App, errorResponses } from '../app-types.ts';

const SchemaIndex = Type.Object({
  events: Type.Array(
    Type.Object({ type: Type.String(), version: Type.Integer(), description: Type.String(), url: Type.String() }),
  ),
});

export function registerSchemaRoutes(app: App): void {
  app.get(
    '/api/v1/schemas/events',
    {
      schema: {
        operationId: 'listEventSchemas',
        tags: ['events'],
        summary: 'Every event type with its schema version, meaning and the URL of its JSON Schema',
        response: { 200: SchemaIndex },
      },
    },
    async () => ({
      events: EVENT_TYPES.map((type) => ({ type, ...EVENT_DESCRIPTIONS[type], url: eventSchemaPath(type) })),
    }),
  );

  app.get(
    '/api/v1/schemas/events/:file',
    {
      schema: {
        operationId: 'getEventSchema',
        tags: ['events'],
        summary: 'The JSON Schema (draft 2020-12) of one event type, e.g. /api/v1/schemas/events/job.finished.json',
        params: Type.Object({ file: Type.String({ pattern: '\\.json$' }) }),
        response: { 200: Type.Object({}, { additionalProperties: true }), ...errorResponses(400, 404) },
      },
    },
    async (request, reply) => {
      const type = request.params.file.slice(0, -'.json'.length);
      if (!(EVENT_TYPES as readonly string[]).includes(type)) {
        throw new ApiError('not-found', `no event type ${quoted(type)}`, { known: EVENT_TYPES });
      }
      return reply.type('application/schema+json').send(eventSchemaDocument(type as EventType));
    },
  );
}
