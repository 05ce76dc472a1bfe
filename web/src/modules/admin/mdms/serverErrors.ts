import type { ErrorSchema } from '@rjsf/utils';
import type { ApiError, ApiErrorDetail } from '../../../shell/api';
import type { JsonSchema } from '../api';

type Translate = (code: string, params?: Record<string, string | number>) => string;
type Tree = { __errors?: string[]; [key: string]: unknown };

/** The record fields a refusal of MDMS is about (dot paths inside `data`), or none: then it goes on top. */
function fieldsOf(detail: ApiErrorDetail, definition: JsonSchema): string[] {
  // Schema violations: DIGIT's `INVALID_REQUEST_<KEYWORD><n>` with the message "data.<field> …".
  if (detail.code.startsWith('INVALID_REQUEST_')) {
    const path = /^data\.([^\s:]+)/.exec(detail.message)?.[1];
    return path ? [path] : [];
  }
  // x-ref-schema: the first param is the referring field's path.
  if (detail.code === 'REFERENCE_VALIDATION_ERR') {
    const path = detail.params?.[0];
    return typeof path === 'string' ? [path.replace(/^\$\./, '').replace(/\.\*/g, '')] : [];
  }
  // x-unique: the identifying fields clash with another record, changed, or are empty.
  if (['DUPLICATE_RECORD', 'UNIQUE_KEY_UPDATE_ERR', 'UNIQUE_IDENTIFIER_EMPTY_ERR'].includes(detail.code)) return definition['x-unique'] ?? [];
  return [];
}

/**
 * The server's refusals of a record, placed at the fields they are about (rjsf's `extraErrors`),
 * and the ones about no field, for the top of the form.
 */
export function placeServerErrors(error: ApiError, definition: JsonSchema, t: Translate): { fields: ErrorSchema; top: ApiErrorDetail[] } {
  const tree: Tree = {};
  const top: ApiErrorDetail[] = [];
  for (const detail of error.errors) {
    const fields = fieldsOf(detail, definition);
    if (fields.length === 0) {
      top.push(detail);
      continue;
    }
    const text = t(detail.code) !== detail.code ? t(detail.code) : detail.message;
    for (const field of fields) {
      let node = tree;
      for (const key of field.split('.')) node = (node[key] ??= {}) as Tree;
      (node.__errors ??= []).push(text);
    }
  }
  return { fields: tree as ErrorSchema, top };
}
