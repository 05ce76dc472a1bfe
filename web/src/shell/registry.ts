import type { ComponentType, LazyExoticComponent } from 'react';

/** One page of a service, at `path` under its app (`/citizen/…` or `/employee/…`). */
export type PageDef = {
  /** wouter pattern under the app, e.g. `/complaints/:id`. */
  path: string;
  /** Loaded on first visit, so each service's code stays out of the other pages' first load. */
  component: LazyExoticComponent<ComponentType>;
  /** Localization code of the page's title (document title and navigation). */
  titleCode: string;
  /** Roles of which the person needs one (employee pages); none: any signed-in person of the app. */
  roles?: readonly string[];
  /** Shown as a tile on the app's home page and in the navigation. */
  home?: boolean;
  /** Reachable without signing in. */
  public?: boolean;
};

/**
 * A service's part of the web apps. A new service adds a folder under `web/src/modules/` with one
 * of these and one line in `web/src/modules/index.ts`; the shell and the other services stay as they are.
 */
export type ServiceModule = {
  id: string;
  /** Localization modules whose messages its pages use (loaded with `rainmaker-common`). */
  localizationModules: readonly string[];
  citizen?: readonly PageDef[];
  employee?: readonly PageDef[];
};
