import { defineModule } from '../../kernel/module.js';
import type { MdmsApi } from '../mdms/index.js';

// Skeleton: filled in by the localization work of issue 4.
export type LocalizationApi = Record<string, never>;

/** Messages in every language (DIGIT's egov-localization). */
export const localizationModule = defineModule<LocalizationApi, { mdms: MdmsApi }>({
  name: 'localization',
  migrations: [],
  create() {
    return { api: {} };
  },
});
