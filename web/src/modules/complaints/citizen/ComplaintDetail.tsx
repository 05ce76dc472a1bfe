import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { Link, useParams, useSearch } from 'wouter';
import { ApiError, fileUrls } from '../../../shell/api';
import { serviceDefCode, useI18n } from '../../../shell/i18n';
import { useSession } from '../../../shell/session';
import { ErrorNotice, Field, formatDate, Loading, Page, useDraft } from '../../../shell/ui';
import { complaintHistory, searchComplaints, statusCode, updateComplaint, type Complaint, type ProcessInstance } from '../api';
import { localityLabel } from '../../../shell/places';
import { myComplaints } from './places';
import './citizen.css';

// What a citizen may do from each status, as seed/workflow/PGR.json says; used when the history
// does not carry the state's actions.
const CITIZEN_ACTIONS: Record<string, readonly string[]> = { RESOLVED: ['RATE', 'REOPEN'], REJECTED: ['RATE', 'REOPEN'] };

function citizenActions(complaint: Complaint, history: readonly ProcessInstance[]): Set<string> {
  const actions = history[0]?.state.actions;
  if (actions) return new Set(actions.filter((a) => a.roles.includes('CITIZEN')).map((a) => a.action));
  return new Set(CITIZEN_ACTIONS[complaint.applicationStatus] ?? []);
}

/** One complaint of the citizen: what, where, photos, what happened so far, and rating or reopening. */
export function ComplaintDetail() {
  const { t, locale } = useI18n();
  const { stateTenant } = useSession();
  const { id = '' } = useParams<{ id: string }>();
  const tenantHint = new URLSearchParams(useSearch()).get('tenantId') ?? '';
  const [complaint, setComplaint] = useState<Complaint | null>();
  const [history, setHistory] = useState<ProcessInstance[]>([]);
  const [photos, setPhotos] = useState<string[]>([]);
  const [error, setError] = useState<unknown>();
  const [done, setDone] = useState<string>();

  const load = useCallback(async () => {
    try {
      const found = tenantHint
        ? await searchComplaints({ tenantId: tenantHint, serviceRequestId: id })
        : await myComplaints(stateTenant, { serviceRequestId: id });
      const service = found[0]?.service ?? null;
      if (!service) return setComplaint(null);
      const [steps, urls] = await Promise.all([
        complaintHistory(service.tenantId, service.serviceRequestId),
        fileUrls(
          service.tenantId,
          service.documents.map((d) => d.fileStoreId),
        ).catch(() => ({}) as Record<string, string>),
      ]);
      // Set together, so the actions offered always match the status shown.
      setComplaint(service);
      setHistory([...steps].sort((a, b) => b.auditDetails.createdTime - a.auditDetails.createdTime));
      setPhotos(Object.values(urls));
      setError(undefined);
    } catch (caught) {
      setError(caught);
    }
  }, [id, tenantHint, stateTenant]);

  useEffect(() => {
    void load();
  }, [load]);

  if (complaint === undefined)
    return error ? (
      <Page titleCode="CS_COMPLAINT_DETAILS_COMPLAINT_DETAILS">
        <ErrorNotice error={error} />
      </Page>
    ) : (
      <Loading />
    );
  if (complaint === null)
    return (
      <Page titleCode="CS_COMPLAINT_DETAILS_COMPLAINT_DETAILS">
        <p className="notice">{t('CZ_COMPLAINT_NOT_FOUND')}</p>
        <Link href="/complaints">{t('CS_HOME_MY_COMPLAINTS')}</Link>
      </Page>
    );

  const allowed = citizenActions(complaint, history);
  const acted = (message: string) => {
    setDone(message);
    void load();
  };

  return (
    <Page titleCode="CS_COMPLAINT_DETAILS_COMPLAINT_DETAILS">
      <ErrorNotice error={error} />
      {done && (
        <div className="notice ok" role="status">
          {t(done)}
        </div>
      )}
      <div className="card">
        <dl className="cz-facts">
          <div>
            <dt>{t('CS_COMMON_COMPLAINT_NO')}</dt>
            <dd>{complaint.serviceRequestId}</dd>
          </div>
          <div>
            <dt>{t('CS_COMMON_COMPLAINT_STATUS')}</dt>
            <dd>
              <span className="status">{t(statusCode(complaint.applicationStatus))}</span>
            </dd>
          </div>
          <div>
            <dt>{t('CS_ADDCOMPLAINT_COMPLAINT_TYPE')}</dt>
            <dd>{t(serviceDefCode(complaint.serviceCode))}</dd>
          </div>
          <div>
            <dt>{t('CZ_LOCALITY')}</dt>
            <dd>{complaint.address.locality ? t(localityLabel(complaint.tenantId, complaint.address.locality.code)) : ''}</dd>
          </div>
          <div>
            <dt>{t('CS_COMMON_COMPLAINT_DATE')}</dt>
            <dd>{formatDate(complaint.auditDetails.createdTime, locale)}</dd>
          </div>
          {complaint.description && (
            <div>
              <dt>{t('CZ_DESCRIPTION')}</dt>
              <dd>{complaint.description}</dd>
            </div>
          )}
          {complaint.rating !== null && (
            <div>
              <dt>{t('CZ_YOUR_RATING')}</dt>
              <dd>{t('CZ_STARS', { n: complaint.rating })}</dd>
            </div>
          )}
        </dl>
      </div>

      {photos.length > 0 && (
        <>
          <h2>{t('CS_COMMON_ATTACHMENTS')}</h2>
          <ul className="cz-photos">
            {photos.map((url, i) => (
              <li key={url}>
                <a href={url} target="_blank" rel="noreferrer">
                  <img src={url} alt={t('CZ_PHOTO_N', { n: i + 1 })} />
                </a>
              </li>
            ))}
          </ul>
        </>
      )}

      {allowed.has('RATE') && <RateForm complaint={complaint} onDone={() => acted('CZ_RATED')} />}
      {allowed.has('REOPEN') && <ReopenForm complaint={complaint} onDone={() => acted('CZ_REOPENED')} />}

      <h2>{t('CS_COMPLAINT_DETAILS_COMPLAINT_TIMELINE')}</h2>
      <ol className="cz-timeline" aria-label={t('CS_COMPLAINT_DETAILS_COMPLAINT_TIMELINE')}>
        {history.map((step) => (
          <li key={step.id}>
            <div>
              <strong>{t(`CS_ACTION_${step.action.toUpperCase()}`)}</strong> ·{' '}
              <span className="status">{t(statusCode(step.state.applicationStatus ?? step.state.state ?? ''))}</span>
            </div>
            <div className="cz-when">
              <time dateTime={new Date(step.auditDetails.createdTime).toISOString()}>
                {formatDate(step.auditDetails.createdTime, locale)}
              </time>
            </div>
            {step.comment && <p>{step.comment}</p>}
          </li>
        ))}
      </ol>
      <Link href="/complaints">{t('CS_HOME_MY_COMPLAINTS')}</Link>
    </Page>
  );
}

/** Rating 1 to 5 with an optional comment: the workflow's RATE, which closes the complaint. */
function RateForm({ complaint, onDone }: { complaint: Complaint; onDone: () => void }) {
  const { t } = useI18n();
  const [form, setForm, clear] = useDraft(`complaints.rate.${complaint.serviceRequestId}`, { rating: 0, comments: '' });
  const [missing, setMissing] = useState(false);
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setMissing(form.rating < 1);
    if (form.rating < 1) return;
    setBusy(true);
    setError(undefined);
    try {
      await updateComplaint(
        { tenantId: complaint.tenantId, serviceRequestId: complaint.serviceRequestId, rating: form.rating },
        { action: 'RATE', ...(form.comments.trim() ? { comments: form.comments.trim() } : {}) },
      );
      clear();
      onDone();
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  const serverRating = error instanceof ApiError ? error.forField('rating') : [];
  return (
    <form onSubmit={submit} noValidate className="form card">
      <h2>{t('CS_COMPLAINT_DETAILS_RATE')}</h2>
      <ErrorNotice error={serverRating.length > 0 ? undefined : error} />
      <fieldset className="cz-stars" aria-describedby={missing || serverRating.length > 0 ? 'cz-rating-error' : undefined}>
        <legend>{t('CZ_RATING')}</legend>
        {[1, 2, 3, 4, 5].map((n) => (
          <label key={n}>
            <input
              type="radio"
              name="rating"
              value={n}
              checked={form.rating === n}
              onChange={() => setForm((f) => ({ ...f, rating: n }))}
            />
            {t('CZ_STARS', { n })}
          </label>
        ))}
      </fieldset>
      {(missing || serverRating.length > 0) && (
        <div className="field-error" id="cz-rating-error" role="alert">
          {missing ? t('CZ_ERROR_RATING') : serverRating.map((x) => x.message).join(' ')}
        </div>
      )}
      <Field label={t('CZ_RATE_COMMENT')}>
        {(props) => (
          <textarea
            {...props}
            name="comments"
            maxLength={1024}
            value={form.comments}
            onChange={(e) => setForm((f) => ({ ...f, comments: e.target.value }))}
          />
        )}
      </Field>
      <button type="submit" className="primary" disabled={busy}>
        {t('CZ_SEND_RATING')}
      </button>
    </form>
  );
}

/** Reopening a resolved or rejected complaint, with the reason: the workflow's REOPEN. */
function ReopenForm({ complaint, onDone }: { complaint: Complaint; onDone: () => void }) {
  const { t } = useI18n();
  const [reason, setReason, clear] = useDraft(`complaints.reopen.${complaint.serviceRequestId}`, { text: '' });
  const [missing, setMissing] = useState(false);
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setMissing(!reason.text.trim());
    if (!reason.text.trim()) return;
    setBusy(true);
    setError(undefined);
    try {
      await updateComplaint(
        { tenantId: complaint.tenantId, serviceRequestId: complaint.serviceRequestId },
        { action: 'REOPEN', comments: reason.text.trim() },
      );
      clear();
      onDone();
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  const serverReason = error instanceof ApiError ? error.forField('comments').map((x) => x.message) : [];
  return (
    <form onSubmit={submit} noValidate className="form card">
      <h2>{t('CS_REOPEN_COMPLAINT')}</h2>
      <ErrorNotice error={serverReason.length > 0 ? undefined : error} />
      <Field label={t('CZ_REOPEN_REASON')} errors={missing ? [t('CORE_REQUIRED')] : serverReason}>
        {(props) => (
          <textarea
            {...props}
            name="reopenReason"
            maxLength={1024}
            value={reason.text}
            onChange={(e) => setReason({ text: e.target.value })}
          />
        )}
      </Field>
      <button type="submit" className="danger" disabled={busy}>
        {t('CZ_REOPEN')}
      </button>
    </form>
  );
}
