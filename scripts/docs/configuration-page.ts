import { fieldTable } from './field-table.ts';
import { anchor, code, generatedNotice, page } from './markdown.ts';
import { type JsonSchema, schemaFields } from './schema-fields.ts';

/** One config file: its schema, and where the schema is defined (named in the page). */
export interface ConfigFile {
  title: string;
  /** The source file of the schema, relative to the repository. */
  source: string;
  schema: JsonSchema;
}

/**
 * The configuration reference: per file, one section per top-level key with every setting
 * beneath it at its full path (`builders[].steps[].run`).
 */
export function renderConfigurationPage(files: readonly ConfigFile[], seeAlso: string): string {
  const contents = files.map((file) => `- [${file.title}](#${anchor(file.title)})`).join('\n');
  return page([
    generatedNotice(files.map((file) => file.source).join(', ')),
    '# Configuration reference',
    contents,
    seeAlso,
    ...files.map(renderConfigFile),
  ]);
}

function renderConfigFile(file: ConfigFile): string {
  const fields = schemaFields(file.schema);
  const topLevel = fields.filter((field) => !field.path.includes('.') && !field.path.includes('['));
  const sections = topLevel.map((top) => {
    const own = fields.filter((field) => field.path === top.path || isBelow(field.path, top.path));
    return page([`### ${code(top.path)}`, fieldTable(own)]).trimEnd();
  });
  const description = typeof file.schema.description === 'string' ? file.schema.description : null;
  return page([`## ${file.title}`, description, `Schema: ${code(file.source)}.`, ...sections]).trimEnd();
}

function isBelow(path: string, parent: string): boolean {
  return path.startsWith(`${parent}.`) || path.startsWith(`${parent}[`);
}
