import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { Link, useParams } from 'wouter';
import { ApiError, fileUrls, uploadFile } from '../../../shell/api';
import { serviceDefCode, useI18n } from '../../../shell/i18n';
import { useSession } from '../../../shell/session';
import { ErrorNotice, Field, Loading, Page, formatDate, useDraft } from '../../../shell/ui';
import { complaintHistory, searchComplaints, serviceDefs, statusCode, updateComplaint, type Complaint } from '../api';
import { Sla } from './Inbox';
import { localityLabel } from '../../../shell/places';
import { employees, type Employee, type Process } from './api';
import './workbench.css';

const HOUR = 3_600_000;
const MAX_PHOTO_BYTES = 5 * 1024 * 1024;
const PHOTO_TYPES = ['image/jpeg', 'image/png'];

type Loaded = { complaint: Complaint; history: Process[]; slaHours: number | undefined; photos: Record<string, string> };
type Allowed = { action: string; nextState: string };

/** Whether this step marks the complaint to an employee, who must then be picked. */
const picksEmployee = (a: Allowed) => a.action === 'ASSIGN' || (a.action === 'REASSIGN' && a.nextState === 'PENDINGATLME');

/** One complaint for an employee: its details, photos, history, and the actions their roles allow now. */
export function ComplaintDetail() {
  const { t, locale } = useI18n();
  const { session, hasRole } = useSession();
  const params = useParams<{ id: string }>();
  const id = decodeURIComponent(params.id ?? '');
  const tenantId = session?.user.tenantId ?? '';
  const [loaded, setLoaded] = useState<Loaded>();
  const [error, setError] = useState<unknown>();
  const [chosen, setChosen] = useState<Allowed>();
  const [done, setDone] = useState<string>();

  const load = useCallback(async () => {
    setError(undefined);
    try {
      const [found, history, defs] = await Promise.all([searchComplaints({ tenantId, serviceRequestId: id }), complaintHistory(tenantId, id), serviceDefs(tenantId)]);
      const complaint = found[0]?.service;
      if (!complaint) throw new ApiError('refused', 404, [{ code: 'WB_NOT_FOUND', message: t('WB_NOT_FOUND') }]);
      const steps = [...(history as Process[])].sort((a, b) => b.auditDetails.createdTime - a.auditDetails.createdTime);
      const ids = [...complaint.documents, ...steps.flatMap((s) => s.documents ?? [])].map((d) => d.fileStoreId);
      const links = await fileUrls(tenantId, [...new Set(ids)]).catch(() => ({}) as Record<string, string>);
      // Same-origin paths: the links carry the configured public URL, which the CSP's img-src 'self'
      // refuses when the workbench is reached under another name (a proxy, a test port).
      const photos = Object.fromEntries(
        Object.entries(links).map(([fileStoreId, url]) => {
          const link = new URL(url, window.location.origin);
          return [fileStoreId, link.pathname + link.search];
        }),
      );
      setLoaded({ complaint, history: steps, slaHours: defs.find((d) => d.serviceCode === complaint.serviceCode)?.slaHours, photos });
    } catch (caught) {
      setError(caught);
    }
  }, [tenantId, id, t]);

  useEffect(() => {
    void load();
  }, [load]);

  if (!loaded) return <Page titleCode="WB_COMPLAINT_TITLE">{error ? <ErrorNotice error={error} /> : <Loading />}</Page>;
  const { complaint, history, slaHours, photos } = loaded;
  const latest = history[0];
  // The workflow answers the caller's next actions; the state's actions by role otherwise.
  const allowed: Allowed[] = (latest?.nextActions ?? latest?.state.actions?.filter((a) => hasRole(...a.roles)) ?? []).filter((a) => a.action !== 'COMMENT');
  const sla = slaHours === undefined ? null : complaint.auditDetails.createdTime + slaHours * HOUR - Date.now();
  const locality = complaint.address.locality?.code;

  return (
    <Page titleCode="WB_COMPLAINT_TITLE">
      <p>
        <Link href="/complaints">{t('WB_BACK_TO_INBOX')}</Link>
      </p>
      {done && (
        <div className="notice ok" role="status">
          {done}
        </div>
      )}
      <ErrorNotice error={error} />
      <section className="card" aria-labelledby="wb-summary">
        <h2 id="wb-summary">{complaint.serviceRequestId}</h2>
        <dl className="wb-facts">
          <dt>{t('WB_COL_TYPE')}</dt>
          <dd>{t(serviceDefCode(complaint.serviceCode))}</dd>
          <dt>{t('WB_COL_STATUS')}</dt>
          <dd>
            <span className="status">{t(statusCode(complaint.applicationStatus))}</span>
          </dd>
          <dt>{t('WB_COL_SLA')}</dt>
          <dd>
            <Sla ms={sla} />
          </dd>
          <dt>{t('WB_COL_LOCALITY')}</dt>
          <dd>{locality ? t(localityLabel(complaint.tenantId, locality)) : ''}</dd>
          <dt>{t('WB_FILED_ON')}</dt>
          <dd>{formatDate(complaint.auditDetails.createdTime, locale)}</dd>
          <dt>{t('WB_CITIZEN')}</dt>
          <dd>{[complaint.citizen.name, complaint.citizen.mobileNumber].filter(Boolean).join(', ')}</dd>
          <dt>{t('WB_DESCRIPTION')}</dt>
          <dd>{complaint.description}</dd>
        </dl>
        {complaint.documents.length > 0 && (
          <>
            <h3>{t('WB_PHOTOS')}</h3>
            <Photos ids={complaint.documents.map((d) => d.fileStoreId)} urls={photos} />
          </>
        )}
      </section>

      <section aria-labelledby="wb-actions">
        <h2 id="wb-actions">{t('WB_ACTIONS')}</h2>
        {allowed.length === 0 ? (
          <p>{t('WB_NO_ACTIONS')}</p>
        ) : (
          <div className="wb-actions">
            {allowed.map((a) => (
              <button key={a.action} type="button" className={chosen?.action === a.action ? 'primary' : a.action === 'REJECT' ? 'danger' : undefined} aria-pressed={chosen?.action === a.action} onClick={() => setChosen(a)}>
                {t(`WB_ACTION_${a.action}`)}
              </button>
            ))}
          </div>
        )}
        {chosen && allowed.some((a) => a.action === chosen.action) && (
          <ActionForm
            key={chosen.action}
            complaint={complaint}
            allowed={chosen}
            onCancel={() => setChosen(undefined)}
            onDone={async () => {
              setDone(t('WB_DONE', { action: t(`WB_ACTION_${chosen.action}`) }));
              setChosen(undefined);
              await load();
            }}
          />
        )}
      </section>

      <section aria-labelledby="wb-history">
        <h2 id="wb-history">{t('WB_HISTORY')}</h2>
        <ol className="list wb-history">
          {history.map((step) => (
            <li key={step.id}>
              <strong>{t(`WB_ACTION_${step.action}`)}</strong> <span className="when">{formatDate(step.auditDetails.createdTime, locale)}</span>
              {step.state.applicationStatus && <div>{t(statusCode(step.state.applicationStatus))}</div>}
              {step.assigner?.name && <div>{t('WB_BY', { name: step.assigner.name })}</div>}
              {step.assignes && step.assignes.length > 0 && <div>{t('WB_ASSIGNED_TO', { names: step.assignes.map((a) => a.name ?? a.uuid).join(', ') })}</div>}
              {step.comment && <div>{t('WB_COMMENT_SAID', { comment: step.comment })}</div>}
              {step.documents && step.documents.length > 0 && <Photos ids={step.documents.map((d) => d.fileStoreId)} urls={photos} />}
            </li>
          ))}
        </ol>
      </section>
    </Page>
  );
}

function Photos({ ids, urls }: { ids: string[]; urls: Record<string, string> }) {
  const { t } = useI18n();
  return (
    <ul className="wb-photos">
      {ids.map((fileStoreId, index) =>
        urls[fileStoreId] ? (
          <li key={fileStoreId}>
            <a href={urls[fileStoreId]} target="_blank" rel="noreferrer">
              <img src={urls[fileStoreId]} alt={t('WB_PHOTO_N', { n: index + 1 })} />
            </a>
          </li>
        ) : null,
      )}
    </ul>
  );
}

type Draft = { assignee: string; comment: string };

/** The form of one workflow action: checked here first, then sent; the server's refusal is shown. */
function ActionForm({ complaint, allowed, onCancel, onDone }: { complaint: Complaint; allowed: Allowed; onCancel(): void; onDone(): Promise<void> }) {
  const { t } = useI18n();
  const [draft, setDraft, clearDraft] = useDraft<Draft>(`wb-action-${complaint.serviceRequestId}-${allowed.action}`, { assignee: '', comment: '' });
  const [photo, setPhoto] = useState<File>();
  const [people, setPeople] = useState<Employee[]>();
  const [problems, setProblems] = useState<Partial<Record<'assignee' | 'comment' | 'photo', string>>>({});
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const picking = picksEmployee(allowed);
  const reasonRequired = allowed.action === 'REJECT';

  useEffect(() => {
    if (!picking) return;
    employees(complaint.tenantId, ['PGR_LME']).then(setPeople, (caught: unknown) => {
      setPeople([]);
      setError(caught);
    });
  }, [picking, complaint.tenantId]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const found: typeof problems = {};
    if (picking && !draft.assignee) found.assignee = t('WB_ERROR_PICK_EMPLOYEE');
    if (reasonRequired && !draft.comment.trim()) found.comment = t('WB_ERROR_REASON');
    if (photo && !PHOTO_TYPES.includes(photo.type)) found.photo = t('WB_ERROR_PHOTO_TYPE');
    else if (photo && photo.size > MAX_PHOTO_BYTES) found.photo = t('WB_ERROR_PHOTO_SIZE');
    setProblems(found);
    if (Object.keys(found).length > 0) return;
    setBusy(true);
    setError(undefined);
    try {
      const fileStoreId = photo ? await uploadFile(photo, complaint.tenantId, 'PGR') : undefined;
      await updateComplaint(
        { tenantId: complaint.tenantId, serviceRequestId: complaint.serviceRequestId },
        {
          action: allowed.action,
          ...(picking ? { assignes: [draft.assignee] } : {}),
          ...(draft.comment.trim() ? { comments: draft.comment.trim() } : {}),
          ...(fileStoreId ? { verificationDocuments: [{ documentType: 'PHOTO', fileStoreId }] } : {}),
        },
      );
      clearDraft();
      await onDone();
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  const serverSays = (field: string) => (error instanceof ApiError ? error.forField(field).map((x) => (t(x.code) !== x.code ? t(x.code) : x.message)) : []);
  return (
    <form className="form card" onSubmit={submit} noValidate aria-label={t(`WB_ACTION_${allowed.action}`)}>
      <h3>{t(`WB_ACTION_${allowed.action}`)}</h3>
      <ErrorNotice error={error} />
      {picking && (
        <Field label={t('WB_ASSIGN_TO')} errors={[...(problems.assignee ? [problems.assignee] : []), ...serverSays('assignes')]}>
          {(props) => (
            <select {...props} value={draft.assignee} onChange={(e) => setDraft({ ...draft, assignee: e.target.value })}>
              <option value="">{people ? t('WB_PICK_EMPLOYEE') : t('CORE_LOADING')}</option>
              {(people ?? []).map((p) => (
                <option key={p.uuid} value={p.uuid}>
                  {p.user.name ?? p.code}
                </option>
              ))}
            </select>
          )}
        </Field>
      )}
      <Field label={t(reasonRequired ? 'WB_REASON' : 'WB_COMMENT')} errors={problems.comment ? [problems.comment] : []}>
        {(props) => <textarea {...props} maxLength={1000} value={draft.comment} onChange={(e) => setDraft({ ...draft, comment: e.target.value })} />}
      </Field>
      <Field label={t('WB_PHOTO')} hint={t('WB_PHOTO_HINT')} errors={[...(problems.photo ? [problems.photo] : []), ...serverSays('verificationDocuments')]}>
        {(props) => <input {...props} type="file" accept={PHOTO_TYPES.join(',')} onChange={(e) => setPhoto(e.target.files?.[0])} />}
      </Field>
      <div className="row">
        <button type="submit" className="primary" disabled={busy}>
          {t('WB_SEND', { action: t(`WB_ACTION_${allowed.action}`) })}
        </button>
        <button type="button" onClick={onCancel}>
          {t('WB_CANCEL')}
        </button>
      </div>
    </form>
  );
}
