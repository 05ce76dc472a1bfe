import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { post } from './api';

export const LOCALES = [
  { code: 'en_IN', label: 'English', lang: 'en' },
  { code: 'hi_IN', label: 'हिंदी', lang: 'hi' },
] as const;
export type Locale = (typeof LOCALES)[number]['code'];

type I18nContext = {
  locale: Locale;
  setLocale(locale: Locale): void;
  /** The label of `code` in the current locale; the code itself when no message exists (so a gap shows). */
  t(code: string, params?: Record<string, string | number>): string;
  /** False until the first locale's messages arrived. */
  ready: boolean;
  /** Fetches the messages again (after an official changed a label). */
  reload(): Promise<void>;
};

const Context = createContext<I18nContext | undefined>(undefined);
const LOCALE_KEY = 'plinth.locale';

function initialLocale(): Locale {
  const saved = localStorage.getItem(LOCALE_KEY);
  if (LOCALES.some((l) => l.code === saved)) return saved as Locale;
  return navigator.language.toLowerCase().startsWith('hi') ? 'hi_IN' : 'en_IN';
}

/**
 * Every label of the apps comes from DIGIT's localization service (`/localization/messages/v1/_search`),
 * for the state tenant and the modules the registered services name; officials change them in the
 * admin console without a release.
 */
export function I18nProvider({ tenantId, modules, children }: { tenantId: string; modules: readonly string[]; children: ReactNode }) {
  const [locale, setLocaleState] = useState<Locale>(initialLocale);
  const [messages, setMessages] = useState<Map<string, string>>(new Map());
  const [ready, setReady] = useState(false);
  const moduleList = modules.join(',');

  const load = useCallback(
    async (which: Locale) => {
      try {
        const body = await post<{ messages: { code: string; message: string }[] }>('/localization/messages/v1/_search', {}, { query: { locale: which, tenantId, module: moduleList }, anonymous: true });
        setMessages(new Map(body.messages.map((m) => [m.code, m.message])));
      } catch {
        // Offline: keep what is shown; the codes stand in until the next load.
      } finally {
        setReady(true);
      }
    },
    [tenantId, moduleList],
  );

  useEffect(() => {
    document.documentElement.lang = LOCALES.find((l) => l.code === locale)?.lang ?? 'en';
    void load(locale);
  }, [locale, load]);

  const setLocale = useCallback((next: Locale) => {
    localStorage.setItem(LOCALE_KEY, next);
    setLocaleState(next);
  }, []);

  const t = useCallback(
    (code: string, params?: Record<string, string | number>) => {
      let text = messages.get(code) ?? code;
      if (params) for (const [key, value] of Object.entries(params)) text = text.replaceAll(`{${key}}`, String(value));
      return text;
    },
    [messages],
  );

  const value = useMemo(() => ({ locale, setLocale, t, ready, reload: () => load(locale) }), [locale, setLocale, t, ready, load]);
  return <Context.Provider value={value}>{children}</Context.Provider>;
}

export function useI18n(): I18nContext {
  const value = useContext(Context);
  if (!value) throw new Error('useI18n outside I18nProvider');
  return value;
}

/** DIGIT's localization code of a complaint type (`SERVICEDEFS.STREETLIGHTNOTWORKING`). */
export const serviceDefCode = (serviceCode: string) => `SERVICEDEFS.${serviceCode.toUpperCase()}`;
