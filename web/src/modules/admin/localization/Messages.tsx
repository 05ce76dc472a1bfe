import { useEffect, useRef, useState, type FormEvent } from 'react';
import { LOCALES, useI18n, type Locale } from '../../../shell/i18n';
import { useSession } from '../../../shell/session';
import { ErrorNotice, Field, Loading, Page } from '../../../shell/ui';
import { searchMessages, upsertMessages, type Message } from '../api';

/** The label modules of the demo's apps and services (DIGIT's names). */
const MODULES = ['rainmaker-common', 'rainmaker-pgr', 'rainmaker-pb.amritsar', 'egov-user'] as const;
/** Enough rows to find a label by; a narrower search shows the rest. */
const MAX_ROWS = 100;

/**
 * The labels of the apps, by locale and module: find one by its code or text and change its text.
 * The server drops its cached lists on every change, so each app shows the new text on its next load.
 */
export function Messages() {
  const { t, reload } = useI18n();
  const { stateTenant } = useSession();
  const [locale, setLocale] = useState<Locale>('en_IN');
  const [module, setModule] = useState<string>(MODULES[0]);
  const [query, setQuery] = useState('');
  const [messages, setMessages] = useState<Message[]>();
  const [error, setError] = useState<unknown>();
  const [editing, setEditing] = useState<Message>();
  const [text, setText] = useState('');
  const [missing, setMissing] = useState(false);
  const [saveError, setSaveError] = useState<unknown>();
  const [saved, setSaved] = useState<string>();
  const [busy, setBusy] = useState(false);
  const textArea = useRef<HTMLTextAreaElement>(null);

  useEffect(() => {
    let live = true;
    setMessages(undefined);
    setError(undefined);
    searchMessages(stateTenant, locale, module)
      .then((found) => live && setMessages(found.sort((a, b) => a.code.localeCompare(b.code))))
      .catch((e: unknown) => live && setError(e));
    return () => {
      live = false;
    };
  }, [stateTenant, locale, module]);

  useEffect(() => {
    if (editing) textArea.current?.focus();
  }, [editing]);

  const edit = (message: Message) => {
    setEditing(message);
    setText(message.locale === locale ? message.message : '');
    setMissing(false);
    setSaveError(undefined);
    setSaved(undefined);
  };

  const save = async (e: FormEvent) => {
    e.preventDefault();
    if (!editing) return;
    if (text.trim() === '') return setMissing(true);
    setMissing(false);
    setBusy(true);
    setSaveError(undefined);
    try {
      const changed: Message = { code: editing.code, message: text.trim(), module, locale };
      await upsertMessages(stateTenant, [changed]);
      setMessages((list) => list?.map((m) => (m.code === changed.code ? changed : m)));
      setSaved(changed.code);
      setEditing(undefined);
      // This console's own labels too: it keeps the messages it loaded in memory.
      await reload();
    } catch (caught) {
      setSaveError(caught);
    } finally {
      setBusy(false);
    }
  };

  const needle = query.trim().toLowerCase();
  const matching = (messages ?? []).filter((m) => !needle || m.code.toLowerCase().includes(needle) || m.message.toLowerCase().includes(needle));
  return (
    <Page titleCode="ADMIN_LOC_TITLE">
      <div className="admin-filters">
        <Field label={t('ADMIN_LOC_LOCALE')}>
          {(props) => (
            <select {...props} value={locale} onChange={(e) => setLocale(e.target.value as Locale)}>
              {LOCALES.map((l) => (
                <option key={l.code} value={l.code} lang={l.lang}>
                  {l.label}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label={t('ADMIN_LOC_MODULE')}>
          {(props) => (
            <select {...props} value={module} onChange={(e) => setModule(e.target.value)}>
              {MODULES.map((m) => (
                <option key={m} value={m}>
                  {m}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label={t('ADMIN_LOC_SEARCH')}>{(props) => <input {...props} type="search" value={query} onChange={(e) => setQuery(e.target.value)} />}</Field>
      </div>
      {saved && (
        <div className="notice ok" role="status">
          {t('ADMIN_LOC_SAVED', { code: saved })}
        </div>
      )}
      {editing && (
        <form className="card admin-message-edit" onSubmit={save} noValidate aria-labelledby="admin-loc-editing">
          <h2 id="admin-loc-editing">{t('ADMIN_LOC_EDITING', { code: editing.code })}</h2>
          <ErrorNotice error={saveError} />
          <Field label={t('ADMIN_LOC_TEXT')} errors={missing ? [t('CORE_REQUIRED')] : []} hint={editing.locale !== locale ? t('ADMIN_LOC_FALLBACK_HINT', { text: editing.message }) : undefined}>
            {(props) => <textarea {...props} ref={textArea} name="message" value={text} onChange={(e) => setText(e.target.value)} />}
          </Field>
          <div className="row">
            <button type="submit" className="primary" disabled={busy}>
              {t('ADMIN_SAVE')}
            </button>
            <button type="button" onClick={() => setEditing(undefined)}>
              {t('ADMIN_CANCEL')}
            </button>
          </div>
        </form>
      )}
      <ErrorNotice error={error} />
      {!messages && !error ? (
        <Loading />
      ) : (
        <>
          <p role="status">{t('ADMIN_LOC_COUNT', { shown: Math.min(matching.length, MAX_ROWS), total: matching.length })}</p>
          <div className="table-scroll">
            <table>
              <caption className="visually-hidden">{t('ADMIN_LOC_TITLE')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('ADMIN_LOC_CODE')}</th>
                  <th scope="col">{t('ADMIN_LOC_TEXT')}</th>
                  <th scope="col">
                    <span className="visually-hidden">{t('ADMIN_ACTIONS')}</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {matching.slice(0, MAX_ROWS).map((m) => (
                  <tr key={m.code}>
                    <td className="admin-code">{m.code}</td>
                    <td lang={m.locale === 'hi_IN' ? 'hi' : 'en'}>
                      {m.message}
                      {m.locale !== locale && <span className="hint"> {t('ADMIN_LOC_FALLBACK')}</span>}
                    </td>
                    <td>
                      <button type="button" onClick={() => edit(m)} aria-label={t('ADMIN_LOC_EDIT_CODE', { code: m.code })}>
                        {t('ADMIN_EDIT')}
                      </button>
                    </td>
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
