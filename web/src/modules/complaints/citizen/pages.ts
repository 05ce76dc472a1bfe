import { lazy } from 'react';
import type { PageDef } from '../../../shell/registry';

/** The citizen portal's complaint pages; `/complaints/new` before `/complaints/:id`, which would match it. */
export const citizenPages: readonly PageDef[] = [
  {
    path: '/complaints/new',
    component: lazy(() => import('./FileComplaint').then((m) => ({ default: m.FileComplaint }))),
    titleCode: 'CS_COMMON_FILE_A_COMPLAINT',
    home: true,
  },
  {
    path: '/complaints/:id',
    component: lazy(() => import('./ComplaintDetail').then((m) => ({ default: m.ComplaintDetail }))),
    titleCode: 'CS_COMPLAINT_DETAILS_COMPLAINT_DETAILS',
  },
  {
    path: '/complaints',
    component: lazy(() => import('./MyComplaints').then((m) => ({ default: m.MyComplaints }))),
    titleCode: 'CS_HOME_MY_COMPLAINTS',
    home: true,
  },
];
