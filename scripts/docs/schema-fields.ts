import { ENV_NAME_PATTERN, LINE_PATTERN, patternMeaning, TEXT_PATTERN } from '@switchyard/protocol';

/** A JSON Schema as TypeBox and @fastify/swagger write it: plain JSON, read loosely. */
export type JsonSchema = { [keyword: string]: unknown };

/** One setting or field of a schema, flattened to the dotted path a reader writes it at. */
export interface SchemaField {
  /** `builders[].steps[].run`: `[]` for an array's items, `<key>` for a map's keys. */
  path: string;
  /** `string`, `integer`, `"git" | "hg"`, `string or string[]`. */
  type: string;
  required: boolean;
  /** The schema's `default`, as JSON; null without one. */
  defaultValue: string | null;
  /** The schema's description, then what the value may be (range, length, pattern in words). */
  description: string;
}

/** Finds the schema a `$ref` names (an OpenAPI document's components); undefined when it can't. */
export type RefResolver = (ref: string) => JsonSchema | undefined;

const noRefs: RefResolver = () => undefined;

function deref(schema: JsonSchema, resolve: RefResolver): JsonSchema {
  let current = schema;
  // A ref may name another ref; a handful of hops is plenty, and a cycle must not hang the generator.
  for (let hops = 0; typeof current.$ref === 'string' && hops < 8; hops++) {
    const target = resolve(current.$ref);
    if (!target) return current;
    current = target;
  }
  return current;
}

function properties(schema: JsonSchema): Record<string, JsonSchema> | null {
  return typeof schema.properties === 'object' && schema.properties !== null
    ? (schema.properties as Record<string, JsonSchema>)
    : null;
}

/** The schema of a map's values: TypeBox's Record writes `patternProperties`, others `additionalProperties`. */
function mapValues(schema: JsonSchema): JsonSchema | null {
  if (properties(schema)) return null;
  const patterns = schema.patternProperties as Record<string, JsonSchema> | undefined;
  const first = patterns ? Object.values(patterns)[0] : undefined;
  if (first) return first;
  const extra = schema.additionalProperties;
  return typeof extra === 'object' && extra !== null ? (extra as JsonSchema) : null;
}

function branches(schema: JsonSchema): JsonSchema[] | null {
  const list = schema.anyOf ?? schema.oneOf;
  return Array.isArray(list) ? (list as JsonSchema[]) : null;
}

/** The type of a value in a reader's words: what a YAML or JSON author writes there. */
export function typeName(schema: JsonSchema, resolve: RefResolver = noRefs): string {
  const s = deref(schema, resolve);
  const nullable = s.nullable === true ? ' or null' : '';
  if ('const' in s) return JSON.stringify(s.const);
  if (Array.isArray(s.enum)) return s.enum.map((v) => JSON.stringify(v)).join(' | ') + nullable;
  const options = branches(s);
  if (options) return [...new Set(options.map((o) => typeName(o, resolve)))].join(' or ') + nullable;
  if (Array.isArray(s.type)) return s.type.join(' or ');
  switch (s.type) {
    case 'array': {
      const items = typeName((s.items as JsonSchema | undefined) ?? {}, resolve);
      return `${items.includes(' ') ? `(${items})` : items}[]${nullable}`;
    }
    case 'object': {
      const values = mapValues(s);
      return (values ? `map of ${typeName(values, resolve)}` : 'object') + nullable;
    }
    case 'string':
      return (typeof s.format === 'string' ? `string (${s.format})` : 'string') + nullable;
    case undefined:
      return 'any';
    default:
      return String(s.type) + nullable;
  }
}

function range(s: JsonSchema, unit: string, min: string, max: string): string | null {
  const low = s[min] as number | undefined;
  const high = s[max] as number | undefined;
  const of = (n: number) => (unit ? ` ${unit}${n === 1 ? '' : 's'}` : '');
  if (low !== undefined && high !== undefined) {
    return low === high ? `exactly ${low}${of(low)}` : `${low} to ${high}${of(high)}`;
  }
  if (low !== undefined) return `at least ${low}${of(low)}`;
  if (high !== undefined) return `at most ${high}${of(high)}`;
  return null;
}

/** What a value may be, in words: a range, a length, a pattern's meaning; none for unions. */
export function constraints(schema: JsonSchema, resolve: RefResolver = noRefs): string[] {
  const s = deref(schema, resolve);
  const found: string[] = [];
  const numbers = range(s, '', 'minimum', 'maximum');
  if (numbers) found.push(numbers);
  if (typeof s.exclusiveMinimum === 'number') found.push(`more than ${s.exclusiveMinimum}`);
  if (typeof s.exclusiveMaximum === 'number') found.push(`less than ${s.exclusiveMaximum}`);
  // A minimum length of 1 says "not empty", which every pattern below implies anyway or the reader assumes.
  const lengths =
    s.minLength === 1 && s.maxLength === undefined ? null : range(s, 'character', 'minLength', 'maxLength');
  if (lengths) found.push(lengths);
  // Every line and text field refuses control characters, and an environment variable's name is
  // what the shell takes; saying so on each field would bury the rest.
  const everyText = s.pattern === LINE_PATTERN || s.pattern === TEXT_PATTERN || s.pattern === ENV_NAME_PATTERN;
  if (typeof s.pattern === 'string' && !everyText) found.push(patternMeaning(s.pattern) ?? `matches \`${s.pattern}\``);
  const items = range(s, 'item', 'minItems', 'maxItems');
  if (items) found.push(items);
  if (s.type === 'array' && s.items) {
    const each = constraints(s.items as JsonSchema, resolve);
    if (each.length > 0) found.push(`each: ${each.join(', ')}`);
  }
  if (s.propertyNames) {
    const keys = constraints(s.propertyNames as JsonSchema, resolve);
    if (keys.length > 0) found.push(`keys: ${keys.join(', ')}`);
  }
  return found;
}

/** A union's own description, else its branches' (`string, described, or null` is written that way). */
function descriptionOf(schema: JsonSchema, resolve: RefResolver): string | undefined {
  const s = deref(schema, resolve);
  const own = schema.description ?? s.description;
  if (typeof own === 'string') return own;
  const found = (branches(s) ?? []).map((option) => descriptionOf(option, resolve)).filter((d) => d !== undefined);
  return found.length > 0 ? [...new Set(found)].join('; ') : undefined;
}

function describe(schema: JsonSchema, resolve: RefResolver): string {
  const s = deref(schema, resolve);
  const text = descriptionOf(schema, resolve) ?? '';
  const limits = constraints(s, resolve);
  if (limits.length === 0) return text;
  return text ? `${text} (${limits.join('; ')})` : limits.join('; ');
}

/**
 * Every field of an object schema and of the objects inside it, depth first in the schema's own
 * order, each at its full path under `prefix`. Objects reached through arrays, unions and maps are
 * walked too (`builders[].steps[].run`, `env.<key>`), so nothing a reader may write is left out.
 */
export function schemaFields(schema: JsonSchema, prefix = '', resolve: RefResolver = noRefs): SchemaField[] {
  const s = deref(schema, resolve);
  const props = properties(s);
  if (!props) return [];
  const required = new Set(Array.isArray(s.required) ? (s.required as string[]) : []);
  return Object.entries(props).flatMap(([key, child]) => {
    const path = prefix ? `${prefix}.${key}` : key;
    const field: SchemaField = {
      path,
      type: typeName(child, resolve),
      required: required.has(key),
      defaultValue: 'default' in child ? JSON.stringify(child.default) : null,
      description: describe(child, resolve),
    };
    return [field, ...nestedFields(child, path, resolve)];
  });
}

function nestedFields(schema: JsonSchema, path: string, resolve: RefResolver): SchemaField[] {
  const s = deref(schema, resolve);
  if (properties(s)) return schemaFields(s, path, resolve);
  const options = branches(s);
  if (options) return mergeBranches(options.map((option) => nestedFields(option, path, resolve)));
  if (s.type === 'array' && s.items) return nestedFields(s.items as JsonSchema, `${path}[]`, resolve);
  const values = mapValues(s);
  return values ? nestedFields(values, `${path}.<key>`, resolve) : [];
}

/**
 * The fields of a union's object branches (the kinds of a report entry, say) as one list: a
 * path in several branches gets each branch's type, and is required only if every branch
 * requires it.
 */
function mergeBranches(perBranch: SchemaField[][]): SchemaField[] {
  const objects = perBranch.filter((fields) => fields.length > 0);
  const byPath = new Map<string, SchemaField[]>();
  for (const field of objects.flat()) byPath.set(field.path, [...(byPath.get(field.path) ?? []), field]);
  return [...byPath.values()].map((same) => {
    const [first] = same as [SchemaField, ...SchemaField[]];
    return {
      path: first.path,
      type: [...new Set(same.map((field) => field.type))].join(' or '),
      required: same.length === objects.length && same.every((field) => field.required),
      defaultValue: same.find((field) => field.defaultValue !== null)?.defaultValue ?? null,
      description: same.find((field) => field.description !== '')?.description ?? '',
    };
  });
}
