import { defineModule } from '../../kernel/module.js';
import { auditModule, type AuditApi } from '../../common/audit/index.js';
import { boundaryModule, type BoundaryApi } from '../../common/boundary/index.js';
import { encryptionModule, type EncryptionApi } from '../../common/encryption/index.js';
import { filestoreModule, type FilestoreApi } from '../../common/filestore/index.js';
import { idgenModule, type IdgenApi } from '../../common/idgen/index.js';
import { mdmsModule, type MdmsApi } from '../../common/mdms/index.js';
import { notificationModule, type NotificationApi } from '../../common/notification/index.js';
import { userModule, type UserApi } from '../../common/user/index.js';
import { workflowModule, type WorkflowApi } from '../../common/workflow/index.js';
import { complaintRoutes } from './complaint.routes.js';
import { complaintInboxRoutes } from './complaint.inbox.js';
import { dashboardRoutes } from './complaint.dashboard.js';
import { createComplaintService } from './complaint.service.js';
import { COMPLAINT_PII, createComplaintStore } from './complaint.store.js';
import { init } from './migrations/0001_init.js';
import { citizenEncrypted } from './migrations/0002_citizen_encrypted.js';
import type { ServiceWrapper } from './complaint.schema.js';

export type { ServiceWrapper } from './complaint.schema.js';
export type { ComplaintEvent } from './complaint.service.js';
export { CREATED_EVENT, UPDATED_EVENT } from './complaint.service.js';

export type ComplaintApi = {
  /** One complaint by its id (serviceRequestId), as `_search` shows it; no access rules applied. */
  get(tenantId: string, serviceRequestId: string): Promise<ServiceWrapper | undefined>;
};

export type ComplaintDeps = {
  mdms: MdmsApi;
  idgen: IdgenApi;
  workflow: WorkflowApi;
  boundary: BoundaryApi;
  users: UserApi;
  filestore: FilestoreApi;
  notification: NotificationApi;
  encryption: EncryptionApi;
  audit: AuditApi;
};

/** DIGIT's PGR: citizen complaints driven by the PGR workflow. */
export const complaintModule = defineModule<ComplaintApi, ComplaintDeps>({
  name: 'complaint',
  requires: { mdms: mdmsModule, idgen: idgenModule, workflow: workflowModule, boundary: boundaryModule, users: userModule, filestore: filestoreModule, notification: notificationModule, encryption: encryptionModule, audit: auditModule },
  migrations: [init, citizenEncrypted],
  create({ config, database, clock, outbox, logger }, deps) {
    const store = createComplaintStore(database, deps.encryption.service);
    // The citizen fields follow key rotations.
    deps.encryption.service.registerSealedTable({ name: 'complaint', table: 'pgr_service', id: 'id', text: COMPLAINT_PII.text, json: COMPLAINT_PII.json });
    const service = createComplaintService({ database, store, clock, outbox, publicUrl: config.publicUrl, ...deps });
    return {
      api: { get: (tenantId, serviceRequestId) => service.get(tenantId, serviceRequestId) },
      routes: (app) => [complaintRoutes(service), dashboardRoutes({ database, ...deps }), complaintInboxRoutes({ database, clock, ...deps, service })].forEach((register) => register(app)),
      // Complaints written before the citizen fields were encrypted are encrypted now (idempotent).
      async start() {
        const sealed = await store.sealStored();
        if (sealed > 0) logger.info({ rows: sealed }, 'complaints: citizen fields of earlier rows encrypted');
      },
    };
  },
});
