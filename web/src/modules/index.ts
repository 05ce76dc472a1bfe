import type { ServiceModule } from '../shell/registry';
import { complaints } from './complaints/module';
import { notifications } from './notifications/module';
import { admin } from './admin/module';
import { dashboards } from './dashboards/module';

/** Every service the web apps offer: the one place a new service is registered. */
export const serviceModules: readonly ServiceModule[] = [complaints, notifications, admin, dashboards];
