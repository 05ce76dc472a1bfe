import { useEffect, useId, useState, type ReactNode } from 'react';
import { ApiError } from './api';
import { useI18n } from './i18n';

/** A labelled form field; its errors are tied to the input for screen readers (aria-describedby). */
export function Field({
  label,
  errors = [],
  hint,
  children,
}: {
  label: string;
  errors?: readonly string[];
  hint?: string;
  children: (props: { id: string; 'aria-invalid': boolean; 'aria-describedby'?: string }) => ReactNode;
}) {
  const id = useId();
  const described = [hint ? `${id}-hint` : '', errors.length > 0 ? `${id}-error` : ''].filter(Boolean).join(' ');
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {hint && (
        <div className="hint" id={`${id}-hint`}>
          {hint}
        </div>
      )}
      {children({ id, 'aria-invalid': errors.length > 0, ...(described ? { 'aria-describedby': described } : {}) })}
      {errors.length > 0 && (
        <div className="field-error" id={`${id}-error`} role="alert">
          {errors.join(' ')}
        </div>
      )}
    </div>
  );
}

/**
 * What went wrong and what the person can do next. Network and server failures say so plainly and
 * that what they typed is kept; refusals show the server's own reasons.
 */
export function ErrorNotice({ error }: { error: unknown }) {
  const { t } = useI18n();
  if (!error) return null;
  let text: string;
  if (error instanceof ApiError) {
    if (error.kind === 'network') text = t('CORE_ERROR_NETWORK');
    else if (error.kind === 'server') text = t('CORE_ERROR_SERVER');
    else if (error.kind === 'session') text = t('CORE_ERROR_SESSION');
    else text = error.errors.map((e) => (t(e.code) !== e.code ? t(e.code) : e.message)).join(' ');
  } else {
    text = t('CORE_ERROR_SERVER');
  }
  return (
    <div className="notice error" role="alert">
      {text}
    </div>
  );
}

/** A page's frame: its title (also the document's) and content. */
export function Page({ titleCode, children, actions }: { titleCode: string; children: ReactNode; actions?: ReactNode }) {
  const { t } = useI18n();
  const title = t(titleCode);
  useEffect(() => {
    document.title = `${title} · Plinth`;
  }, [title]);
  return (
    <section className="page" aria-labelledby="page-title">
      <div className="page-head">
        <h1 id="page-title">{title}</h1>
        {actions}
      </div>
      {children}
    </section>
  );
}

export function Loading() {
  const { t } = useI18n();
  return (
    <p className="loading" role="status">
      {t('CORE_LOADING')}
    </p>
  );
}

/**
 * State kept in this tab's session storage, so what a person typed survives a failed send, a
 * reload and a detour through the sign-in page. `clear()` after a successful send.
 */
export function useDraft<T>(key: string, initial: T): [T, (next: T | ((previous: T) => T)) => void, () => void] {
  const storageKey = `plinth.draft.${key}`;
  const [value, setValue] = useState<T>(() => {
    try {
      const saved = sessionStorage.getItem(storageKey);
      return saved ? ({ ...initial, ...(JSON.parse(saved) as T) } as T) : initial;
    } catch {
      return initial;
    }
  });
  useEffect(() => {
    sessionStorage.setItem(storageKey, JSON.stringify(value));
  }, [storageKey, value]);
  const clear = () => {
    sessionStorage.removeItem(storageKey);
    setValue(initial);
  };
  return [value, setValue, clear];
}

/** Formats an epoch-millisecond time for the person's locale. */
export function formatDate(epochMs: number | null | undefined, locale: string): string {
  if (!epochMs) return '';
  return new Date(epochMs).toLocaleString(locale.replace('_', '-'), { dateStyle: 'medium', timeStyle: 'short' });
}
