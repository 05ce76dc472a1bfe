import fs from 'node:fs/promises';
import path from 'node:path';

/**
 * `plinth new-module <name>`: a working registry in `src/domain/<name>/`, made from the template
 * in `src/cli/template/` (a module named `sample`, type-checked and linted with the rest of the
 * code), and one entry in the module list (`src/modules.ts`). See docs/modules.md.
 */

/** One word or several joined by dashes, as DIGIT names its services (`license`, `trade-license`). */
const NAME = /^[a-z][a-z0-9]*(-[a-z][a-z0-9]*)*$/;
const TEMPLATE_DIR = path.join('src', 'cli', 'template');
const MODULE_LIST = path.join('src', 'modules.ts');
/** The literal the template's action ids start from; replaced by a free block. */
const TEMPLATE_FIRST_ID = /firstId: [\d_]+/;
const ACTION_BLOCK = 100;

export class NewModuleError extends Error {}

export type NewModuleResult = {
  /** The module's folder, relative to the project root. */
  readonly folder: string;
  readonly files: readonly string[];
  /** The first id of the module's block of API actions. */
  readonly firstId: number;
  /** The identifier the module list now names, e.g. `licenseModule`. */
  readonly definition: string;
};

const capital = (word: string) => word.charAt(0).toUpperCase() + word.slice(1);
const plural = (word: string) =>
  /(s|x|z|ch|sh)$/.test(word) ? `${word}es` : /[^aeiou]y$/.test(word) ? `${word.slice(0, -1)}ies` : `${word}s`;

/**
 * Renames the template's `sample` in each of its spellings: `Samples`/`Sample` (types, envelope
 * keys), `SAMPLE` (roles, codes), `samples` (the table), `sampleX` (functions), and `sample` (the
 * module name, routes, event types, file names).
 */
export function renamer(name: string): (text: string) => string {
  const words = name.split('-');
  const pascal = words.map(capital).join('');
  const camel = words[0]! + words.slice(1).map(capital).join('');
  const snake = words.join('_');
  return (text) =>
    text.replace(/Samples|Sample|SAMPLE|samples|sample/g, (match, offset: number) => {
      switch (match) {
        case 'Samples':
          return plural(pascal);
        case 'Sample':
          return pascal;
        case 'SAMPLE':
          return snake.toUpperCase();
        case 'samples':
          return plural(snake);
        default:
          return /[A-Z]/.test(text.charAt(offset + match.length)) ? camel : name;
      }
    });
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => path.relative(dir, path.join(e.parentPath, e.name)));
}

const exists = (file: string) =>
  fs.access(file).then(
    () => true,
    () => false,
  );

/**
 * The first id of a block of API action ids nobody uses: above every action id of the seed
 * (`seed/mdms/**`) and every block a module declares (`firstId:` in src/), rounded to the next hundred.
 */
export async function freeActionBlock(root: string): Promise<number> {
  let highest = 0;
  const seed = path.join(root, 'seed', 'mdms');
  for (const file of (await exists(seed)) ? await filesUnder(seed) : []) {
    if (!file.endsWith('.json')) continue;
    const content = JSON.parse(await fs.readFile(path.join(seed, file), 'utf8')) as { schemaCode?: unknown; data?: unknown };
    if (typeof content.schemaCode !== 'string' || !content.schemaCode.startsWith('ACCESSCONTROL-ACTIONS') || !Array.isArray(content.data))
      continue;
    for (const action of content.data as Array<{ id?: unknown }>) if (typeof action.id === 'number') highest = Math.max(highest, action.id);
  }
  const src = path.join(root, 'src');
  for (const file of await filesUnder(src)) {
    if (!file.endsWith('.ts') || file.startsWith(`cli${path.sep}template`)) continue;
    for (const match of (await fs.readFile(path.join(src, file), 'utf8')).matchAll(/firstId: ([\d_]+)/g)) {
      highest = Math.max(highest, Number(match[1]!.replaceAll('_', '')) + ACTION_BLOCK - 1);
    }
  }
  return (Math.floor(highest / ACTION_BLOCK) + 1) * ACTION_BLOCK + 1;
}

/** Adds the module's import and its entry at the end of the module list. */
function register(list: string, definition: string, name: string): string {
  const imports = [...list.matchAll(/^import .* from '\.\/.*';$/gm)];
  const lastImport = imports[imports.length - 1];
  const start = list.indexOf('export const MODULES');
  const end = start === -1 ? -1 : list.indexOf('\n];', start);
  if (!lastImport || end === -1)
    throw new NewModuleError(`${MODULE_LIST} has no import lines or no \`export const MODULES = [ … ];\` to add the module to`);
  const at = lastImport.index + lastImport[0].length;
  const withEntry = `${list.slice(0, end)}\n  ${definition},${list.slice(end)}`;
  return `${withEntry.slice(0, at)}\nimport { ${definition} } from './domain/${name}/index.js';${withEntry.slice(at)}`;
}

/** Makes `src/domain/<name>/` from the template and adds it to the module list; refuses to overwrite anything. */
export async function newModule(root: string, name: string): Promise<NewModuleResult> {
  if (!NAME.test(name) || name.length > 40) {
    throw new NewModuleError(`"${name}" is not a module name: lower-case words joined by dashes, e.g. license or trade-license`);
  }
  const template = path.join(root, TEMPLATE_DIR);
  const listFile = path.join(root, MODULE_LIST);
  if (!(await exists(template)) || !(await exists(listFile))) {
    throw new NewModuleError(`run it in the Plinth project's folder: ${TEMPLATE_DIR} or ${MODULE_LIST} is missing in ${root}`);
  }
  for (const layer of ['common', 'domain', 'exchange']) {
    if (await exists(path.join(root, 'src', layer, name)))
      throw new NewModuleError(`src/${layer}/${name} exists already: choose another name`);
  }
  const rename = renamer(name);
  const definition = rename('sampleModule');
  const list = await fs.readFile(listFile, 'utf8');
  if (new RegExp(`\\b${definition}\\b`).test(list)) throw new NewModuleError(`${MODULE_LIST} names ${definition} already`);

  const firstId = await freeActionBlock(root);
  const folder = path.join('src', 'domain', name);
  const files: string[] = [];
  for (const file of (await filesUnder(template)).sort()) {
    const target = path.join(folder, path.dirname(file), rename(path.basename(file)));
    const content = rename(await fs.readFile(path.join(template, file), 'utf8')).replace(TEMPLATE_FIRST_ID, `firstId: ${firstId}`);
    await fs.mkdir(path.join(root, path.dirname(target)), { recursive: true });
    await fs.writeFile(path.join(root, target), content, { flag: 'wx' });
    files.push(target);
  }
  await fs.writeFile(listFile, register(list, definition, name));
  return { folder, files, firstId, definition };
}
