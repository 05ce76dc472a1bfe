import { useEffect, useState, type FormEvent } from 'react';
import { Link } from 'wouter';
import { serviceDefCode, useI18n } from '../../../shell/i18n';
import { useSession } from '../../../shell/session';
import { ErrorNotice, Field, Loading, Page, useDraft } from '../../../shell/ui';
import { serviceDefs, statusCode, type ServiceDef } from '../api';
import { localities, localityLabel } from '../../../shell/places';
import { INBOX_STATUSES, PAGE_SIZE, searchInbox, slaText, type InboxAnswer, type InboxFilters } from './api';
import './workbench.css';

/** The time left on a complaint, in words; overdue ones say so in text as well as in colour. */
export function Sla({ ms }: { ms: number | null }) {
  const { t } = useI18n();
  if (ms === null) return <span>{t('WB_SLA_NONE')}</span>;
  const sla = slaText(ms);
  return <span className={sla.overdue ? 'overdue' : undefined}>{t(sla.code, { days: sla.days, hours: sla.hours })}</span>;
}

/** The employee's complaint inbox: what their roles can act on now, most urgent first. */
export function Inbox() {
  const { t } = useI18n();
  const { session } = useSession();
  const tenantId = session?.user.tenantId ?? '';
  const [filters, setFilters] = useDraft<InboxFilters>('wb-inbox-filters', { status: '', serviceCode: '', locality: '' });
  const [form, setForm] = useState<InboxFilters>(filters);
  const [offset, setOffset] = useState(0);
  const [answer, setAnswer] = useState<InboxAnswer>();
  const [error, setError] = useState<unknown>();
  const [types, setTypes] = useState<ServiceDef[]>([]);
  const [places, setPlaces] = useState<string[]>([]);

  useEffect(() => {
    serviceDefs(tenantId).then(setTypes, () => setTypes([]));
    localities(tenantId).then(setPlaces, () => setPlaces([]));
  }, [tenantId]);

  useEffect(() => {
    let live = true;
    setError(undefined);
    searchInbox(tenantId, filters, offset).then(
      (found) => live && setAnswer(found),
      (caught: unknown) => live && setError(caught),
    );
    return () => {
      live = false;
    };
  }, [tenantId, filters, offset]);

  const apply = (e: FormEvent) => {
    e.preventDefault();
    setOffset(0);
    setFilters(form);
  };
  const clear = () => {
    const none = { status: '', serviceCode: '', locality: '' };
    setForm(none);
    setOffset(0);
    setFilters(none);
  };

  return (
    <Page titleCode="WB_INBOX_TITLE">
      <form className="wb-filters" onSubmit={apply} aria-label={t('WB_FILTERS')}>
        <Field label={t('WB_FILTER_STATUS')}>
          {(props) => (
            <select {...props} value={form.status} onChange={(e) => setForm({ ...form, status: e.target.value })}>
              <option value="">{t('WB_ALL')}</option>
              {INBOX_STATUSES.map((s) => (
                <option key={s} value={s}>
                  {t(statusCode(s))}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label={t('WB_FILTER_TYPE')}>
          {(props) => (
            <select {...props} value={form.serviceCode} onChange={(e) => setForm({ ...form, serviceCode: e.target.value })}>
              <option value="">{t('WB_ALL')}</option>
              {types.map((d) => (
                <option key={d.serviceCode} value={d.serviceCode}>
                  {t(serviceDefCode(d.serviceCode))}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label={t('WB_FILTER_LOCALITY')}>
          {(props) => (
            <select {...props} value={form.locality} onChange={(e) => setForm({ ...form, locality: e.target.value })}>
              <option value="">{t('WB_ALL')}</option>
              {places.map((code) => (
                <option key={code} value={code}>
                  {t(localityLabel(tenantId, code))}
                </option>
              ))}
            </select>
          )}
        </Field>
        <div className="row wb-filter-actions">
          <button type="submit" className="primary">
            {t('WB_FILTER_APPLY')}
          </button>
          <button type="button" onClick={clear}>
            {t('WB_FILTER_CLEAR')}
          </button>
        </div>
      </form>
      <ErrorNotice error={error} />
      {!answer && !error && <Loading />}
      {answer && (
        <>
          <p role="status">
            {t('WB_INBOX_COUNT', { count: answer.totalCount })}
            {answer.nearingSlaCount > 0 && <> {t('WB_INBOX_NEARING', { count: answer.nearingSlaCount })}</>}
          </p>
          {answer.items.length === 0 ? (
            <p>{t('WB_INBOX_EMPTY')}</p>
          ) : (
            <table className="wb-inbox">
              <caption className="visually-hidden">{t('WB_INBOX_TITLE')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('WB_COL_NUMBER')}</th>
                  <th scope="col">{t('WB_COL_TYPE')}</th>
                  <th scope="col">{t('WB_COL_LOCALITY')}</th>
                  <th scope="col">{t('WB_COL_STATUS')}</th>
                  <th scope="col">{t('WB_COL_SLA')}</th>
                </tr>
              </thead>
              <tbody>
                {answer.items.map(({ businessObject: c }) => {
                  const overdue = c.serviceSla !== null && c.serviceSla < 0;
                  return (
                    <tr key={c.serviceRequestId} className={overdue ? 'wb-overdue-row' : undefined}>
                      <td data-label={t('WB_COL_NUMBER')}>
                        <Link href={`/complaints/${encodeURIComponent(c.serviceRequestId)}`}>{c.serviceRequestId}</Link>
                      </td>
                      <td data-label={t('WB_COL_TYPE')}>{t(serviceDefCode(c.serviceCode))}</td>
                      <td data-label={t('WB_COL_LOCALITY')}>{c.address.locality ? t(localityLabel(c.tenantId, c.address.locality.code)) : ''}</td>
                      <td data-label={t('WB_COL_STATUS')}>
                        <span className="status">{t(statusCode(c.applicationStatus))}</span>
                      </td>
                      <td data-label={t('WB_COL_SLA')}>
                        <Sla ms={c.serviceSla} />
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          )}
          {answer.totalCount > PAGE_SIZE && (
            <div className="row wb-pages">
              <button type="button" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE_SIZE))}>
                {t('WB_PREVIOUS')}
              </button>
              <span>{t('WB_PAGE', { from: offset + 1, to: Math.min(offset + PAGE_SIZE, answer.totalCount), total: answer.totalCount })}</span>
              <button type="button" disabled={offset + PAGE_SIZE >= answer.totalCount} onClick={() => setOffset(offset + PAGE_SIZE)}>
                {t('WB_NEXT')}
              </button>
            </div>
          )}
        </>
      )}
    </Page>
  );
}
