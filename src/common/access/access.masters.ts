import type { ModuleMaster } from '../../kernel/module.js';
import { DEFAULT_ACTION_MASTER, ROLES_SCHEMA } from './access.service.js';

/** One API a module serves and the roles that may call it (DIGIT's action and its role-actions). */
export type ApiActionDeclaration = {
  /** e.g. `LICENSE_CREATE` */
  readonly code: string;
  /** The route's path, e.g. `/license/v1/_create` (`{name}` for a path parameter). */
  readonly url: string;
  /** What the menu and the action search show, e.g. `License: create one`. */
  readonly name: string;
  readonly roles: readonly string[];
};

/** A role a module introduces (ACCESSCONTROL-ROLES.roles). */
export type RoleDeclaration = { readonly code: string; readonly name: string; readonly description?: string };

export type AccessDeclaration = {
  /** DIGIT's serviceCode of the actions, e.g. `LICENSE`. */
  readonly serviceCode: string;
  /**
   * The id of the first action; the others follow in the order given. Action ids are global in a
   * state: take a block no other module or seed file uses (`npx plinth new-module` picks one).
   */
  readonly firstId: number;
  readonly roles?: readonly RoleDeclaration[];
  readonly actions: readonly ApiActionDeclaration[];
};

/**
 * A module's roles, API actions and role-actions as the MDMS masters egov-accesscontrol reads, for
 * the `masters` of its definition: every route is denied unless these allow it.
 */
export function accessMasters({ serviceCode, firstId, roles = [], actions }: AccessDeclaration): (stateTenantId: string) => ModuleMaster[] {
  const numbered = actions.map((action, i) => ({ ...action, id: firstId + i }));
  return (stateTenantId) => [
    ...(roles.length > 0 ? [{ schemaCode: ROLES_SCHEMA, data: roles.map((r) => ({ ...r })) }] : []),
    {
      schemaCode: `ACCESSCONTROL-ACTIONS-TEST.${DEFAULT_ACTION_MASTER}`,
      data: numbered.map((a) => ({
        id: a.id,
        name: a.name,
        url: a.url,
        displayName: a.name,
        orderNumber: 0,
        queryParams: '',
        parentModule: '',
        enabled: false,
        serviceCode,
        code: a.code,
        path: '',
      })),
    },
    {
      schemaCode: 'ACCESSCONTROL-ROLEACTIONS.roleactions',
      data: numbered.flatMap((a) => a.roles.map((rolecode) => ({ rolecode, actionid: a.id, actioncode: a.code, tenantId: stateTenantId }))),
    },
  ];
}
