import type { PageDef } from '../../../shell/registry';

/** The employee workbench's complaint pages. */
export const employeePages: readonly PageDef[] = [];
