// An rjsf validator that never compiles code. @rjsf/validator-ajv8 compiles each schema with
// `new Function`, which the apps' Content-Security-Policy (script-src 'self', no 'unsafe-eval')
// forbids, and masters' schemas arrive at run time so they cannot be precompiled. @cfworker/json-schema
// interprets the schema instead (drafts 4, 7, 2019-09, 2020-12, formats included).
import { Validator, type OutputUnit, type Schema, type SchemaDraft } from '@cfworker/json-schema';
import {
  toErrorSchema,
  type CustomValidator,
  type ErrorTransformer,
  type RJSFSchema,
  type RJSFValidationError,
  type UiSchema,
  type ValidationData,
  type ValidatorType,
  createErrorHandler,
  unwrapErrorHandler,
  validationDataMerge,
} from '@rjsf/utils';

type Translate = (code: string, params?: Record<string, string | number>) => string;
type Data = Record<string, unknown>;

function draftOf(schema: RJSFSchema): SchemaDraft {
  const declared = typeof schema.$schema === 'string' ? schema.$schema : '';
  if (declared.includes('draft-04')) return '4';
  if (declared.includes('2019-09')) return '2019-09';
  if (declared.includes('2020-12')) return '2020-12';
  // MDMS validates with ajv's default, draft-07; undeclared schemas are read the same way.
  return '7';
}

/** The segments of a JSON pointer as @cfworker/json-schema writes them (`#/a/b~1c`, URI-encoded). */
function segments(pointer: string): string[] {
  return pointer
    .replace(/^#/, '')
    .split('/')
    .filter((s) => s !== '')
    .map((s) => decodeURIComponent(s).replace(/~1/g, '/').replace(/~0/g, '~'));
}

function at(value: unknown, path: readonly string[]): unknown {
  let current = value;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Data)[key];
  }
  return current;
}

/** Only the innermost failures: "property x does not match" wrappers repeat what their causes say. */
function leaves(errors: readonly OutputUnit[]): OutputUnit[] {
  return errors.filter((e) => !errors.some((other) => other !== e && other.keywordLocation.startsWith(`${e.keywordLocation}/`)));
}

/** A failure in the person's language, with the schema's own limit (`minimum: 1` → "at least 1"). */
function describe(error: OutputUnit, schema: RJSFSchema, t: Translate): string {
  const limit = at(schema, segments(error.keywordLocation));
  const text = (code: string, params?: Record<string, string | number>) => t(code, params);
  switch (error.keyword) {
    case 'required':
      return text('CORE_REQUIRED');
    case 'type': {
      const types = Array.isArray(limit) ? limit.map(String) : [String(limit)];
      return types.length === 1 ? text(`ADMIN_VALIDATION_TYPE_${types[0]!.toUpperCase()}`) : text('ADMIN_VALIDATION_INVALID');
    }
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
    case 'minLength':
    case 'maxLength':
    case 'minItems':
    case 'maxItems':
    case 'multipleOf':
      return text(`ADMIN_VALIDATION_${error.keyword.toUpperCase()}`, { limit: String(limit) });
    case 'pattern':
      return text('ADMIN_VALIDATION_PATTERN', { pattern: String(limit) });
    case 'enum':
      return text('ADMIN_VALIDATION_ENUM', { values: Array.isArray(limit) ? limit.map(String).join(', ') : '' });
    case 'format':
      return text('ADMIN_VALIDATION_FORMAT', { format: String(limit) });
    case 'uniqueItems':
      return text('ADMIN_VALIDATION_UNIQUEITEMS');
    default:
      return text('ADMIN_VALIDATION_INVALID');
  }
}

/** rjsf's property path (`.a.b`) of a failure; for `required`, the missing field's own path. */
function propertyOf(error: OutputUnit): string {
  const path = segments(error.instanceLocation);
  if (error.keyword === 'required') {
    const missing = /required property "(.*)"\.$/.exec(error.error)?.[1];
    if (missing !== undefined) path.push(missing);
  }
  return path.map((p) => `.${p}`).join('');
}

/**
 * Creates the validator for forms generated from masters' schemas; messages come from the
 * localization service through `t`.
 */
export function createValidator(t: Translate): ValidatorType<Data, RJSFSchema> {
  const cache = new WeakMap<object, Validator>();
  const validatorFor = (schema: RJSFSchema): Validator => {
    let validator = cache.get(schema);
    if (!validator) {
      // All errors, not the first: the person fixes every field in one pass.
      validator = new Validator(schema as Schema, draftOf(schema), false);
      cache.set(schema, validator);
    }
    return validator;
  };

  const rawValidation = <Result = OutputUnit>(schema: RJSFSchema, formData?: Data): { errors?: Result[]; validationError?: Error } => {
    try {
      const result = validatorFor(schema).validate(formData);
      return { errors: (result.valid ? [] : leaves(result.errors)) as Result[] };
    } catch (error) {
      return { validationError: error instanceof Error ? error : new Error(String(error)) };
    }
  };

  return {
    rawValidation,

    validateFormData(
      formData: Data | undefined,
      schema: RJSFSchema,
      customValidate?: CustomValidator<Data, RJSFSchema>,
      transformErrors?: ErrorTransformer<Data, RJSFSchema>,
      uiSchema?: UiSchema<Data, RJSFSchema>,
    ): ValidationData<Data> {
      const raw = rawValidation<OutputUnit>(schema, formData);
      let errors: RJSFValidationError[] = (raw.errors ?? []).map((e) => {
        const message = describe(e, schema, t);
        const property = propertyOf(e);
        return { name: e.keyword, property, message, stack: `${property} ${message}`.trim(), schemaPath: e.keywordLocation.replace(/^#/, '') };
      });
      if (raw.validationError) errors.push({ stack: raw.validationError.message, message: raw.validationError.message });
      if (transformErrors) errors = transformErrors(errors, uiSchema);
      const result: ValidationData<Data> = { errors, errorSchema: toErrorSchema<Data>(errors) };
      if (!customValidate) return result;
      const handler = customValidate(formData ?? {}, createErrorHandler<Data>(formData ?? {}), uiSchema, result.errorSchema);
      return validationDataMerge(result, unwrapErrorHandler(handler));
    },

    isValid(schema: RJSFSchema, formData: Data | undefined, rootSchema: RJSFSchema): boolean {
      // Sub-schemas (oneOf branches…) may point into the root's definitions: lend them.
      const withDefinitions: RJSFSchema = { ...schema };
      if (rootSchema.definitions && !schema.definitions) withDefinitions.definitions = rootSchema.definitions;
      if (rootSchema.$defs && !schema.$defs) withDefinitions.$defs = rootSchema.$defs;
      try {
        return new Validator(withDefinitions as Schema, draftOf(rootSchema), true).validate(formData).valid;
      } catch {
        return false;
      }
    },
  };
}
