import { useEffect, useState, type FormEvent } from 'react';
import { useLocation, useSearch } from 'wouter';
import { ApiError, post } from './api';
import { useI18n } from './i18n';
import { useSession } from './session';
import { stateTenants, tenantLabel } from './places';
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

/** A citizen signs in with a mobile number and the one-time password sent to it; a first-time citizen registers. */
function CitizenLogin() {
  const [registering, setRegistering] = useState(false);
  return registering ? (
    <CitizenRegister onSignIn={() => setRegistering(false)} />
  ) : (
    <CitizenSignIn onRegister={() => setRegistering(true)} />
  );
}

function CitizenSignIn({ onRegister }: { onRegister: () => void }) {
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
      await post(
        '/user-otp/v1/_send',
        { otp: { mobileNumber, tenantId: stateTenant, type: 'login', userType: 'CITIZEN' } },
        { anonymous: true },
      );
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
      setError(
        caught instanceof ApiError && caught.kind === 'refused'
          ? new ApiError('refused', caught.status, [{ code: 'CORE_ERROR_OTP_WRONG', message: t('CORE_ERROR_OTP_WRONG') }])
          : caught,
      );
    } finally {
      setBusy(false);
    }
  };

  if (!sent)
    return (
      <form onSubmit={send} noValidate className="form">
        <ErrorNotice error={error} />
        <MobileField value={mobileNumber} onChange={setMobileNumber} error={fieldError} />
        <button type="submit" className="primary" disabled={busy}>
          {t('CORE_SEND_OTP')}
        </button>
        <p>
          {t('CZ_FIRST_TIME')}{' '}
          <button type="button" className="link" onClick={onRegister}>
            {t('CZ_REGISTER')}
          </button>
        </p>
      </form>
    );
  return (
    <form onSubmit={verify} noValidate className="form">
      <p role="status">{t('CORE_OTP_SENT', { mobileNumber })}</p>
      <ErrorNotice error={error} />
      <OtpField value={otp} onChange={setOtp} error={fieldError} hint={t('CZ_NO_CODE_HINT')} />
      <button type="submit" className="primary" disabled={busy}>
        {t('CORE_SIGN_IN')}
      </button>
      <button type="button" className="link" onClick={() => setSent(false)}>
        {t('CORE_CHANGE_MOBILE')}
      </button>
      <button type="button" className="link" onClick={onRegister}>
        {t('CZ_REGISTER')}
      </button>
    </form>
  );
}

// The user service's rule for names (NAME_PATTERN in src/common/user): no markup or symbols.
const NAME = /^[^\\$"<>?~`!@#%^()+={}[\]*,:;“”‘’]{1,50}$/;

/**
 * A first-time citizen: name and mobile number, the registration code proves the number
 * (/otp/v1/_validate gives the otpReference for /user/citizen/_create, with the chosen language as
 * the user's locale); then the server's OTP sign-in, with a second code, as for any citizen.
 */
function CitizenRegister({ onSignIn }: { onSignIn: () => void }) {
  const { t, locale } = useI18n();
  const { signIn, stateTenant } = useSession();
  const done = useNext();
  const [form, setForm] = useState({ name: '', mobileNumber: '' });
  const [otp, setOtp] = useState('');
  const [step, setStep] = useState<'details' | 'register' | 'signin'>('details');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const [errors, setErrors] = useState<{ name?: string; mobileNumber?: string; otp?: string }>({});

  const run = async (work: () => Promise<void>) => {
    setBusy(true);
    setError(undefined);
    try {
      await work();
    } catch (caught) {
      if (caught instanceof ApiError && caught.kind === 'refused') {
        // By the field the server names (params), not by code: DUPLICATE_USER_NAME is not about the name typed.
        const at = (field: string) =>
          caught.errors.filter((x) => (x.params ?? []).some((p) => typeof p === 'string' && p.endsWith(field))).map((x) => x.message);
        const name = at('.name');
        const mobile = at('mobileNumber');
        if (name.length > 0 || mobile.length > 0) {
          setErrors({
            ...(name.length > 0 ? { name: name.join(' ') } : {}),
            ...(mobile.length > 0 ? { mobileNumber: mobile.join(' ') } : {}),
          });
          setStep('details');
          return;
        }
      }
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  const send = (e: FormEvent) => {
    e.preventDefault();
    const found = {
      ...(NAME.test(form.name.trim()) ? {} : { name: t('CZ_ERROR_NAME') }),
      ...(MOBILE.test(form.mobileNumber) ? {} : { mobileNumber: t('CORE_ERROR_MOBILE') }),
    };
    setErrors(found);
    if (Object.keys(found).length > 0) return;
    void run(async () => {
      await post(
        '/user-otp/v1/_send',
        { otp: { mobileNumber: form.mobileNumber, tenantId: stateTenant, type: 'register', userType: 'CITIZEN' } },
        { anonymous: true },
      );
      setOtp('');
      setStep('register');
    });
  };

  const codeOk = () => {
    const ok = /^\d{4,8}$/.test(otp);
    setErrors(ok ? {} : { otp: t('CORE_ERROR_OTP') });
    return ok;
  };
  const wrongCode = (caught: unknown) =>
    caught instanceof ApiError && caught.kind === 'refused'
      ? new ApiError('refused', caught.status, [{ code: 'CORE_ERROR_OTP_WRONG', message: t('CORE_ERROR_OTP_WRONG') }])
      : caught;

  const register = (e: FormEvent) => {
    e.preventDefault();
    if (!codeOk()) return;
    void run(async () => {
      let reference: string;
      try {
        const validated = await post<{ otp: { UUID: string } }>(
          '/otp/v1/_validate',
          { otp: { tenantId: stateTenant, identity: form.mobileNumber, otp, type: 'register' } },
          { anonymous: true },
        );
        reference = validated.otp.UUID;
      } catch (caught) {
        throw wrongCode(caught);
      }
      await post(
        '/user/citizen/_create',
        {
          user: {
            name: form.name.trim(),
            mobileNumber: form.mobileNumber,
            otpReference: reference,
            tenantId: stateTenant,
            type: 'CITIZEN',
            locale,
          },
        },
        { anonymous: true },
      );
      await post(
        '/user-otp/v1/_send',
        { otp: { mobileNumber: form.mobileNumber, tenantId: stateTenant, type: 'login', userType: 'CITIZEN' } },
        { anonymous: true },
      );
      setOtp('');
      setStep('signin');
    });
  };

  const verify = (e: FormEvent) => {
    e.preventDefault();
    if (!codeOk()) return;
    void run(async () => {
      try {
        await signIn(form.mobileNumber, otp, stateTenant);
      } catch (caught) {
        throw wrongCode(caught);
      }
      done();
    });
  };

  if (step === 'details')
    return (
      <form onSubmit={send} noValidate className="form">
        <h2>{t('CZ_REGISTER_TITLE')}</h2>
        <ErrorNotice error={error} />
        <Field label={t('CZ_NAME')} errors={errors.name ? [errors.name] : []}>
          {(props) => (
            <input
              {...props}
              name="name"
              autoComplete="name"
              maxLength={50}
              value={form.name}
              onChange={(e) => setForm({ ...form, name: e.target.value })}
            />
          )}
        </Field>
        <MobileField value={form.mobileNumber} onChange={(mobileNumber) => setForm({ ...form, mobileNumber })} error={errors.mobileNumber} />
        <button type="submit" className="primary" disabled={busy}>
          {t('CORE_SEND_OTP')}
        </button>
        <p>
          {t('CZ_HAVE_ACCOUNT')}{' '}
          <button type="button" className="link" onClick={onSignIn}>
            {t('CORE_SIGN_IN')}
          </button>
        </p>
      </form>
    );
  return (
    <form onSubmit={step === 'register' ? register : verify} noValidate className="form">
      <h2>{t('CZ_REGISTER_TITLE')}</h2>
      <p role="status">{t(step === 'register' ? 'CORE_OTP_SENT' : 'CZ_REGISTERED_SIGN_IN', { mobileNumber: form.mobileNumber })}</p>
      <ErrorNotice error={error} />
      <OtpField value={otp} onChange={setOtp} error={errors.otp} hint={step === 'register' ? t('CZ_REGISTER_CODE_HINT') : undefined} />
      <button type="submit" className="primary" disabled={busy}>
        {t(step === 'register' ? 'CZ_REGISTER' : 'CORE_SIGN_IN')}
      </button>
      {step === 'register' && (
        <button type="button" className="link" onClick={() => setStep('details')}>
          {t('CORE_CHANGE_MOBILE')}
        </button>
      )}
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
    stateTenants(stateTenant)
      .then((codes) => setTenants(codes.map((code) => ({ code }))))
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
        {(props) => (
          <input
            {...props}
            name="username"
            autoComplete="username"
            value={form.username}
            onChange={(e) => setForm({ ...form, username: e.target.value })}
          />
        )}
      </Field>
      <Field label={t('CORE_PASSWORD')} errors={missing.includes('password') ? [t('CORE_REQUIRED')] : []}>
        {(props) => (
          <input
            {...props}
            name="password"
            type="password"
            autoComplete="current-password"
            value={form.password}
            onChange={(e) => setForm({ ...form, password: e.target.value })}
          />
        )}
      </Field>
      <Field label={t('CORE_CITY')}>
        {(props) => (
          <select {...props} name="tenantId" value={form.tenantId} onChange={(e) => setForm({ ...form, tenantId: e.target.value })}>
            {(tenants.length > 0 ? tenants : [{ code: stateTenant }]).map((tenant) => (
              <option key={tenant.code} value={tenant.code}>
                {t(tenantLabel(tenant.code))}
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

type FieldProps = { value: string; onChange(value: string): void; error?: string | undefined; hint?: string | undefined };

/** A 10-digit mobile number, as the sign-in and registration forms ask for it. */
function MobileField({ value, onChange, error }: FieldProps) {
  const { t } = useI18n();
  return (
    <Field label={t('CORE_MOBILE_NUMBER')} errors={error ? [error] : []} hint={t('CORE_MOBILE_HINT')}>
      {(props) => (
        <input {...props} name="mobileNumber" type="tel" inputMode="numeric" autoComplete="tel-national" maxLength={10} value={value} onChange={(e) => onChange(e.target.value.trim())} />
      )}
    </Field>
  );
}

/** The one-time code from the SMS. */
function OtpField({ value, onChange, error, hint }: FieldProps) {
  const { t } = useI18n();
  return (
    <Field label={t('CORE_OTP')} errors={error ? [error] : []} {...(hint ? { hint } : {})}>
      {(props) => <input {...props} name="otp" inputMode="numeric" autoComplete="one-time-code" maxLength={8} value={value} onChange={(e) => onChange(e.target.value.trim())} />}
    </Field>
  );
}
