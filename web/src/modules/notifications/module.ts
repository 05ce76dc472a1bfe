import { lazy } from 'react';
import type { ServiceModule } from '../../shell/registry';

/** In-app notifications (DIGIT's egov-user-event): the citizen's messages about their applications. */
export const notifications: ServiceModule = {
  id: 'notifications',
  localizationModules: [],
  citizen: [
    {
      path: '/notifications',
      component: lazy(() => import('./Notifications').then((m) => ({ default: m.Notifications }))),
      titleCode: 'CZ_NOTIFICATIONS',
      home: true,
    },
  ],
};
