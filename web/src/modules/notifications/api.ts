// DIGIT's egov-user-event for the signed-in person: search criteria travel in the query string.
import { post } from '../../shell/api';

export type UserEvent = {
  id: string;
  tenantId: string;
  eventCategory: string | null;
  name: string;
  description: string;
  referenceId: string | null;
  actions: { actionUrls?: { actionUrl: string; code?: string | null }[] | null } | null;
  auditDetails: { createdTime: number; lastModifiedTime: number };
};

const BASE = '/egov-user-event/v1/events';

export async function searchEvents(tenantId: string, limit = 100): Promise<UserEvent[]> {
  const body = await post<{ events: UserEvent[] }>(`${BASE}/_search`, {}, { query: { tenantId, limit } });
  return body.events;
}

export async function countEvents(tenantId: string): Promise<{ totalCount: number; unreadCount: number }> {
  return post<{ totalCount: number; unreadCount: number }>(`${BASE}/notifications/_count`, {}, { query: { tenantId } });
}

/** Records that the person has now seen their notifications (DIGIT's last-access time). */
export async function markSeen(tenantId: string): Promise<void> {
  await post(`${BASE}/lat/_update`, {}, { query: { tenantId } });
}
