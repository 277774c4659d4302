import { fieldTable } from './field-table.ts';
import { anchor, code, generatedNotice, page, table } from './markdown.ts';
import { type JsonSchema, schemaFields } from './schema-fields.ts';

/** An event type's JSON Schema document, as the coordinator serves it at /api/v1/schemas/events/<type>.json. */
export interface EventDocument {
  title: string;
  description: string;
  version: number;
  'x-routing-key': string;
  $id: string;
  properties: { data: JsonSchema } & Record<string, JsonSchema>;
  required?: string[];
}

/** The event reference: the envelope every event has, then each type's meaning and `data` fields. */
export function renderEventsPage(documents: readonly EventDocument[], source: string): string {
  const [first] = documents;
  if (!first) throw new Error('no event types');
  // The envelope as every type has it: the first type's, less what is particular to that type.
  const envelope: JsonSchema = {
    type: 'object',
    properties: {
      ...Object.fromEntries(Object.entries(first.properties).filter(([key]) => key !== 'data')),
      type: { type: 'string', description: 'one of the types below' },
      routingKey: { type: 'string', description: "laid out as the type's section below says" },
    },
    required: first.required ?? [],
  };
  const index = table(
    ['Type', 'Version', 'Description'],
    documents.map((doc) => [`[${code(doc.title)}](#${anchor(doc.title)})`, String(doc.version), doc.description]),
  );
  return page([
    generatedNotice(source),
    '# Events reference',
    index,
    '## Every event',
    `Each event is an object with these fields and the \`data\` of its type. The \`routingKey\` follows each type's layout below.`,
    fieldTable(schemaFields(envelope)),
    ...documents.map(renderEvent),
  ]);
}

function renderEvent(doc: EventDocument): string {
  const fields = schemaFields(doc.properties.data, 'data');
  return page([
    `## ${doc.title}`,
    doc.description,
    `Version ${doc.version}. Routing key: ${code(doc['x-routing-key'])}. JSON Schema: ${code(doc.$id)}.`,
    fields.length > 0 ? fieldTable(fields) : 'No `data` fields.',
  ]).trimEnd();
}
