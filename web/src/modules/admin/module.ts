import { lazy } from 'react';
import type { PageDef } from '../../shell/registry';
import type { ServiceModule } from '../../shell/registry';

/** Who may use each part of the console: the roles whose role-actions allow the calls it makes. */
export const MDMS_ROLES = ['SUPERUSER', 'MDMS_ADMIN'] as const;
export const LOCALIZATION_ROLES = ['SUPERUSER', 'LOC_ADMIN'] as const;
export const USER_ROLES = ['SUPERUSER'] as const;
export const WORKFLOW_ROLES = ['SUPERUSER', 'MDMS_ADMIN'] as const;

// Each page is its own chunk: the form generator and the graph layout load only with their page.
const Schemas = lazy(() => import('./mdms/Schemas').then((m) => ({ default: m.Schemas })));
const Records = lazy(() => import('./mdms/Records').then((m) => ({ default: m.Records })));
const RecordEditor = lazy(() => import('./mdms/RecordEditor').then((m) => ({ default: m.RecordEditor })));
const Messages = lazy(() => import('./localization/Messages').then((m) => ({ default: m.Messages })));
const Users = lazy(() => import('./users/Users').then((m) => ({ default: m.Users })));
const UserDetail = lazy(() => import('./users/UserDetail').then((m) => ({ default: m.UserDetail })));
const NewEmployee = lazy(() => import('./users/NewEmployee').then((m) => ({ default: m.NewEmployee })));
const Workflows = lazy(() => import('./workflows/Workflows').then((m) => ({ default: m.Workflows })));

const employee: readonly PageDef[] = [
  { path: '/admin/mdms', component: Schemas, titleCode: 'ADMIN_MDMS_TITLE', roles: MDMS_ROLES, home: true },
  { path: '/admin/mdms/:schemaCode', component: Records, titleCode: 'ADMIN_MDMS_RECORDS_TITLE', roles: MDMS_ROLES },
  { path: '/admin/mdms/:schemaCode/new', component: RecordEditor, titleCode: 'ADMIN_MDMS_NEW_TITLE', roles: MDMS_ROLES },
  { path: '/admin/mdms/:schemaCode/records/:id', component: RecordEditor, titleCode: 'ADMIN_MDMS_EDIT_TITLE', roles: MDMS_ROLES },
  { path: '/admin/localization', component: Messages, titleCode: 'ADMIN_LOC_TITLE', roles: LOCALIZATION_ROLES, home: true },
  { path: '/admin/users', component: Users, titleCode: 'ADMIN_USERS_TITLE', roles: USER_ROLES, home: true },
  { path: '/admin/users/new', component: NewEmployee, titleCode: 'ADMIN_USERS_NEW_TITLE', roles: USER_ROLES },
  { path: '/admin/users/:uuid', component: UserDetail, titleCode: 'ADMIN_USER_TITLE', roles: USER_ROLES },
  { path: '/admin/workflows', component: Workflows, titleCode: 'ADMIN_WF_TITLE', roles: WORKFLOW_ROLES, home: true },
  { path: '/admin/workflows/:businessService', component: Workflows, titleCode: 'ADMIN_WF_TITLE', roles: WORKFLOW_ROLES },
];

/** The admin console: master data, labels, users and roles, and workflows, for officials. */
export const admin: ServiceModule = {
  id: 'admin',
  localizationModules: [],
  employee,
};
