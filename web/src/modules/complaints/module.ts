import type { ServiceModule } from '../../shell/registry';
import { citizenPages } from './citizen/pages';
import { employeePages } from './employee/pages';

/** Citizen complaints (DIGIT's PGR): filing and tracking for citizens, the inbox for employees. */
export const complaints: ServiceModule = {
  id: 'complaints',
  localizationModules: ['rainmaker-pgr', 'rainmaker-pb.amritsar'],
  citizen: citizenPages,
  employee: employeePages,
};
