import type { ServiceModule } from '../../shell/registry';

export const dashboards: ServiceModule = {
  id: 'dashboards',
  localizationModules: [],
};
