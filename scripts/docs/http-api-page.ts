import { fieldTable } from './field-table.ts';
import { anchor, byText, code, generatedNotice, page, table } from './markdown.ts';
import { type JsonSchema, type RefResolver, schemaFields, typeName } from './schema-fields.ts';

interface Parameter {
  in: string;
  name: string;
  required?: boolean;
  description?: string;
  schema?: JsonSchema;
}

interface MediaTypes {
  content?: Record<string, { schema?: JsonSchema }>;
}

interface Operation {
  operationId?: string;
  summary?: string;
  description?: string;
  tags?: string[];
  parameters?: Parameter[];
  requestBody?: MediaTypes;
  responses?: Record<string, MediaTypes & { description?: string }>;
  /** What the route needs to be called (coordinator api/auth.ts puts it in the document). */
  'x-switchyard-auth'?: string;
}

/** The parts of an OpenAPI 3.0 document the page reads. */
export interface OpenApiDocument {
  info: { title: string; description?: string };
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, JsonSchema> };
}

interface Route {
  method: string;
  path: string;
  tag: string;
  operation: Operation;
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];

function routesOf(document: OpenApiDocument): Route[] {
  const routes = Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.entries(methods)
      .filter(([method]) => METHODS.includes(method))
      .map(([method, operation]) => ({
        method: method.toUpperCase(),
        path,
        tag: operation.tags?.[0] ?? 'other',
        operation,
      })),
  );
  return routes.sort((a, b) => byText(a.tag, b.tag) || byText(a.path, b.path) || byText(a.method, b.method));
}

function title(route: Route): string {
  return `${route.method} ${route.path}`;
}

/**
 * The HTTP API reference: the error codes, an index of every route, then per tag each route's
 * auth, parameters, body fields and responses. `errorStatus` is the API's error vocabulary.
 */
export function renderHttpApiPage(
  document: OpenApiDocument,
  errorStatus: Readonly<Record<string, number>>,
  source: string,
): string {
  const resolve: RefResolver = (ref) => document.components?.schemas?.[ref.replace('#/components/schemas/', '')];
  const routes = routesOf(document);
  const tags = [...new Set(routes.map((route) => route.tag))];
  const index = table(
    ['Route', 'Auth', 'Summary'],
    routes.map((route) => [
      `[${code(title(route))}](#${anchor(title(route))})`,
      route.operation['x-switchyard-auth'] ?? '',
      route.operation.summary ?? route.operation.operationId ?? '',
    ]),
  );
  const errors = table(
    ['Code', 'Status'],
    Object.entries(errorStatus)
      .sort(([a], [b]) => byText(a, b))
      .map(([name, status]) => [code(name), String(status)]),
  );
  return page([
    generatedNotice(source),
    `# HTTP API reference: ${document.info.title}`,
    document.info.description ?? null,
    index,
    '## Errors',
    'Every error answer has the body `ErrorResponse`: `{ "error": { "code", "message", "details" } }`. The codes and their statuses:',
    errors,
    ...tags.flatMap((tag) => [
      `## ${tag}`,
      ...routes.filter((route) => route.tag === tag).map((route) => renderRoute(route, resolve)),
    ]),
  ]);
}

function bodyTables(media: MediaTypes | undefined, resolve: RefResolver, what: string): string[] {
  return Object.entries(media?.content ?? {})
    .sort(([a], [b]) => byText(a, b))
    .map(([type, { schema }]) => {
      const fields = schema ? schemaFields(schema, '', resolve) : [];
      const heading = `${what} (${code(type)}): ${schema ? typeName(schema, resolve) : 'bytes'}`;
      return page([heading, fields.length > 0 ? fieldTable(fields) : null]).trimEnd();
    });
}

/** What each content type of a response carries: a named schema (the error body) by its title, else its type. */
function bodyNames(media: MediaTypes, resolve: RefResolver): string {
  return Object.entries(media.content ?? {})
    .map(([type, { schema }]) => {
      const target = schema && typeof schema.$ref === 'string' ? resolve(schema.$ref) : undefined;
      const name =
        typeof target?.title === 'string' ? `[${target.title}](#errors)` : schema ? typeName(schema, resolve) : '';
      return `${code(type)} ${name}`.trim();
    })
    .join(', ');
}

function renderRoute(route: Route, resolve: RefResolver): string {
  const { operation } = route;
  const parameters = [...(operation.parameters ?? [])];
  const parameterTable =
    parameters.length === 0
      ? null
      : table(
          ['Parameter', 'In', 'Type', 'Description'],
          parameters.map((p) => [
            code(p.name),
            p.in,
            `${p.schema ? typeName(p.schema, resolve) : 'string'}${p.required ? ', required' : ''}`,
            p.description ?? (p.schema?.description as string | undefined) ?? '',
          ]),
        );
  const responses = Object.entries(operation.responses ?? {}).sort(([a], [b]) => byText(a, b));
  const responseTable = table(
    ['Status', 'Body', 'Description'],
    responses.map(([status, response]) => [
      status,
      bodyNames(response, resolve),
      // @fastify/swagger's placeholder says nothing; a response's own description does.
      response.description === 'Default Response' ? '' : (response.description ?? ''),
    ]),
  );
  const success = responses.filter(([status]) => Number(status) < 400);
  return page([
    `### ${title(route)}`,
    operation.summary ?? null,
    operation.description ?? null,
    [
      operation.operationId ? `Operation: ${code(operation.operationId)}.` : null,
      operation['x-switchyard-auth'] ? `Auth: ${code(operation['x-switchyard-auth'])}.` : null,
    ]
      .filter(Boolean)
      .join(' ') || null,
    parameterTable,
    ...bodyTables(operation.requestBody, resolve, 'Request body'),
    responseTable,
    ...success.flatMap(([status, response]) => bodyTables(response, resolve, `Response ${status}`)),
  ]).trimEnd();
}
