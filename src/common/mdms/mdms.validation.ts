import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { ErrorDetail } from '../../kernel/errors.js';

/** A master's JSON Schema (draft-07) with DIGIT's two extensions. */
export type SchemaDefinitionBody = {
  type?: unknown;
  properties?: Record<string, unknown>;
  required?: unknown;
  'x-unique'?: unknown;
  'x-ref-schema'?: unknown;
  [key: string]: unknown;
};

export type RefSchema = { fieldPath: string; schemaCode: string };

// ownProperties: a record's fields are its own; `required: ['constructor']` must not be met by Object's.
const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true, ownProperties: true });
addFormats.default(ajv);
ajv.addKeyword({ keyword: 'x-unique', schemaType: 'array' });
ajv.addKeyword({ keyword: 'x-ref-schema', schemaType: 'array' });

/** Compiled validators by schema id; definitions are immutable once created (DIGIT's `_update` is 501). */
const compiled = new Map<string, ValidateFunction>();

/** The problems with a proposed definition, as DIGIT's SchemaDefinitionValidator reports them. */
export function checkDefinition(definition: unknown): ErrorDetail[] {
  if (!definition || typeof definition !== 'object' || Array.isArray(definition)) {
    return [{ code: 'INVALID_SCHEMA_DEFINITION', message: 'SchemaDefinition.definition must be a JSON Schema object' }];
  }
  const body = definition as SchemaDefinitionBody;
  const errors: ErrorDetail[] = [];
  const required = body.required;
  if (!Array.isArray(required) || required.length === 0 || !required.every((r) => typeof r === 'string')) {
    errors.push({
      code: 'REQUIRED_ATTRIBUTE_LIST_ERR',
      message: 'SchemaDefinition.definition.required must list at least one attribute',
    });
  }
  const unique = body['x-unique'];
  if (!Array.isArray(unique) || unique.length === 0 || !unique.every((u) => typeof u === 'string' && u !== '')) {
    errors.push({
      code: 'UNIQUE_ATTRIBUTE_LIST_ERR',
      message: 'SchemaDefinition.definition.x-unique must list at least one attribute',
    });
  } else if (Array.isArray(required)) {
    const missing = unique.filter((u: string) => !required.includes(u.split('.')[0]));
    if (missing.length > 0) {
      errors.push({
        code: 'UNIQUE_ATTRIBUTE_LIST_INVALID_ERR',
        message: `x-unique attributes must also be required; not required: ${missing.join(', ')}`,
        params: missing,
      });
    }
  }
  const refs = body['x-ref-schema'];
  if (refs !== undefined && !parseRefs(refs)) {
    errors.push({
      code: 'INVALID_REF_SCHEMA_ERR',
      message: 'SchemaDefinition.definition.x-ref-schema must be a list of {fieldPath, schemaCode}',
    });
  }
  if (errors.length === 0) {
    try {
      ajv.compile(body);
    } catch (error) {
      errors.push({ code: 'INVALID_SCHEMA_DEFINITION', message: `The definition is not a valid JSON Schema: ${(error as Error).message}` });
    }
  }
  return errors;
}

function parseRefs(value: unknown): RefSchema[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const ok = value.every(
    (r) =>
      r && typeof r === 'object' && typeof (r as RefSchema).fieldPath === 'string' && typeof (r as RefSchema).schemaCode === 'string',
  );
  return ok ? (value as RefSchema[]) : undefined;
}

export function refSchemas(definition: SchemaDefinitionBody): RefSchema[] {
  return parseRefs(definition['x-ref-schema']) ?? [];
}

function describe(issue: ErrorObject): string {
  const parts = issue.instancePath.split('/').filter(Boolean);
  if (issue.keyword === 'required') parts.push(String(issue.params['missingProperty']));
  const field = ['data', ...parts].join('.');
  switch (issue.keyword) {
    case 'required':
      return `${field} is required`;
    case 'additionalProperties':
      return `${field} must not have the property "${String(issue.params['additionalProperty'])}"`;
    case 'enum':
      return `${field} must be one of ${JSON.stringify(issue.params['allowedValues'])}`;
    default:
      return `${field} ${issue.message ?? 'is invalid'}`;
  }
}

/** Validates a record's data; each violation becomes `INVALID_REQUEST_<KEYWORD><n>` as in DIGIT. */
export function validateData(schemaId: string, definition: SchemaDefinitionBody, data: unknown): ErrorDetail[] {
  let validate = compiled.get(schemaId);
  if (!validate) {
    validate = ajv.compile(definition);
    compiled.set(schemaId, validate);
  }
  if (validate(data)) return [];
  return (validate.errors ?? []).slice(0, 20).map((issue, index) => ({
    code: `INVALID_REQUEST_${issue.keyword.toUpperCase()}${index + 1}`,
    message: describe(issue),
    params: [issue.instancePath || '/'],
  }));
}

/** Values at a dot path; `*` walks every element of an array, and arrays at the end are flattened. */
export function valuesAt(data: unknown, path: string): unknown[] {
  let current: unknown[] = [data];
  for (const segment of path.replace(/^\$\./, '').split('.')) {
    const next: unknown[] = [];
    for (const value of current) {
      if (segment === '*' && Array.isArray(value)) next.push(...value);
      else if (value && typeof value === 'object' && !Array.isArray(value) && Object.hasOwn(value, segment)) {
        next.push((value as Record<string, unknown>)[segment]);
      }
    }
    current = next;
  }
  return current.flatMap((value) => (Array.isArray(value) ? value : [value])).filter((v) => v !== undefined && v !== null);
}

/**
 * DIGIT's uniqueIdentifier: the values at each `x-unique` path joined with ".".
 * Undefined when any part is missing or empty (`UNIQUE_IDENTIFIER_EMPTY_ERR`).
 */
export function uniqueIdentifierOf(definition: SchemaDefinitionBody, data: unknown): string | undefined {
  const paths = (definition['x-unique'] as string[] | undefined) ?? [];
  const parts: string[] = [];
  for (const path of paths) {
    const [value] = valuesAt(data, path);
    if (value === undefined || (typeof value === 'object' && value !== null)) return undefined;
    const text = String(value);
    if (text.trim() === '') return undefined;
    parts.push(text);
  }
  return parts.length === 0 ? undefined : parts.join('.');
}
