import { useEffect, useMemo, useRef, useState, type ChangeEvent, type FormEvent } from 'react';
import { Link } from 'wouter';
import { ApiError, uploadFile } from '../../../shell/api';
import { serviceDefCode, useI18n } from '../../../shell/i18n';
import { useSession } from '../../../shell/session';
import { ErrorNotice, Field, Loading, Page, useDraft } from '../../../shell/ui';
import { fileComplaint, serviceDefs, type ServiceDef } from '../api';
import { localityLabel, tenantLabel } from '../../../shell/places';
import { cities, type City } from './places';
import './citizen.css';

/** What the file store accepts for complaint photos; checked here so a wrong file never travels. */
export const PHOTO_TYPES = ['image/jpeg', 'image/png', 'image/webp'] as const;
export const PHOTO_MAX_BYTES = 5 * 1024 * 1024;
const DESCRIPTION_MAX = 2048;

type Draft = { serviceCode: string; city: string; locality: string; description: string; photoId: string };
type FieldName = 'serviceCode' | 'city' | 'locality' | 'description' | 'photo';
type FieldErrors = Partial<Record<FieldName, string[]>>;

const EMPTY: Draft = { serviceCode: '', city: '', locality: '', description: '', photoId: '' };

/** The server's reasons, put at the fields they name; the rest stay for the notice above the form. */
function placeRefusal(error: ApiError, t: (code: string) => string): { fields: FieldErrors; rest: ApiError | undefined } {
  const text = (e: { code: string; message: string }) => (t(e.code) !== e.code ? t(e.code) : e.message);
  const fields: FieldErrors = {};
  const placed = new Set<object>();
  const map: [FieldName, string[]][] = [
    ['serviceCode', ['serviceCode']],
    ['locality', ['locality']],
    ['city', ['tenantId']],
    ['description', ['description']],
    ['photo', ['verificationDocuments', 'fileStoreId', 'FILESTOREID']],
  ];
  for (const [field, names] of map) {
    for (const name of names)
      for (const e of error.forField(name)) {
        if (placed.has(e)) continue;
        placed.add(e);
        (fields[field] ??= []).push(text(e));
      }
  }
  const left = error.errors.filter((e) => !placed.has(e));
  return { fields, rest: left.length > 0 ? new ApiError(error.kind, error.status, left) : undefined };
}

/** A citizen files a complaint: type, where, an optional photo and what is wrong. */
export function FileComplaint() {
  const { t } = useI18n();
  const { stateTenant } = useSession();
  const [types, setTypes] = useState<ServiceDef[]>();
  const [places, setPlaces] = useState<City[]>();
  const [loadError, setLoadError] = useState<unknown>();
  const [draft, setDraft, clearDraft] = useDraft<Draft>('complaints.new', EMPTY);
  const [photo, setPhoto] = useState<File>();
  const [errors, setErrors] = useState<FieldErrors>({});
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const [filed, setFiled] = useState<{ id: string; tenantId: string }>();
  const photoInput = useRef<HTMLInputElement>(null);

  useEffect(() => {
    Promise.all([serviceDefs(stateTenant), cities(stateTenant)])
      .then(([defs, found]) => {
        setTypes(defs);
        setPlaces(found);
      })
      .catch(setLoadError);
  }, [stateTenant]);

  // One city: chosen for the person.
  useEffect(() => {
    if (places?.length === 1 && !draft.city) setDraft((d) => ({ ...d, city: places[0]!.code }));
  }, [places, draft.city, setDraft]);

  const preview = useMemo(() => (photo ? URL.createObjectURL(photo) : undefined), [photo]);
  useEffect(() => () => (preview ? URL.revokeObjectURL(preview) : undefined), [preview]);

  const city = places?.find((c) => c.code === draft.city);
  const sortedTypes = useMemo(
    () => [...(types ?? [])].sort((a, b) => t(serviceDefCode(a.serviceCode)).localeCompare(t(serviceDefCode(b.serviceCode)))),
    [types, t],
  );

  const update = (field: keyof Draft, value: string) => {
    setDraft((d) => ({ ...d, [field]: value, ...(field === 'city' ? { locality: '' } : {}) }));
    setErrors((e) => ({ ...e, [field]: undefined }));
  };

  const choosePhoto = (e: ChangeEvent<HTMLInputElement>) => {
    const file = e.target.files?.[0];
    setDraft((d) => ({ ...d, photoId: '' }));
    if (!file) return setPhoto(undefined);
    const problems: string[] = [];
    if (!(PHOTO_TYPES as readonly string[]).includes(file.type)) problems.push(t('CZ_PHOTO_ERROR_TYPE'));
    if (file.size > PHOTO_MAX_BYTES) problems.push(t('CZ_PHOTO_ERROR_SIZE'));
    setErrors((x) => ({ ...x, photo: problems.length > 0 ? problems : undefined }));
    if (problems.length > 0) {
      // The refused file is not kept: the input is emptied so the person chooses again.
      e.target.value = '';
      return setPhoto(undefined);
    }
    setPhoto(file);
  };

  const removePhoto = () => {
    setPhoto(undefined);
    setDraft((d) => ({ ...d, photoId: '' }));
    if (photoInput.current) photoInput.current.value = '';
  };

  const validate = (): FieldErrors => {
    const found: FieldErrors = {};
    if (!draft.serviceCode) found.serviceCode = [t('CS_ADDCOMPLAINT_ERROR_COMPLAINT_TYPE')];
    if (!draft.city) found.city = [t('CORE_REQUIRED')];
    if (!draft.locality) found.locality = [t('CZ_ERROR_LOCALITY')];
    if (draft.description.trim().length > DESCRIPTION_MAX) found.description = [t('CZ_ERROR_DESCRIPTION_LONG', { max: DESCRIPTION_MAX })];
    if (errors.photo?.length) found.photo = errors.photo;
    return found;
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const found = validate();
    setErrors(found);
    setError(undefined);
    if (Object.values(found).some((v) => v && v.length > 0)) return;
    setBusy(true);
    try {
      let photoId = draft.photoId;
      if (photo && !photoId) {
        try {
          photoId = await uploadFile(photo, draft.city, 'rainmaker-pgr');
        } catch (caught) {
          if (caught instanceof ApiError && caught.kind === 'refused') {
            setErrors({ photo: caught.errors.map((x) => (t(x.code) !== x.code ? t(x.code) : x.message)) });
            return;
          }
          throw caught;
        }
        // Kept, so a retry after a network failure does not upload the photo again.
        setDraft((d) => ({ ...d, photoId }));
      }
      const wrapper = await fileComplaint(
        {
          tenantId: draft.city,
          serviceCode: draft.serviceCode,
          description: draft.description.trim(),
          source: 'web',
          address: { locality: { code: draft.locality } },
        },
        { action: 'APPLY', ...(photoId ? { verificationDocuments: [{ documentType: 'PHOTO', fileStoreId: photoId }] } : {}) },
      );
      setFiled({ id: wrapper.service.serviceRequestId, tenantId: wrapper.service.tenantId });
      clearDraft();
      setPhoto(undefined);
    } catch (caught) {
      if (caught instanceof ApiError && caught.kind === 'refused') {
        const { fields, rest } = placeRefusal(caught, t);
        setErrors(fields);
        setError(rest);
      } else {
        setError(caught);
      }
    } finally {
      setBusy(false);
    }
  };

  if (filed)
    return (
      <Page titleCode="CS_COMMON_COMPLAINT_SUBMITTED">
        <div className="notice ok" role="status">
          <p>{t('CZ_FILED_TEXT')}</p>
          <p>
            {t('CS_COMMON_COMPLAINT_NO')}: <strong className="cz-number">{filed.id}</strong>
          </p>
        </div>
        <div className="row">
          <Link href={`/complaints/${encodeURIComponent(filed.id)}?tenantId=${encodeURIComponent(filed.tenantId)}`}>
            {t('CZ_VIEW_COMPLAINT')}
          </Link>
          <Link href="/complaints">{t('CS_HOME_MY_COMPLAINTS')}</Link>
        </div>
      </Page>
    );

  return (
    <Page titleCode="CS_COMMON_FILE_A_COMPLAINT">
      <ErrorNotice error={loadError} />
      {!types || !places ? (
        !loadError && <Loading />
      ) : (
        <form onSubmit={submit} noValidate className="form">
          <ErrorNotice error={error} />
          <Field label={t('CS_ADDCOMPLAINT_COMPLAINT_TYPE')} errors={errors.serviceCode}>
            {(props) => (
              <select {...props} name="serviceCode" value={draft.serviceCode} onChange={(e) => update('serviceCode', e.target.value)}>
                <option value="">{t('CS_ADDCOMPLAINT_COMPLAINT_TYPE_PLACEHOLDER')}</option>
                {sortedTypes.map((d) => (
                  <option key={d.serviceCode} value={d.serviceCode}>
                    {t(serviceDefCode(d.serviceCode))}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label={t('CORE_CITY')} errors={errors.city}>
            {(props) => (
              <select {...props} name="city" value={draft.city} onChange={(e) => update('city', e.target.value)}>
                <option value="">{t('CZ_CHOOSE')}</option>
                {places.map((c) => (
                  <option key={c.code} value={c.code}>
                    {t(tenantLabel(c.code))}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label={t('CZ_LOCALITY')} hint={t('CS_ADDCOMPLAINT_CITY_MOHALLA_TEXT')} errors={errors.locality}>
            {(props) => (
              <select
                {...props}
                name="locality"
                value={draft.locality}
                disabled={!city}
                onChange={(e) => update('locality', e.target.value)}
              >
                <option value="">{t('CZ_CHOOSE')}</option>
                {(city?.localities ?? [])
                  .map((l) => ({ code: l.code, label: t(localityLabel(city!.code, l.code)) }))
                  .sort((a, b) => a.label.localeCompare(b.label))
                  .map((l) => (
                    <option key={l.code} value={l.code}>
                      {l.label}
                    </option>
                  ))}
              </select>
            )}
          </Field>
          <Field label={t('CZ_PHOTO')} hint={t('CZ_PHOTO_HINT')} errors={errors.photo}>
            {(props) => (
              <input {...props} ref={photoInput} name="photo" type="file" accept={PHOTO_TYPES.join(',')} onChange={choosePhoto} />
            )}
          </Field>
          {preview && (
            <figure className="cz-preview">
              <img src={preview} alt={t('CZ_PHOTO_PREVIEW')} />
              <figcaption>
                <button type="button" className="link" onClick={removePhoto}>
                  {t('CZ_PHOTO_REMOVE')}
                </button>
              </figcaption>
            </figure>
          )}
          <Field label={t('CZ_DESCRIPTION')} hint={t('CZ_DESCRIPTION_HINT')} errors={errors.description}>
            {(props) => (
              <textarea
                {...props}
                name="description"
                maxLength={DESCRIPTION_MAX}
                value={draft.description}
                onChange={(e) => update('description', e.target.value)}
              />
            )}
          </Field>
          <button type="submit" className="primary" disabled={busy}>
            {t('CS_ADDCOMPLAINT_ADDITIONAL_DETAILS_SUBMIT_COMPLAINT')}
          </button>
        </form>
      )}
    </Page>
  );
}
