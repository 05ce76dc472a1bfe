import type { HttpApp } from '../../kernel/http.js';
import { responseInfo } from '../../kernel/envelope.js';
import { AuditSearchRequest, AuditSearchResponse, AuditVerifyRequest, AuditVerifyResponse } from './audit.schema.js';
import type { AuditLog } from './audit.service.js';

const tags = ['audit'];

/** Protected routes (no `open` flag): the kernel's auth hook decides which roles may read the log. */
export function auditRoutes(log: AuditLog) {
  return (app: HttpApp) => {
    app.post(
      '/audit/v1/_search',
      {
        schema: {
          tags,
          summary: 'Search the audit log of a tenant, newest first',
          body: AuditSearchRequest,
          response: { 200: AuditSearchResponse },
        },
      },
      async (request) => {
        const { AuditCriteria: criteria, RequestInfo } = request.body;
        const entries = await log.search({
          tenantId: criteria.tenantId,
          actions: criteria.actions ?? undefined,
          subject: criteria.subject ?? undefined,
          actorUuid: criteria.actorUuid ?? undefined,
          fromTime: criteria.fromTime ?? undefined,
          toTime: criteria.toTime ?? undefined,
          offset: criteria.offset ?? 0,
          limit: criteria.limit ?? 100,
        });
        return { ResponseInfo: responseInfo(RequestInfo, request.id), AuditEntries: entries };
      },
    );

    app.post(
      '/audit/v1/_verify',
      {
        // Without a tenant it checks every chain (an operator's check; it answers counts, not entries).
        config: { tenant: 'none' },
        schema: {
          tags,
          summary: "Check the audit log's hash chains (one tenant's, or all) and name the first broken link",
          body: AuditVerifyRequest,
          response: { 200: AuditVerifyResponse },
        },
      },
      async (request) => {
        const { tenantId, RequestInfo } = request.body;
        const report = await log.verify(tenantId ?? undefined);
        return {
          ResponseInfo: responseInfo(RequestInfo, request.id, report.ok ? 'successful' : 'failed'),
          ok: report.ok,
          tenants: report.tenants,
          entries: report.entries,
          firstBroken: report.firstBroken ?? null,
        };
      },
    );
  };
}
