import { Suspense, useEffect, useRef } from 'react';
import { Link, Redirect, Route, Router, Switch, useLocation } from 'wouter';
import { serviceModules } from '../modules';
import { I18nProvider, LOCALES, useI18n, type Locale } from './i18n';
import { Login } from './Login';
import type { PageDef } from './registry';
import { SessionProvider, useSession, type AppName } from './session';
import { Loading, Page } from './ui';

/** The state the apps serve; a deployment for another state builds with VITE_STATE_TENANT. */
const STATE_TENANT = (import.meta.env['VITE_STATE_TENANT'] as string | undefined) ?? 'pb';

/** The web shell of one app: sign-in, language, navigation, and the pages the services registered. */
export function Shell({ app }: { app: AppName }) {
  const localizationModules = ['rainmaker-common', ...new Set(serviceModules.flatMap((m) => m.localizationModules))];
  return (
    <SessionProvider app={app} stateTenant={STATE_TENANT}>
      <I18nProvider tenantId={STATE_TENANT} modules={localizationModules}>
        <Router base={`/${app}`}>
          <Layout app={app} />
        </Router>
      </I18nProvider>
    </SessionProvider>
  );
}

function pagesOf(app: AppName): PageDef[] {
  return serviceModules.flatMap((m) => m[app] ?? []);
}

function Layout({ app }: { app: AppName }) {
  const { t, locale, setLocale } = useI18n();
  const { session, signOut, hasRole } = useSession();
  const pages = pagesOf(app);
  const nav = pages.filter((p) => p.home && (!p.roles || hasRole(...p.roles)));
  const main = useRef<HTMLElement>(null);
  const [location] = useLocation();
  // Moves focus to the new page's content, so keyboard and screen-reader users start there.
  useEffect(() => main.current?.focus(), [location]);

  return (
    <>
      <a className="skip-link" href="#main">
        {t('CORE_SKIP_TO_CONTENT')}
      </a>
      <header className="top">
        <Link href="/" className="brand">
          {t(app === 'citizen' ? 'CORE_APP_CITIZEN' : 'CORE_APP_EMPLOYEE')}
        </Link>
        {session && (
          <nav aria-label={t('CORE_NAVIGATION')}>
            {nav.map((p) => (
              <Link key={p.path} href={p.path}>
                {t(p.titleCode)}
              </Link>
            ))}
          </nav>
        )}
        <div className="top-actions">
          <label className="language">
            <span className="visually-hidden">{t('CORE_LANGUAGE')}</span>
            <select value={locale} onChange={(e) => setLocale(e.target.value as Locale)} aria-label={t('CORE_LANGUAGE')}>
              {LOCALES.map((l) => (
                <option key={l.code} value={l.code} lang={l.lang}>
                  {l.label}
                </option>
              ))}
            </select>
          </label>
          {session && (
            <button type="button" className="link" onClick={signOut}>
              {t('CORE_SIGN_OUT')}
            </button>
          )}
        </div>
      </header>
      <main id="main" ref={main} tabIndex={-1}>
        <Switch>
          <Route path="/login">
            <Login />
          </Route>
          {pages.map((page) => (
            <Route key={page.path} path={page.path}>
              <Guard page={page} />
            </Route>
          ))}
          <Route path="/">
            <Home pages={nav} />
          </Route>
          <Route>
            <Page titleCode="CORE_NOT_FOUND">
              <p>{t('CORE_NOT_FOUND_TEXT')}</p>
              <Link href="/">{t('CORE_GO_HOME')}</Link>
            </Page>
          </Route>
        </Switch>
      </main>
    </>
  );
}

/** Signed out: to the sign-in page, which brings the person back here. Without the role: says so. */
function Guard({ page }: { page: PageDef }) {
  const { session, hasRole } = useSession();
  const { t } = useI18n();
  const [location] = useLocation();
  if (!page.public && !session) return <Redirect to={`/login?next=${encodeURIComponent(location + window.location.search)}`} replace />;
  if (page.roles && !hasRole(...page.roles))
    return (
      <Page titleCode={page.titleCode}>
        <div className="notice error" role="alert">
          {t('CORE_NOT_ALLOWED')}
        </div>
      </Page>
    );
  const Component = page.component;
  return (
    <Suspense fallback={<Loading />}>
      <Component />
    </Suspense>
  );
}

function Home({ pages }: { pages: PageDef[] }) {
  const { t } = useI18n();
  const { session } = useSession();
  if (!session) return <Redirect to="/login" replace />;
  return (
    <Page titleCode="CORE_HOME">
      <p>{t('CORE_WELCOME', { name: session.user.name })}</p>
      <ul className="tiles">
        {pages.map((p) => (
          <li key={p.path}>
            <Link href={p.path}>{t(p.titleCode)}</Link>
          </li>
        ))}
      </ul>
    </Page>
  );
}
