import { useEffect, useState } from 'react';
import { Link, useParams } from 'wouter';
import { ApiError } from '../../../shell/api';
import { useI18n } from '../../../shell/i18n';
import { useSession } from '../../../shell/session';
import { ErrorNotice, Loading, Page } from '../../../shell/ui';
import { roleCodes, searchUsers, updateUserRoles, type Role, type User } from '../api';
import { RoleChoices } from './RoleChoices';
import { tenantLabel } from '../../../shell/places';
import '../admin.css';

/** One user's details and roles; an official changes the roles here. */
export function UserDetail() {
  const { uuid = '' } = useParams<{ uuid: string }>();
  const { t } = useI18n();
  const { stateTenant } = useSession();
  const [user, setUser] = useState<User>();
  const [codes, setCodes] = useState<string[]>([]);
  const [chosen, setChosen] = useState<Set<string>>(new Set());
  const [loadError, setLoadError] = useState<unknown>();
  const [error, setError] = useState<unknown>();
  const [noRole, setNoRole] = useState(false);
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    Promise.all([searchUsers({ uuid: [uuid] }), roleCodes(stateTenant)])
      .then(([[found], all]) => {
        if (!found) throw new ApiError('refused', 404, [{ code: 'ADMIN_USER_NOT_FOUND', message: uuid }]);
        setUser(found);
        setChosen(new Set(found.roles.map((r) => r.code)));
        setCodes([...new Set([...all, ...found.roles.map((r) => r.code)])]);
      })
      .catch(setLoadError);
  }, [uuid, stateTenant]);

  const save = async () => {
    if (!user) return;
    if (chosen.size === 0) return setNoRole(true);
    setNoRole(false);
    setBusy(true);
    setError(undefined);
    setSaved(false);
    try {
      // A role keeps the tenant it was granted on (SUPERUSER on the state); new ones go to the user's city.
      const roles: Role[] = [...chosen].map((code) => ({ code, tenantId: user.roles.find((r) => r.code === code)?.tenantId ?? user.tenantId }));
      const updated = await updateUserRoles(user.uuid, roles);
      setUser(updated);
      setChosen(new Set(updated.roles.map((r) => r.code)));
      setSaved(true);
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  const created = new URLSearchParams(window.location.search).has('created');
  return (
    <Page titleCode="ADMIN_USER_TITLE">
      <p>
        <Link href="/admin/users">{t('ADMIN_USERS_BACK')}</Link>
      </p>
      {loadError ? (
        <ErrorNotice error={loadError} />
      ) : !user ? (
        <Loading />
      ) : (
        <>
          {created && !saved && (
            <div className="notice ok" role="status">
              {t('ADMIN_USER_CREATED', { userName: user.userName })}
            </div>
          )}
          <dl className="card">
            <dt>{t('CORE_USERNAME')}</dt>
            <dd>{user.userName}</dd>
            <dt>{t('ADMIN_USER_NAME')}</dt>
            <dd>{user.name}</dd>
            <dt>{t('CORE_MOBILE_NUMBER')}</dt>
            <dd>{user.mobileNumber}</dd>
            {user.emailId && (
              <>
                <dt>{t('ADMIN_USER_EMAIL')}</dt>
                <dd>{user.emailId}</dd>
              </>
            )}
            <dt>{t('ADMIN_USER_TYPE')}</dt>
            <dd>{t(`ADMIN_USER_TYPE_${user.type}`)}</dd>
            <dt>{t('CORE_CITY')}</dt>
            <dd>{t(tenantLabel(user.tenantId))}</dd>
          </dl>
          <h2>{t('ADMIN_USER_ROLES')}</h2>
          {saved && (
            <div className="notice ok" role="status">
              {t('ADMIN_USER_ROLES_SAVED')}
            </div>
          )}
          <ErrorNotice error={error} />
          <div className="form">
            <RoleChoices codes={codes} chosen={chosen} onChange={setChosen} legend={t('ADMIN_USER_ROLES')} errors={noRole ? [t('ADMIN_USER_ROLE_REQUIRED')] : []} />
            <button type="button" className="primary" onClick={save} disabled={busy}>
              {t('ADMIN_USER_SAVE_ROLES')}
            </button>
          </div>
        </>
      )}
    </Page>
  );
}
