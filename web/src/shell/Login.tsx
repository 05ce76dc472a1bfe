import { useEffect, useState, type FormEvent } from 'react';
import { useLocation, useSearch } from 'wouter';
import { ApiError, post } from './api';
import { useI18n } from './i18n';
import { useSession } from './session';
import { ErrorNotice, Field, Page } from './ui';

const MOBILE = /^[6-9][0-9]{9}$/;

/** Where to go after signing in: the `next` the guard gave, only ever a path inside this app. */
function useNext(): () => void {
  const search = useSearch();
  const [, navigate] = useLocation();
  return () => {
    const next = new URLSearchParams(search).get('next') ?? '/';
    navigate(next.startsWith('/') && !next.startsWith('//') ? next : '/', { replace: true });
  };
}

export function Login() {
  const { app, expired } = useSession();
  const { t } = useI18n();
  return (
    <Page titleCode="CORE_SIGN_IN">
      {expired && (
        <div className="notice" role="status">
          {t('CORE_SESSION_EXPIRED')}
        </div>
      )}
      {app === 'citizen' ? <CitizenLogin /> : <EmployeeLogin />}
    </Page>
  );
}

/** A citizen signs in with a mobile number and the one-time password sent to it. */
function CitizenLogin() {
  const { t } = useI18n();
  const { signIn, stateTenant } = useSession();
  const done = useNext();
  const [mobileNumber, setMobileNumber] = useState('');
  const [otp, setOtp] = useState('');
  const [sent, setSent] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const [fieldError, setFieldError] = useState<string>();

  const send = async (e: FormEvent) => {
    e.preventDefault();
    if (!MOBILE.test(mobileNumber)) return setFieldError(t('CORE_ERROR_MOBILE'));
    setFieldError(undefined);
    setBusy(true);
    setError(undefined);
    try {
      await post('/user-otp/v1/_send', { otp: { mobileNumber, tenantId: stateTenant, type: 'login', userType: 'CITIZEN' } }, { anonymous: true });
      setSent(true);
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  const verify = async (e: FormEvent) => {
    e.preventDefault();
    if (!/^\d{4,8}$/.test(otp)) return setFieldError(t('CORE_ERROR_OTP'));
    setFieldError(undefined);
    setBusy(true);
    setError(undefined);
    try {
      await signIn(mobileNumber, otp, stateTenant);
      done();
    } catch (caught) {
      setError(caught instanceof ApiError && caught.kind === 'refused' ? new ApiError('refused', caught.status, [{ code: 'CORE_ERROR_OTP_WRONG', message: t('CORE_ERROR_OTP_WRONG') }]) : caught);
    } finally {
      setBusy(false);
    }
  };

  if (!sent)
    return (
      <form onSubmit={send} noValidate className="form">
        <ErrorNotice error={error} />
        <Field label={t('CORE_MOBILE_NUMBER')} errors={fieldError ? [fieldError] : []} hint={t('CORE_MOBILE_HINT')}>
          {(props) => (
            <input {...props} name="mobileNumber" type="tel" inputMode="numeric" autoComplete="tel-national" maxLength={10} value={mobileNumber} onChange={(e) => setMobileNumber(e.target.value.trim())} />
          )}
        </Field>
        <button type="submit" className="primary" disabled={busy}>
          {t('CORE_SEND_OTP')}
        </button>
      </form>
    );
  return (
    <form onSubmit={verify} noValidate className="form">
      <p role="status">{t('CORE_OTP_SENT', { mobileNumber })}</p>
      <ErrorNotice error={error} />
      <Field label={t('CORE_OTP')} errors={fieldError ? [fieldError] : []}>
        {(props) => <input {...props} name="otp" inputMode="numeric" autoComplete="one-time-code" maxLength={8} value={otp} onChange={(e) => setOtp(e.target.value.trim())} />}
      </Field>
      <button type="submit" className="primary" disabled={busy}>
        {t('CORE_SIGN_IN')}
      </button>
      <button type="button" className="link" onClick={() => setSent(false)}>
        {t('CORE_CHANGE_MOBILE')}
      </button>
    </form>
  );
}

type Tenant = { code: string; name?: string };

/** An employee signs in with user name, password and the city they work for. */
function EmployeeLogin() {
  const { t } = useI18n();
  const { signIn, stateTenant } = useSession();
  const done = useNext();
  const [tenants, setTenants] = useState<Tenant[]>([]);
  const [form, setForm] = useState({ username: '', password: '', tenantId: stateTenant });
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const [missing, setMissing] = useState<string[]>([]);

  useEffect(() => {
    post<{ MdmsRes?: { tenant?: { tenants?: Tenant[] } } }>(
      '/egov-mdms-service/v1/_search',
      { MdmsCriteria: { tenantId: stateTenant, moduleDetails: [{ moduleName: 'tenant', masterDetails: [{ name: 'tenants' }] }] } },
      { anonymous: true },
    )
      .then((body) => setTenants(body.MdmsRes?.tenant?.tenants ?? []))
      .catch(() => setTenants([]));
  }, [stateTenant]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const empty = (['username', 'password'] as const).filter((k) => !form[k]);
    setMissing(empty);
    if (empty.length > 0) return;
    setBusy(true);
    setError(undefined);
    try {
      await signIn(form.username, form.password, form.tenantId);
      done();
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form onSubmit={submit} noValidate className="form">
      <ErrorNotice error={error} />
      <Field label={t('CORE_USERNAME')} errors={missing.includes('username') ? [t('CORE_REQUIRED')] : []}>
        {(props) => <input {...props} name="username" autoComplete="username" value={form.username} onChange={(e) => setForm({ ...form, username: e.target.value })} />}
      </Field>
      <Field label={t('CORE_PASSWORD')} errors={missing.includes('password') ? [t('CORE_REQUIRED')] : []}>
        {(props) => <input {...props} name="password" type="password" autoComplete="current-password" value={form.password} onChange={(e) => setForm({ ...form, password: e.target.value })} />}
      </Field>
      <Field label={t('CORE_CITY')}>
        {(props) => (
          <select {...props} name="tenantId" value={form.tenantId} onChange={(e) => setForm({ ...form, tenantId: e.target.value })}>
            {(tenants.length > 0 ? tenants : [{ code: stateTenant }]).map((tenant) => (
              <option key={tenant.code} value={tenant.code}>
                {t(`TENANT_TENANTS_${tenant.code.toUpperCase().replaceAll('.', '_')}`)}
              </option>
            ))}
          </select>
        )}
      </Field>
      <button type="submit" className="primary" disabled={busy}>
        {t('CORE_SIGN_IN')}
      </button>
    </form>
  );
}
