import { defineModule } from '../../kernel/module.js';
import { mdmsModule, type MdmsApi } from '../mdms/index.js';
import { init } from './migrations/0001_init.js';
import { localizationRoutes } from './localization.routes.js';
import { seedMessages } from './localization.seed.js';
import { createLocalizationService, type LocalizationService } from './localization.service.js';
import { createLocalizationStore } from './localization.store.js';

export type { Actor, LocalizationService, SearchCriteria, UpdateInput, WriteCounts } from './localization.service.js';
export type { Message, MessageKey } from './localization.rules.js';
export { DEFAULT_TENANT, FALLBACK_LOCALE } from './localization.rules.js';

export type LocalizationApi = { readonly service: LocalizationService };

/** Messages in every language (DIGIT's egov-localization). */
export const localizationModule = defineModule<LocalizationApi, { mdms: MdmsApi }>({
  name: 'localization',
  requires: { mdms: mdmsModule },
  migrations: [init],
  create({ database, clock, outbox, changes }, { mdms }) {
    const store = createLocalizationStore(database);
    const service = createLocalizationService({ database, store, clock, outbox, changes, tenants: mdms.service.tenants });
    return {
      api: { service },
      routes: localizationRoutes(service),
      seed: (files, actor) => seedMessages(database, service, files, actor),
    };
  },
});
