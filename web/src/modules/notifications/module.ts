import type { ServiceModule } from '../../shell/registry';

/** In-app notifications (DIGIT's egov-user-event). */
export const notifications: ServiceModule = {
  id: 'notifications',
  localizationModules: [],
};
