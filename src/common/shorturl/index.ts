import { defineModule } from '../../kernel/module.js';
import { init } from './migrations/0001_init.js';
import { shortUrlRoutes } from './shorturl.routes.js';
import { createShortUrlService, type ShortenOptions } from './shorturl.service.js';
import { createShortUrlStore } from './shorturl.store.js';

export type { ShortenOptions } from './shorturl.service.js';

export type ShortUrlApi = {
  /**
   * Stores an http(s) link under PLINTH_PUBLIC_URL or PLINTH_SHORTENER_ALLOWED_URLS and answers
   * its short URL (`<PLINTH_PUBLIC_URL>/eus/<id>`); refuses anything else with URL_SHORTENING_INVALID_URL. Used by notifications to keep SMS short.
   */
  shorten(url: string, options?: ShortenOptions): Promise<string>;
  /** The long URL behind an id, or undefined when unknown, not yet valid or expired. */
  resolve(id: string): Promise<string | undefined>;
};

/** DIGIT's egov-url-shortening: short links for messages. */
export const shortUrlModule = defineModule<ShortUrlApi, Record<string, never>>({
  name: 'shorturl',
  migrations: [init],
  create({ config, database, clock }) {
    const service = createShortUrlService({ store: createShortUrlStore(database), clock, publicUrl: config.publicUrl, allowedUrls: config.shortenerAllowedUrls });
    return {
      api: { shorten: (url, options) => service.shorten(url, options), resolve: (id) => service.resolve(id) },
      routes: shortUrlRoutes(service),
    };
  },
});
