import { useEffect, useState } from 'react';
import { Link, useParams } from 'wouter';
import { useI18n } from '../../../shell/i18n';
import { useSession } from '../../../shell/session';
import { ErrorNotice, Field, Loading, Page } from '../../../shell/ui';
import { searchRecords, searchSchemas, type MdmsRecord, type SchemaDefinition } from '../api';

/** A short, readable line of a record's other fields (the table cannot show every field). */
function summary(record: MdmsRecord, skip: readonly string[]): string {
  return Object.entries(record.data)
    .filter(([key, value]) => !skip.includes(key) && value !== null && typeof value !== 'object')
    .slice(0, 4)
    .map(([key, value]) => `${key}: ${String(value)}`)
    .join(' · ');
}

/** The records of one master, searchable, each opening the editor. */
export function Records() {
  const { schemaCode = '' } = useParams<{ schemaCode: string }>();
  const { t } = useI18n();
  const { stateTenant } = useSession();
  const [schema, setSchema] = useState<SchemaDefinition>();
  const [records, setRecords] = useState<MdmsRecord[]>();
  const [error, setError] = useState<unknown>();
  const [filter, setFilter] = useState('');

  useEffect(() => {
    Promise.all([searchSchemas(stateTenant, [schemaCode]), searchRecords({ tenantId: stateTenant, schemaCode })])
      .then(([[definition], found]) => {
        setSchema(definition);
        setRecords(found.sort((a, b) => a.uniqueIdentifier.localeCompare(b.uniqueIdentifier)));
      })
      .catch(setError);
  }, [stateTenant, schemaCode]);

  const needle = filter.trim().toLowerCase();
  const shown = (records ?? []).filter((r) => !needle || JSON.stringify(r.data).toLowerCase().includes(needle) || r.uniqueIdentifier.toLowerCase().includes(needle));
  const unique = schema?.definition['x-unique'] ?? [];
  const base = `/admin/mdms/${encodeURIComponent(schemaCode)}`;
  return (
    <Page titleCode="ADMIN_MDMS_RECORDS_TITLE" actions={<Link href={`${base}/new`}>{t('ADMIN_MDMS_NEW_RECORD')}</Link>}>
      <p>
        <Link href="/admin/mdms">{t('ADMIN_MDMS_BACK_TO_MASTERS')}</Link>
      </p>
      <h2 className="admin-code">{schemaCode}</h2>
      {schema?.description && <p>{schema.description}</p>}
      <ErrorNotice error={error} />
      <Field label={t('ADMIN_FILTER_RECORDS')}>{(props) => <input {...props} type="search" value={filter} onChange={(e) => setFilter(e.target.value)} />}</Field>
      {!records && !error ? (
        <Loading />
      ) : (
        <>
          <p role="status">{t('ADMIN_MDMS_COUNT', { shown: shown.length, total: records?.length ?? 0 })}</p>
          <div className="table-scroll">
            <table>
              <caption className="visually-hidden">{schemaCode}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('ADMIN_MDMS_UNIQUE_KEY')}</th>
                  <th scope="col">{t('ADMIN_MDMS_FIELDS')}</th>
                  <th scope="col">{t('ADMIN_MDMS_STATUS')}</th>
                </tr>
              </thead>
              <tbody>
                {shown.map((r) => (
                  <tr key={r.id}>
                    <td className="admin-code">
                      <Link href={`${base}/records/${encodeURIComponent(r.id)}`} aria-label={t('ADMIN_MDMS_EDIT_RECORD', { id: r.uniqueIdentifier })}>
                        {r.uniqueIdentifier}
                      </Link>
                    </td>
                    <td>{summary(r, unique)}</td>
                    <td>{t(r.isActive ? 'ADMIN_ACTIVE' : 'ADMIN_INACTIVE')}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </Page>
  );
}
