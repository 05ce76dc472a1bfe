import { useEffect, useState } from 'react';
import { Link } from 'wouter';
import { serviceDefCode, useI18n } from '../../../shell/i18n';
import { useSession } from '../../../shell/session';
import { ErrorNotice, formatDate, Loading, Page } from '../../../shell/ui';
import { statusCode, type ServiceWrapper } from '../api';
import { myComplaints } from './places';
import './citizen.css';

/** The citizen's complaints, newest first, each with its number, type, status and date. */
export function MyComplaints() {
  const { t, locale } = useI18n();
  const { stateTenant } = useSession();
  const [list, setList] = useState<ServiceWrapper[]>();
  const [error, setError] = useState<unknown>();

  useEffect(() => {
    myComplaints(stateTenant).then(setList, setError);
  }, [stateTenant]);

  return (
    <Page
      titleCode="CS_HOME_MY_COMPLAINTS"
      actions={
        <Link href="/complaints/new" className="cz-button">
          {t('CS_COMMON_FILE_A_COMPLAINT')}
        </Link>
      }
    >
      <ErrorNotice error={error} />
      {!list && !error && <Loading />}
      {list?.length === 0 && <p className="notice">{t('CZ_NO_COMPLAINTS')}</p>}
      {list && list.length > 0 && (
        <ul className="list" aria-label={t('CS_HOME_MY_COMPLAINTS')}>
          {list.map(({ service }) => (
            <li key={service.id} className="card cz-complaint">
              <Link
                href={`/complaints/${encodeURIComponent(service.serviceRequestId)}?tenantId=${encodeURIComponent(service.tenantId)}`}
                className="cz-title"
              >
                {t(serviceDefCode(service.serviceCode))}
              </Link>
              <div className="cz-meta">
                <span>
                  {t('CS_COMMON_COMPLAINT_NO')}: {service.serviceRequestId}
                </span>
                <span className="status">{t(statusCode(service.applicationStatus))}</span>
              </div>
              <div className="cz-meta">
                {t('CS_COMMON_COMPLAINT_DATE')}:{' '}
                <time dateTime={new Date(service.auditDetails.createdTime).toISOString()}>
                  {formatDate(service.auditDetails.createdTime, locale)}
                </time>
              </div>
            </li>
          ))}
        </ul>
      )}
    </Page>
  );
}
