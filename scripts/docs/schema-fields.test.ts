import { FarmConfig } from '@switchyard/protocol';
import Type from 'typebox';
import { describe, expect, it } from 'vitest';
import { constraints, type JsonSchema, schemaFields, typeName } from './schema-fields.ts';

const plain = (schema: unknown) => JSON.parse(JSON.stringify(schema)) as JsonSchema;

describe('schemaFields', () => {
  const Step = Type.Object({ name: Type.String(), run: Type.String({ description: 'command line' }) });
  const Schema = plain(
    Type.Object({
      builders: Type.Array(
        Type.Object({
          steps: Type.Array(Step, { minItems: 1 }),
          artifacts: Type.Optional(Type.Array(Type.Union([Type.String(), Type.Object({ path: Type.String() })]))),
          tags: Type.Optional(Type.Record(Type.String(), Type.Object({ value: Type.Integer({ minimum: 0 }) }))),
        }),
      ),
      mode: Type.Optional(Type.Enum(['fast', 'slow'], { default: 'fast', description: 'how' })),
    }),
  );

  it('walks arrays, unions and maps down to every field, at the path a reader writes it at', () => {
    expect(schemaFields(Schema).map((field) => field.path)).toEqual([
      'builders',
      'builders[].steps',
      'builders[].steps[].name',
      'builders[].steps[].run',
      'builders[].artifacts',
      'builders[].artifacts[].path',
      'builders[].tags',
      'builders[].tags.<key>.value',
      'mode',
    ]);
  });

  it('says the type, whether it is required, the default and the description', () => {
    const fields = new Map(schemaFields(Schema).map((field) => [field.path, field]));
    expect(fields.get('builders[].steps')).toMatchObject({
      type: 'object[]',
      required: true,
      description: 'at least 1 item',
    });
    expect(fields.get('builders[].steps[].run')).toMatchObject({
      type: 'string',
      required: true,
      description: 'command line',
    });
    expect(fields.get('builders[].artifacts')?.type).toBe('(string or object)[]');
    expect(fields.get('builders[].tags')?.type).toBe('map of object');
    expect(fields.get('mode')).toEqual({
      path: 'mode',
      type: '"fast" | "slow"',
      required: false,
      defaultValue: '"fast"',
      description: 'how',
    });
  });

  it("merges a union's object branches: each branch's type, required only where every branch requires it", () => {
    const Entry = plain(
      Type.Union([
        Type.Object({ kind: Type.Literal('log'), seq: Type.Integer(), at: Type.String() }),
        Type.Object({ kind: Type.Literal('end'), at: Type.String(), code: Type.Optional(Type.Integer()) }),
      ]),
    );
    const fields = schemaFields({ type: 'object', properties: { entries: { type: 'array', items: Entry } } });
    expect(fields.map(({ path, type, required }) => ({ path, type, required }))).toEqual([
      { path: 'entries', type: 'object[]', required: false },
      { path: 'entries[].kind', type: '"log" or "end"', required: true },
      { path: 'entries[].seq', type: 'integer', required: false },
      { path: 'entries[].at', type: 'string', required: true },
      { path: 'entries[].code', type: 'integer', required: false },
    ]);
  });

  it("takes a nullable field's description from its described branch", () => {
    const schema = plain(
      Type.Object({ reason: Type.Union([Type.String({ description: 'why, e.g. worker-lost' }), Type.Null()]) }),
    );
    expect(schemaFields(schema)[0]).toMatchObject({ type: 'string or null', description: 'why, e.g. worker-lost' });
  });

  it('follows $refs through the resolver, as in an OpenAPI document', () => {
    const components: Record<string, JsonSchema> = { Step: plain(Step) };
    const schema = { type: 'object', properties: { step: { $ref: '#/components/schemas/Step' } } };
    const fields = schemaFields(schema, '', (ref) => components[ref.split('/').at(-1) as string]);
    expect(fields.map((field) => field.path)).toEqual(['step', 'step.name', 'step.run']);
  });

  it('covers the farm config to its deepest settings', () => {
    const fields = new Map(schemaFields(plain(FarmConfig)).map((field) => [field.path, field]));
    expect(fields.get('builders[].steps[].run')).toMatchObject({ type: 'string', required: true });
    expect(fields.get('repos[].vcs')?.type).toBe('"git" | "hg"');
    expect(fields.get('events.webhooks[].filter.routing_key')?.required).toBe(false);
  });
});

describe('typeName and constraints', () => {
  it('names nullable OpenAPI types, formats and literals', () => {
    expect(typeName({ type: 'string', nullable: true })).toBe('string or null');
    expect(typeName({ type: 'string', format: 'date-time' })).toBe('string (date-time)');
    expect(typeName(plain(Type.Literal(3)))).toBe('3');
    expect(typeName({})).toBe('any');
  });

  it('puts ranges, lengths and patterns into words', () => {
    expect(constraints({ type: 'integer', minimum: 1, maximum: 20 })).toEqual(['1 to 20']);
    expect(constraints({ type: 'number', exclusiveMinimum: 0 })).toEqual(['more than 0']);
    expect(constraints({ type: 'string', minLength: 1, pattern: '^[0-9a-f]{64}$' })).toEqual([
      'a sha256 of 64 lower-case hex digits',
    ]);
    expect(constraints({ type: 'string', pattern: '^x+$' })).toEqual(['matches `^x+$`']);
    expect(constraints({ type: 'array', minItems: 1, items: { type: 'integer', minimum: 0 } })).toEqual([
      'at least 1 item',
      'each: at least 0',
    ]);
  });
});
