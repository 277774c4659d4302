import { TypeBoxValidatorCompiler } from '@fastify/type-provider-typebox';
import { patternMeaning, quoted } from '@switchyard/protocol';
import type { FastifySchemaCompiler, FastifySchemaValidationError } from 'fastify';
import type { TSchema } from 'typebox';

const WHOLE_NUMBER = /^-?[0-9]+$/;
const DECIMAL_NUMBER = /^-?[0-9]+(\.[0-9]+)?$/;

/**
 * The TypeBox validator, stricter where it converts and clearer where it refuses:
 * - a number in a path or query is written in plain decimal digits. Conversion alone reads
 *   `158.9` as job 158 and takes `1e0`, `0x1` and ` 1` too, and `1e300` as an event id that
 *   never comes;
 * - a value that fails a pattern is told what the pattern asks for in words (protocol/text.ts),
 *   not the regular expression, and a key that fails its map's `propertyNames` is named once,
 *   cut short, at the map's path.
 */
export const requestValidatorCompiler: FastifySchemaCompiler<TSchema> = (route) => {
  const validate = TypeBoxValidatorCompiler(route);
  const numbers = route.httpPart === 'body' ? [] : numberProperties(route.schema);
  return (value) => {
    const refused = numbers.flatMap(({ name, integer }) => {
      const raw = (value as Record<string, unknown> | null)?.[name];
      return typeof raw === 'string' && !isPlainNumber(raw, integer) ? [notPlainNumber(name, integer)] : [];
    });
    if (refused.length > 0) return { error: refused };
    const result = validate(value) as { value?: unknown; error?: FastifySchemaValidationError[] };
    if (result.error) return { error: result.error.filter((e) => e.keyword !== 'propertyNames').map(inWords) };
    return result;
  };
};

interface NumberProperty {
  name: string;
  integer: boolean;
}

/** The properties of a path or query schema that hold numbers. */
function numberProperties(schema: unknown): NumberProperty[] {
  const properties = (schema as { properties?: Record<string, { type?: unknown }> }).properties ?? {};
  return Object.entries(properties).flatMap(([name, property]) =>
    property.type === 'integer' || property.type === 'number' ? [{ name, integer: property.type === 'integer' }] : [],
  );
}

function isPlainNumber(raw: string, integer: boolean): boolean {
  if (!(integer ? WHOLE_NUMBER : DECIMAL_NUMBER).test(raw)) return false;
  const number = Number(raw);
  return integer ? Number.isSafeInteger(number) : Number.isFinite(number);
}

function notPlainNumber(name: string, integer: boolean): FastifySchemaValidationError {
  return {
    keyword: 'type',
    instancePath: `/${name}`,
    schemaPath: `#/properties/${name}`,
    params: {},
    message: integer
      ? `expected a whole number written in decimal digits, at most ${Number.MAX_SAFE_INTEGER}`
      : 'expected a number written in decimal digits',
  };
}

function inWords(error: FastifySchemaValidationError): FastifySchemaValidationError {
  const meaning =
    error.keyword === 'pattern' ? patternMeaning(String((error.params as { pattern?: unknown }).pattern)) : null;
  const message = meaning === null ? error.message : `expected ${meaning}`;
  if (!error.schemaPath.endsWith('/propertyNames')) return { ...error, message };
  const parts = error.instancePath.split('/');
  const key = (parts.pop() as string).replace(/~1/g, '/').replace(/~0/g, '~');
  return { ...error, instancePath: parts.join('/'), message: `key ${quoted(key)}: ${message}` };
}
