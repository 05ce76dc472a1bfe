import { useCallback, useEffect, useState } from 'react';
import { Link } from 'wouter';
import { useI18n } from '../../shell/i18n';
import { useSession } from '../../shell/session';
import { ErrorNotice, formatDate, Loading, Page } from '../../shell/ui';
import { countEvents, markSeen, searchEvents, type UserEvent } from './api';
import './notifications.css';

/** Where a notification leads inside the citizen app: a complaint's page, or an app path it names. */
function linkOf(event: UserEvent): string | undefined {
  if (event.referenceId && event.eventCategory?.toLowerCase() === 'pgr')
    return `/complaints/${encodeURIComponent(event.referenceId)}?tenantId=${encodeURIComponent(event.tenantId)}`;
  const url = event.actions?.actionUrls?.find((a) => a.actionUrl.startsWith('/citizen/'))?.actionUrl;
  return url?.slice('/citizen'.length);
}

/**
 * The person's in-app messages, unread first. The server counts as unread those changed since the
 * person last marked them read, so the newest `unreadCount` by change time are the unread ones.
 */
export function Notifications() {
  const { t, locale } = useI18n();
  const { stateTenant } = useSession();
  const [events, setEvents] = useState<{ unread: UserEvent[]; read: UserEvent[] }>();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  const load = useCallback(async () => {
    try {
      const [list, counts] = await Promise.all([searchEvents(stateTenant), countEvents(stateTenant)]);
      const byChange = [...list].sort((a, b) => b.auditDetails.lastModifiedTime - a.auditDetails.lastModifiedTime);
      const unreadIds = new Set(byChange.slice(0, counts.unreadCount).map((e) => e.id));
      const newest = (a: UserEvent, b: UserEvent) => b.auditDetails.createdTime - a.auditDetails.createdTime;
      setEvents({
        unread: list.filter((e) => unreadIds.has(e.id)).sort(newest),
        read: list.filter((e) => !unreadIds.has(e.id)).sort(newest),
      });
      setError(undefined);
    } catch (caught) {
      setError(caught);
    }
  }, [stateTenant]);

  useEffect(() => {
    void load();
  }, [load]);

  const markAllRead = async () => {
    setBusy(true);
    try {
      await markSeen(stateTenant);
      await load();
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  const item = (event: UserEvent, unread: boolean) => {
    const href = linkOf(event);
    return (
      <li key={event.id} className={`card nt-item${unread ? ' nt-unread' : ''}`}>
        <div>
          {unread && <span className="nt-badge">{t('CZ_UNREAD')}</span>}
          <strong>{event.name}</strong>
        </div>
        <p>{event.description}</p>
        <div className="row">
          <time className="nt-when" dateTime={new Date(event.auditDetails.createdTime).toISOString()}>
            {formatDate(event.auditDetails.createdTime, locale)}
          </time>
          {href && <Link href={href}>{t('CZ_VIEW_COMPLAINT')}</Link>}
        </div>
      </li>
    );
  };

  return (
    <Page
      titleCode="CZ_NOTIFICATIONS"
      actions={
        events && events.unread.length > 0 ? (
          <button type="button" onClick={() => void markAllRead()} disabled={busy}>
            {t('CZ_MARK_ALL_READ')}
          </button>
        ) : undefined
      }
    >
      <ErrorNotice error={error} />
      {!events && !error && <Loading />}
      {events && (
        <>
          <p role="status">{t('CZ_UNREAD_COUNT', { n: events.unread.length })}</p>
          {events.unread.length + events.read.length === 0 ? (
            <p className="notice">{t('CZ_NO_NOTIFICATIONS')}</p>
          ) : (
            <ul className="list" aria-label={t('CZ_NOTIFICATIONS')}>
              {events.unread.map((e) => item(e, true))}
              {events.read.map((e) => item(e, false))}
            </ul>
          )}
        </>
      )}
    </Page>
  );
}
