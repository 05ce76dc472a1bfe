import { lazy } from 'react';
import type { ServiceModule } from '../../shell/registry';
import { DASHBOARD_ROLES } from './roles';

/** Complaint dashboards for officials; the chart library loads only with the page. */
export const dashboards: ServiceModule = {
  id: 'dashboards',
  localizationModules: ['rainmaker-pgr', 'rainmaker-pb.amritsar'],
  employee: [
    {
      path: '/dashboards',
      component: lazy(() => import('./Dashboards').then((m) => ({ default: m.Dashboards }))),
      titleCode: 'DASH_TITLE',
      roles: DASHBOARD_ROLES,
      home: true,
    },
  ],
};
