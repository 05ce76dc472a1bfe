import type { ServiceModule } from '../../shell/registry';

export const admin: ServiceModule = {
  id: 'admin',
  localizationModules: [],
};
