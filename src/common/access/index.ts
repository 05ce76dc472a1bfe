import type { Authorizer } from '../../kernel/auth.js';
import { defineModule } from '../../kernel/module.js';
import { mdmsModule, type MdmsApi } from '../mdms/index.js';
import { createGrantPolicy, type GrantPolicy } from './access.grants.js';
import { accessRoutes } from './access.routes.js';
import { createAccessService, type AccessService } from './access.service.js';

export type { AccessService, ActionCriteria, RoleCriteria } from './access.service.js';
export type { Action, Role, RoleInput } from './access.schema.js';
export type { GrantPolicy, GrantRule, GrantTarget } from './access.grants.js';
export { grantRefusal } from './access.grants.js';
export { accessMasters, type AccessDeclaration, type ApiActionDeclaration, type RoleDeclaration } from './access.masters.js';

export type AccessApi = {
  /** For the kernel's auth hook: the gateway's role-action check. */
  readonly authorizer: Authorizer;
  readonly service: AccessService;
  /** Who may create or change users holding which roles (MDMS `ACCESSCONTROL-ROLES.rolegrants`). */
  readonly grants: GrantPolicy;
};

/** DIGIT's egov-accesscontrol: roles, actions and role-actions as MDMS masters at the state tenant. */
export const accessModule = defineModule<AccessApi, { mdms: MdmsApi }>({
  name: 'access',
  requires: { mdms: mdmsModule },
  // Everything lives in MDMS, as in DIGIT; the module has no tables of its own.
  migrations: [],
  create({ changes }, { mdms }) {
    const service = createAccessService({ mdms: mdms.service, changes });
    const grants = createGrantPolicy({ mdms: mdms.service, changes });
    return {
      api: { authorizer: service, service, grants },
      routes: accessRoutes(service),
      stop: async () => {
        service.close();
        grants.close();
      },
    };
  },
});
