import { useEffect, useState, type FormEvent } from 'react';
import { Link, useLocation } from 'wouter';
import { ApiError } from '../../../shell/api';
import { useI18n } from '../../../shell/i18n';
import { useSession } from '../../../shell/session';
import { ErrorNotice, Field, Page, useDraft } from '../../../shell/ui';
import { createEmployee, roleCodes, tenants, type Tenant } from '../api';
import { RoleChoices } from './RoleChoices';
import { tenantLabel } from '../../../shell/places';
import '../admin.css';

const MOBILE = /^[6-9][0-9]{9}$/;
type Fields = 'userName' | 'name' | 'mobileNumber' | 'emailId' | 'password' | 'roles';

/** Creates an employee of a city with the roles chosen (EMPLOYEE is always among them). */
export function NewEmployee() {
  const { t } = useI18n();
  const { stateTenant } = useSession();
  const [, navigate] = useLocation();
  // The password stays out of the draft: session storage is no place for it.
  const [form, setForm, clearDraft] = useDraft('admin-new-employee', { userName: '', name: '', mobileNumber: '', emailId: '', tenantId: '', roles: ['EMPLOYEE'] as string[] });
  const [password, setPassword] = useState('');
  const [cities, setCities] = useState<Tenant[]>([]);
  const [codes, setCodes] = useState<string[]>([]);
  const [problems, setProblems] = useState<Partial<Record<Fields, string[]>>>({});
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    tenants(stateTenant)
      .then((list) => {
        setCities(list);
        if (!form.tenantId) setForm((f) => ({ ...f, tenantId: list.find((c) => c.code !== stateTenant)?.code ?? stateTenant }));
      })
      .catch(setError);
    roleCodes(stateTenant)
      .then((all) => setCodes(all.filter((c) => c !== 'CITIZEN' && c !== 'ANONYMOUS')))
      .catch(setError);
    // Once, on opening: the draft's city wins over the default.
  }, [stateTenant]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const found: Partial<Record<Fields, string[]>> = {};
    for (const key of ['userName', 'name', 'mobileNumber'] as const) if (!form[key].trim()) found[key] = [t('CORE_REQUIRED')];
    if (!password) found.password = [t('CORE_REQUIRED')];
    if (form.mobileNumber.trim() && !MOBILE.test(form.mobileNumber.trim())) found.mobileNumber = [t('CORE_ERROR_MOBILE')];
    if (form.roles.length === 0) found.roles = [t('ADMIN_USER_ROLE_REQUIRED')];
    setProblems(found);
    if (Object.keys(found).length > 0) return;
    setBusy(true);
    setError(undefined);
    try {
      const roles = [...new Set(['EMPLOYEE', ...form.roles])].map((code) => ({ code, tenantId: form.tenantId }));
      const created = await createEmployee({
        userName: form.userName.trim(),
        name: form.name.trim(),
        mobileNumber: form.mobileNumber.trim(),
        ...(form.emailId.trim() ? { emailId: form.emailId.trim() } : {}),
        password,
        tenantId: form.tenantId,
        roles,
      });
      clearDraft();
      navigate(`/admin/users/${encodeURIComponent(created.uuid)}?created=1`);
    } catch (caught) {
      // The server's reasons about a field go to that field; the rest on top.
      if (caught instanceof ApiError && caught.kind === 'refused') {
        const placed: Partial<Record<Fields, string[]>> = {};
        for (const key of ['userName', 'name', 'mobileNumber', 'emailId', 'password', 'roles'] as const) {
          const about = caught.forField(key);
          if (about.length > 0) placed[key] = about.map((d) => (t(d.code) !== d.code ? t(d.code) : d.message));
        }
        setProblems(placed);
      }
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  const set = (key: 'userName' | 'name' | 'mobileNumber' | 'emailId' | 'tenantId') => (e: { target: { value: string } }) => setForm({ ...form, [key]: e.target.value });
  return (
    <Page titleCode="ADMIN_USERS_NEW_TITLE">
      <p>
        <Link href="/admin/users">{t('ADMIN_USERS_BACK')}</Link>
      </p>
      <form className="form" onSubmit={submit} noValidate>
        <ErrorNotice error={error} />
        <Field label={t('CORE_USERNAME')} errors={problems.userName}>
          {(p) => <input {...p} name="userName" autoComplete="off" value={form.userName} onChange={set('userName')} />}
        </Field>
        <Field label={t('ADMIN_USER_NAME')} errors={problems.name}>
          {(p) => <input {...p} name="name" value={form.name} onChange={set('name')} />}
        </Field>
        <Field label={t('CORE_MOBILE_NUMBER')} errors={problems.mobileNumber} hint={t('CORE_MOBILE_HINT')}>
          {(p) => <input {...p} name="mobileNumber" type="tel" inputMode="numeric" maxLength={10} value={form.mobileNumber} onChange={set('mobileNumber')} />}
        </Field>
        <Field label={t('ADMIN_USER_EMAIL_OPTIONAL')} errors={problems.emailId}>
          {(p) => <input {...p} name="emailId" type="email" value={form.emailId} onChange={set('emailId')} />}
        </Field>
        <Field label={t('CORE_PASSWORD')} errors={problems.password} hint={t('ADMIN_USER_PASSWORD_HINT')}>
          {(p) => <input {...p} name="password" type="password" autoComplete="new-password" value={password} onChange={(e) => setPassword(e.target.value)} />}
        </Field>
        <Field label={t('CORE_CITY')}>
          {(p) => (
            <select {...p} name="tenantId" value={form.tenantId} onChange={set('tenantId')}>
              {cities.map((c) => (
                <option key={c.code} value={c.code}>
                  {t(tenantLabel(c.code))}
                </option>
              ))}
            </select>
          )}
        </Field>
        <RoleChoices codes={codes} chosen={new Set(form.roles)} onChange={(next) => setForm({ ...form, roles: [...next] })} legend={t('ADMIN_USER_ROLES')} errors={problems.roles} />
        <button type="submit" className="primary" disabled={busy}>
          {t('ADMIN_USER_CREATE')}
        </button>
      </form>
    </Page>
  );
}
