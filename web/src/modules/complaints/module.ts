import type { ServiceModule } from '../../shell/registry';

export const complaints: ServiceModule = {
  id: 'complaints',
  localizationModules: [],
};
