import { useEffect, useMemo, useState } from 'react';
import { Link, useLocation, useParams } from 'wouter';
import Form, { type IChangeEvent } from '@rjsf/core';
import { englishStringTranslator, errorId, TranslatableString, type ErrorSchema, type FieldErrorProps, type RJSFSchema, type UiSchema } from '@rjsf/utils';
import { ApiError, type ApiErrorDetail } from '../../../shell/api';
import { useI18n } from '../../../shell/i18n';
import { useSession } from '../../../shell/session';
import { ErrorNotice, Loading, Page } from '../../../shell/ui';
import { createRecord, searchRecords, searchSchemas, updateRecord, type MdmsRecord, type SchemaDefinition } from '../api';
import { placeServerErrors } from './serverErrors';
import { createValidator } from './validator';
import '../admin.css';

type Data = Record<string, unknown>;

/** A field's errors, announced and tied to its input (rjsf points aria-describedby at this id). */
function FieldErrors({ errors = [], fieldPathId }: FieldErrorProps<Data, RJSFSchema>) {
  const shown = errors.filter(Boolean);
  if (shown.length === 0) return null;
  return (
    <div className="field-error" id={errorId(fieldPathId)} role="alert">
      {shown.map((e, i) => (
        <span key={i}>{e} </span>
      ))}
    </div>
  );
}

const fieldLabelCode = (name: string) => `ADMIN_FIELD_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;

/**
 * Creates or edits one record of a master with a form generated from the master's JSON Schema:
 * the schema's rules are checked at each field before anything is sent, and the server's own
 * refusals (unique keys, references to other masters) are shown at the fields they concern.
 */
export function RecordEditor() {
  const { schemaCode = '', id } = useParams<{ schemaCode: string; id?: string }>();
  const { t } = useI18n();
  const { stateTenant } = useSession();
  const [, navigate] = useLocation();
  const [schema, setSchema] = useState<SchemaDefinition>();
  const [record, setRecord] = useState<MdmsRecord>();
  const [formData, setFormData] = useState<Data>({});
  const [isActive, setIsActive] = useState(true);
  const [loadError, setLoadError] = useState<unknown>();
  const [serverFields, setServerFields] = useState<ErrorSchema>();
  const [topErrors, setTopErrors] = useState<ApiErrorDetail[]>([]);
  const [failure, setFailure] = useState<unknown>();
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    let live = true;
    (async () => {
      const [definition] = await searchSchemas(stateTenant, [schemaCode]);
      if (!definition) throw new ApiError('refused', 404, [{ code: 'ADMIN_MDMS_NO_SCHEMA', message: schemaCode }]);
      const found = id ? (await searchRecords({ tenantId: stateTenant, schemaCode, ids: [id] }))[0] : undefined;
      if (id && !found) throw new ApiError('refused', 404, [{ code: 'ADMIN_MDMS_NO_RECORD', message: id }]);
      if (!live) return;
      setSchema(definition);
      setRecord(found);
      setFormData((found?.data as Data | undefined) ?? {});
      setIsActive(found?.isActive ?? true);
    })().catch((error: unknown) => live && setLoadError(error));
    return () => {
      live = false;
    };
  }, [stateTenant, schemaCode, id]);

  const validator = useMemo(() => createValidator(t), [t]);
  const jsonSchema = schema?.definition as RJSFSchema | undefined;
  const uiSchema = useMemo<UiSchema<Data, RJSFSchema>>(() => {
    const ui: UiSchema<Data, RJSFSchema> = { 'ui:title': t('ADMIN_MDMS_RECORD_DATA'), 'ui:options': { expandable: false } };
    for (const name of Object.keys(jsonSchema?.properties ?? {})) {
      const code = fieldLabelCode(name);
      ui[name] = { 'ui:title': t(code) !== code ? t(code) : name };
    }
    // The identifying fields cannot change once a record exists (the server refuses it).
    if (record) for (const name of schema?.definition['x-unique'] ?? []) if (!name.includes('.')) ui[name] = { ...(ui[name] as object), 'ui:readonly': true };
    return ui;
  }, [jsonSchema, t, record, schema]);

  const translateString = useMemo(
    () => (text: TranslatableString, params?: string[]) => {
      const key = Object.entries(TranslatableString).find(([, value]) => value === text)?.[0];
      const code = `ADMIN_RJSF_${(key ?? '').toUpperCase()}`;
      if (key && t(code) !== code) return t(code, Object.fromEntries((params ?? []).map((p, i) => [String(i + 1), p])));
      return englishStringTranslator(text, params);
    },
    [t],
  );

  const submit = async ({ formData: data }: IChangeEvent<Data, RJSFSchema>) => {
    if (!schema) return;
    setBusy(true);
    setSaved(false);
    setFailure(undefined);
    setServerFields(undefined);
    setTopErrors([]);
    try {
      if (record) {
        const updated = await updateRecord(record, data ?? {}, isActive);
        setRecord(updated);
        setFormData(updated.data);
        setSaved(true);
      } else {
        const created = await createRecord(schemaCode, stateTenant, data ?? {}, isActive);
        navigate(`/admin/mdms/${encodeURIComponent(schemaCode)}/records/${encodeURIComponent(created.id)}?created=1`);
      }
    } catch (error) {
      if (error instanceof ApiError && error.kind === 'refused') {
        const { fields, top } = placeServerErrors(error, schema.definition, t);
        setServerFields(fields);
        setTopErrors(top.length > 0 ? top : [{ code: 'ADMIN_MDMS_REFUSED', message: t('ADMIN_MDMS_REFUSED') }]);
      } else setFailure(error);
    } finally {
      setBusy(false);
    }
  };

  const title = record ? 'ADMIN_MDMS_EDIT_TITLE' : 'ADMIN_MDMS_NEW_TITLE';
  const justCreated = new URLSearchParams(window.location.search).has('created');
  return (
    <Page titleCode={title}>
      <p>
        <Link href={`/admin/mdms/${encodeURIComponent(schemaCode)}`}>{t('ADMIN_MDMS_BACK_TO_RECORDS', { schema: schemaCode })}</Link>
      </p>
      {loadError ? (
        <ErrorNotice error={loadError} />
      ) : !schema || !jsonSchema ? (
        <Loading />
      ) : (
        <div className="admin-rjsf">
          {record && <p className="hint">{t('ADMIN_MDMS_UNIQUE_ID', { id: record.uniqueIdentifier })}</p>}
          {(saved || (justCreated && record)) && !busy && topErrors.length === 0 && (
            <div className="notice ok" role="status">
              {t(saved ? 'ADMIN_MDMS_SAVED' : 'ADMIN_MDMS_CREATED')}
            </div>
          )}
          {topErrors.length > 0 && <ErrorNotice error={new ApiError('refused', 400, topErrors)} />}
          <ErrorNotice error={failure} />
          <Form<Data, RJSFSchema>
            schema={jsonSchema}
            uiSchema={uiSchema}
            validator={validator}
            formData={formData}
            onChange={(e) => setFormData(e.formData ?? {})}
            onSubmit={submit}
            extraErrors={serverFields}
            showErrorList={false}
            noHtml5Validate
            focusOnFirstError
            translateString={translateString}
            templates={{ FieldErrorTemplate: FieldErrors }}
            disabled={busy}
          >
            <label className="admin-check">
              <input type="checkbox" checked={isActive} onChange={(e) => setIsActive(e.target.checked)} /> {t('ADMIN_MDMS_ACTIVE')}
            </label>
            <button type="submit" className="primary" disabled={busy}>
              {t('ADMIN_SAVE')}
            </button>
          </Form>
        </div>
      )}
    </Page>
  );
}
