import { useEffect, useState, type FormEvent } from 'react';
import { Link } from 'wouter';
import { useI18n } from '../../../shell/i18n';
import { useSession } from '../../../shell/session';
import { ErrorNotice, Field, Page, useDraft } from '../../../shell/ui';
import { tenantLabel } from '../../../shell/places';
import { roleCodes, searchUsers, tenants, type Tenant, type User } from '../api';
import { useRoleLabel } from './RoleChoices';
import '../admin.css';


/** Finds users by user name, name, mobile number, city, type or role. */
export function Users() {
  const { t } = useI18n();
  const { stateTenant } = useSession();
  const roleLabel = useRoleLabel();
  const [criteria, setCriteria] = useDraft('admin-users', { userName: '', name: '', mobileNumber: '', tenantId: '', userType: '', roleCode: '' });
  const [cities, setCities] = useState<Tenant[]>([]);
  const [roles, setRoles] = useState<string[]>([]);
  const [users, setUsers] = useState<User[]>();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    tenants(stateTenant).then(setCities).catch(setError);
    roleCodes(stateTenant).then(setRoles).catch(setError);
  }, [stateTenant]);

  const search = async (e?: FormEvent) => {
    e?.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const { roleCode, ...rest } = criteria;
      const body: Record<string, unknown> = Object.fromEntries(Object.entries(rest).filter(([, v]) => v.trim() !== '').map(([k, v]) => [k, v.trim()]));
      if (roleCode) body['roleCodes'] = [roleCode];
      setUsers(await searchUsers(body));
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  const set = (key: keyof typeof criteria) => (e: { target: { value: string } }) => setCriteria({ ...criteria, [key]: e.target.value });
  return (
    <Page titleCode="ADMIN_USERS_TITLE" actions={<Link href="/admin/users/new">{t('ADMIN_USERS_NEW_TITLE')}</Link>}>
      <form onSubmit={search} noValidate>
        <div className="admin-filters">
          <Field label={t('CORE_USERNAME')}>{(p) => <input {...p} value={criteria.userName} onChange={set('userName')} />}</Field>
          <Field label={t('ADMIN_USER_NAME')}>{(p) => <input {...p} value={criteria.name} onChange={set('name')} />}</Field>
          <Field label={t('CORE_MOBILE_NUMBER')}>{(p) => <input {...p} type="tel" inputMode="numeric" value={criteria.mobileNumber} onChange={set('mobileNumber')} />}</Field>
          <Field label={t('CORE_CITY')}>
            {(p) => (
              <select {...p} value={criteria.tenantId} onChange={set('tenantId')}>
                <option value="">{t('ADMIN_ANY')}</option>
                {cities.map((c) => (
                  <option key={c.code} value={c.code}>
                    {t(tenantLabel(c.code))}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label={t('ADMIN_USER_TYPE')}>
            {(p) => (
              <select {...p} value={criteria.userType} onChange={set('userType')}>
                <option value="">{t('ADMIN_ANY')}</option>
                <option value="EMPLOYEE">{t('ADMIN_USER_TYPE_EMPLOYEE')}</option>
                <option value="CITIZEN">{t('ADMIN_USER_TYPE_CITIZEN')}</option>
              </select>
            )}
          </Field>
          <Field label={t('ADMIN_USER_ROLE')}>
            {(p) => (
              <select {...p} value={criteria.roleCode} onChange={set('roleCode')}>
                <option value="">{t('ADMIN_ANY')}</option>
                {roles.map((r) => (
                  <option key={r} value={r}>
                    {roleLabel(r)}
                  </option>
                ))}
              </select>
            )}
          </Field>
        </div>
        <button type="submit" className="primary" disabled={busy}>
          {t('ADMIN_SEARCH')}
        </button>
      </form>
      <ErrorNotice error={error} />
      {users && (
        <>
          <p role="status">{t('ADMIN_USERS_FOUND', { count: users.length })}</p>
          <div className="table-scroll">
            <table>
              <caption className="visually-hidden">{t('ADMIN_USERS_TITLE')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('CORE_USERNAME')}</th>
                  <th scope="col">{t('ADMIN_USER_NAME')}</th>
                  <th scope="col">{t('CORE_CITY')}</th>
                  <th scope="col">{t('ADMIN_USER_ROLES')}</th>
                </tr>
              </thead>
              <tbody>
                {users.map((u) => (
                  <tr key={u.uuid}>
                    <td>
                      <Link href={`/admin/users/${encodeURIComponent(u.uuid)}`}>{u.userName}</Link>
                    </td>
                    <td>{u.name}</td>
                    <td>{t(tenantLabel(u.tenantId))}</td>
                    <td>{[...new Set(u.roles.map((r) => roleLabel(r.code)))].join(', ')}</td>
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
