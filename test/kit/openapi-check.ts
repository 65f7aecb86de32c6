// Checks a real answer against the OpenAPI document (docs/openapi.json): its status is one the
// operation lists, its media type one the status lists, its JSON body matches the schema. The
// schema check covers the keywords the document uses (type, properties, required, items, enum,
// const, anyOf, $ref to components); it is not a full JSON Schema validator.
import type { HttpResponse } from './http.js';

type Schema = Record<string, any>;
export type OpenApiDocument = { paths: Record<string, Record<string, Schema>>; components: { schemas: Record<string, Schema> } };

function typeMatches(type: string, value: unknown): boolean {
  switch (type) {
    case 'null':
      return value === null;
    case 'integer':
      return Number.isInteger(value);
    case 'number':
      return typeof value === 'number';
    case 'array':
      return Array.isArray(value);
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value);
    default:
      return typeof value === type;
  }
}

/** Where `value` does not match `schema`, as `path: why` lines (empty when it matches). */
export function schemaProblems(doc: OpenApiDocument, schema: Schema, value: unknown, path = '$'): string[] {
  if (schema.$ref !== undefined) {
    const name = String(schema.$ref).replace('#/components/schemas/', '');
    const target = doc.components.schemas[name];
    if (!target) return [`${path}: unknown $ref ${schema.$ref}`];
    return schemaProblems(doc, target, value, path);
  }
  if (schema.anyOf !== undefined) {
    const each = (schema.anyOf as Schema[]).map((s) => schemaProblems(doc, s, value, path));
    return each.some((p) => p.length === 0) ? [] : [`${path}: matches no anyOf branch (${each.flat().join('; ')})`];
  }
  const types: string[] = schema.type === undefined ? [] : [schema.type].flat();
  if (types.length > 0 && !types.some((t) => typeMatches(t, value))) return [`${path}: ${JSON.stringify(value)} is not ${types.join('|')}`];
  if (schema.enum !== undefined && !(schema.enum as unknown[]).includes(value)) return [`${path}: ${JSON.stringify(value)} not in ${JSON.stringify(schema.enum)}`];
  if (schema.const !== undefined && value !== schema.const) return [`${path}: ${JSON.stringify(value)} is not ${JSON.stringify(schema.const)}`];
  const problems: string[] = [];
  if (Array.isArray(value) && schema.items) value.forEach((item, i) => problems.push(...schemaProblems(doc, schema.items, item, `${path}[${i}]`)));
  if (typeMatches('object', value)) {
    const object = value as Record<string, unknown>;
    for (const key of (schema.required as string[] | undefined) ?? []) if (!(key in object)) problems.push(`${path}: no ${key}`);
    for (const [key, sub] of Object.entries((schema.properties as Record<string, Schema> | undefined) ?? {})) {
      if (key in object) problems.push(...schemaProblems(doc, sub, object[key], `${path}.${key}`));
    }
    if (typeof schema.additionalProperties === 'object') {
      for (const [key, item] of Object.entries(object)) if (!(key in (schema.properties ?? {}))) problems.push(...schemaProblems(doc, schema.additionalProperties, item, `${path}.${key}`));
    }
  }
  return problems;
}

/** Where the answer `res` to `method` on the document's `pathTemplate` departs from the document. */
export function answerProblems(doc: OpenApiDocument, method: string, pathTemplate: string, res: HttpResponse): string[] {
  const operation = doc.paths[pathTemplate]?.[method.toLowerCase()];
  const what = `${method} ${pathTemplate} ${res.status}`;
  if (!operation) return [`${method} ${pathTemplate}: not in the document`];
  const response = operation.responses[String(res.status)];
  if (!response) return [`${what}: status not listed (listed: ${Object.keys(operation.responses).join(', ')})`];
  if (response.content === undefined) return res.body.length === 0 ? [] : [`${what}: a body where the document says none`];
  const mediaType = (res.headers.get('content-type') ?? '').split(';')[0]!.trim();
  const media = response.content[mediaType] ?? response.content['*/*'];
  if (!media) return [`${what}: content type ${mediaType} not listed (${Object.keys(response.content).join(', ')})`];
  if (mediaType !== 'application/json') return [];
  return schemaProblems(doc, media.schema, res.json()).map((p) => `${what}: ${p}`);
}
