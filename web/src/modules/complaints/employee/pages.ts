import { lazy } from 'react';
import type { PageDef } from '../../../shell/registry';
import { WORKBENCH_ROLES } from './api';

/** The employee workbench's complaint pages. */
export const employeePages: readonly PageDef[] = [
  {
    path: '/complaints',
    component: lazy(() => import('./Inbox').then((m) => ({ default: m.Inbox }))),
    titleCode: 'WB_INBOX_TITLE',
    roles: WORKBENCH_ROLES,
    home: true,
  },
  {
    path: '/complaints/:id',
    component: lazy(() => import('./ComplaintDetail').then((m) => ({ default: m.ComplaintDetail }))),
    titleCode: 'WB_COMPLAINT_TITLE',
    roles: WORKBENCH_ROLES,
  },
];
