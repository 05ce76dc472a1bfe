import { createHash } from 'node:crypto';
import type { AnyModule, SeedCounts, SeedFile, SeedResult } from './module.js';
import type { Settings } from './settings.js';

/** Where the fingerprint of what a module's masters last loaded is kept. */
const settingKey = (module: string) => `module.masters.${module}`;

export type MastersLoad = {
  /** The modules in list order; those declaring `masters` are loaded. */
  readonly modules: readonly AnyModule[];
  /** The state tenants known now (`pb`); masters are loaded at each. */
  readonly states: readonly string[];
  readonly settings: Settings;
  /** Loads master files as `seed/mdms/` does (the MDMS module's seeder), in one transaction. */
  readonly load: (files: readonly SeedFile[]) => Promise<SeedResult>;
};

/**
 * Loads each module's declared masters at every state tenant when they (or the states) changed
 * since the last load, so adding a module to a running installation needs no re-seed; an
 * unchanged module is skipped, which leaves an operator's later changes to those records alone.
 * With no state tenant yet (an empty database), nothing is loaded or remembered. A module's masters
 * load in the order it answers them (roles before the role-actions that name them).
 */
export async function loadModuleMasters({ modules, states, settings, load }: MastersLoad): Promise<Record<string, SeedCounts>> {
  const report: Record<string, SeedCounts> = {};
  if (states.length === 0) return report;
  for (const module of modules) {
    if (!module.masters) continue;
    const files: SeedFile[] = [...states].sort().flatMap((state) =>
      // Numbered: the MDMS seeder orders files by name, and a module's masters load in the order given.
      module.masters!(state).map((master, i) => ({
        file: `${module.name} masters ${String(i + 1).padStart(2, '0')} (${state}): ${master.schemaCode}`,
        content: { tenantId: state, ...master },
      })),
    );
    const fingerprint = createHash('sha256').update(JSON.stringify(files)).digest('base64url');
    if ((await settings.get(settingKey(module.name))) === fingerprint) continue;
    const result = await load(files);
    report[`${module.name} masters`] = 'counts' in result ? (result.counts as SeedCounts) : (result as SeedCounts);
    await settings.set(settingKey(module.name), fingerprint);
  }
  return report;
}
