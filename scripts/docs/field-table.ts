import { code, table } from './markdown.ts';
import type { SchemaField } from './schema-fields.ts';

/** Fields as a table: path, type, default (or "required"), and what it means. */
export function fieldTable(fields: readonly SchemaField[]): string {
  return table(
    ['Field', 'Type', 'Default', 'Description'],
    fields.map((field) => [
      code(field.path),
      field.type,
      field.defaultValue !== null ? code(field.defaultValue) : field.required ? '_required_' : '',
      field.description,
    ]),
  );
}
