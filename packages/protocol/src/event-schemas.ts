import Type from 'typebox';
import { EVENT_DATA, EVENT_DESCRIPTIONS, type EventType } from './events.ts';

/** Where the coordinator serves the JSON Schema of an event type. */
export function eventSchemaPath(type: EventType): string {
  return `/api/v1/schemas/events/${type}.json`;
}

/** The routing key's words after the type, per kind of event (see routing-key.ts). */
const ROUTING_KEY_WORDS: Record<'job' | 'push' | 'worker' | 'none', string> = {
  job: '<repo>.<branch>.<builder>.<result>',
  push: '<repo>.<branch>.<result>',
  worker: '<pool>.<worker>',
  none: '',
};

function routingKeyLayout(type: EventType): string {
  const data = EVENT_DATA[type] as { properties?: Record<string, unknown> };
  const properties = data.properties ?? {};
  const kind = 'job' in properties ? 'job' : 'push' in properties ? 'push' : 'worker' in properties ? 'worker' : 'none';
  return kind === 'none' ? type : `${type}.${ROUTING_KEY_WORDS[kind]}`;
}

/**
 * The JSON Schema (draft 2020-12) of one event type: the envelope every event has, with this
 * type's `data`. Generated from the TypeBox definitions the coordinator itself types its
 * events with, so the two cannot drift.
 */
export function eventSchemaDocument(type: EventType): Record<string, unknown> {
  const { version, description } = EVENT_DESCRIPTIONS[type];
  const envelope = Type.Object({
    id: Type.Integer({ minimum: 1, description: 'increases in commit order; resume after it' }),
    type: Type.Literal(type),
    time: Type.String({ format: 'date-time', description: 'commit time, ISO 8601 UTC' }),
    routingKey: Type.String({ description: `layout: ${routingKeyLayout(type)}` }),
    data: EVENT_DATA[type],
  });
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: eventSchemaPath(type),
    title: type,
    description,
    version,
    'x-routing-key': routingKeyLayout(type),
    // JSON round trip: TypeBox marks schemas with symbol keys, which are not part of the document.
    ...(JSON.parse(JSON.stringify(envelope)) as Record<string, unknown>),
  };
}
