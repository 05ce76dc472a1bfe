import type { PageDef } from '../../../shell/registry';

/** The citizen portal's complaint pages. */
export const citizenPages: readonly PageDef[] = [];
