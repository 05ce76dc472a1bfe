import { useEffect, useState } from 'react';
import { Link } from 'wouter';
import { useI18n } from '../../../shell/i18n';
import { useSession } from '../../../shell/session';
import { ErrorNotice, Field, Loading, Page } from '../../../shell/ui';
import { searchSchemas, type SchemaDefinition } from '../api';

/** Every master of the state (`<module>.<master>`), to pick one and browse its records. */
export function Schemas() {
  const { t } = useI18n();
  const { stateTenant } = useSession();
  const [schemas, setSchemas] = useState<SchemaDefinition[]>();
  const [error, setError] = useState<unknown>();
  const [filter, setFilter] = useState('');

  useEffect(() => {
    searchSchemas(stateTenant)
      .then((found) => setSchemas(found.sort((a, b) => a.code.localeCompare(b.code))))
      .catch(setError);
  }, [stateTenant]);

  const needle = filter.trim().toLowerCase();
  const shown = (schemas ?? []).filter((s) => !needle || s.code.toLowerCase().includes(needle) || (s.description ?? '').toLowerCase().includes(needle));
  return (
    <Page titleCode="ADMIN_MDMS_TITLE">
      <ErrorNotice error={error} />
      <Field label={t('ADMIN_FILTER_MASTERS')}>{(props) => <input {...props} type="search" value={filter} onChange={(e) => setFilter(e.target.value)} />}</Field>
      {!schemas && !error ? (
        <Loading />
      ) : (
        <div className="table-scroll">
          <table>
            <caption className="visually-hidden">{t('ADMIN_MDMS_TITLE')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('ADMIN_MDMS_MASTER')}</th>
                <th scope="col">{t('ADMIN_MDMS_DESCRIPTION')}</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((s) => (
                <tr key={s.id}>
                  <td className="admin-code">
                    <Link href={`/admin/mdms/${encodeURIComponent(s.code)}`}>{s.code}</Link>
                  </td>
                  <td>{s.description}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Page>
  );
}
