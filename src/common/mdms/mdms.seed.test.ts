import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DomainError } from '../../kernel/errors.js';
import { post, testPlatform, type TestPlatform } from '../../../test/helpers.js';

let platform: TestPlatform;
beforeAll(async () => {
  platform = await testPlatform();
});
afterAll(async () => {
  await platform.drop();
});

const definition = (extra: object = {}) => ({
  type: 'object',
  properties: { code: { type: 'string', minLength: 1 }, name: { type: 'string' }, colour: { type: 'string' } },
  required: ['code', 'name'],
  'x-unique': ['code'],
  ...extra,
});

async function seedDir(files: Record<string, unknown>): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'plinth-seed-'));
  await fs.mkdir(path.join(dir, 'mdms'));
  for (const [name, content] of Object.entries(files)) {
    await fs.writeFile(path.join(dir, 'mdms', name), typeof content === 'string' ? content : JSON.stringify(content));
  }
  return dir;
}

async function codes(schemaCode: string): Promise<string[]> {
  const response = await post(platform, '/mdms-v2/v2/_search', { MdmsCriteria: { tenantId: 'pb', schemaCode, limit: 100 } });
  return ((response.body['mdms'] ?? []) as Array<{ data: { code: string } }>).map((m) => m.data.code).sort();
}

async function refusal(dir: string): Promise<string[]> {
  const error = await platform.seed(dir).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DomainError);
  return (error as DomainError).details.map((d) => `${d.code}: ${d.message}`);
}

describe('seed loader', () => {
  it('orders files by their references, then is idempotent, and applies edits', async () => {
    // Alphabetically Fruit.Kinds comes first, but it references Fruit.Colours.
    const files = {
      'a.json': {
        tenantId: 'pb',
        schemaCode: 'Fruit.Kinds',
        definition: definition({ 'x-ref-schema': [{ fieldPath: 'colour', schemaCode: 'Fruit.Colours' }] }),
        data: [{ code: 'APPLE', name: 'Apple', colour: 'RED' }],
      },
      'b.json': { tenantId: 'pb', schemaCode: 'Fruit.Colours', definition: definition(), data: [{ code: 'RED', name: 'Red' }] },
    };
    expect((await platform.seed(await seedDir(files))).mdms).toEqual({ schemasCreated: 2, recordsCreated: 2, recordsUpdated: 0, recordsUnchanged: 0 });
    expect((await platform.seed(await seedDir(files))).mdms).toEqual({ schemasCreated: 0, recordsCreated: 0, recordsUpdated: 0, recordsUnchanged: 2 });

    const edited = { ...files, 'b.json': { ...files['b.json'], data: [{ code: 'RED', name: 'Deep red' }, { code: 'GREEN', name: 'Green' }] } };
    expect((await platform.seed(await seedDir(edited))).mdms).toEqual({ schemasCreated: 0, recordsCreated: 1, recordsUpdated: 1, recordsUnchanged: 1 });
    expect(await codes('Fruit.Colours')).toEqual(['GREEN', 'RED']);
  });

  it('refuses the whole seed when one record is bad, naming file, record and reason, and writes nothing', async () => {
    const dir = await seedDir({
      'good.json': { tenantId: 'pb', schemaCode: 'Veg.Kinds', definition: definition(), data: [{ code: 'LEEK', name: 'Leek' }] },
      'bad.json': {
        tenantId: 'pb',
        schemaCode: 'Fruit.Colours',
        data: [{ code: 'BLUE', name: 'Blue' }, { code: 'NONAME' }, { code: 'BLUE', name: 'again' }],
      },
      'ref.json': { tenantId: 'pb', schemaCode: 'Fruit.Kinds', data: [{ code: 'PLUM', name: 'Plum', colour: 'PURPLE' }] },
    });
    const messages = await refusal(dir);
    expect(messages).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^INVALID_REQUEST_REQUIRED1: mdms\/bad\.json record 2: data\.name is required$/),
        expect.stringMatching(/^DUPLICATE_RECORD: mdms\/bad\.json record 3: unique identifier "BLUE" is also used by record 1$/),
        expect.stringMatching(/^REFERENCE_VALIDATION_ERR: mdms\/ref\.json record 1: data\.colour: "PURPLE" not found/),
      ]),
    );
    expect(await codes('Fruit.Colours')).toEqual(['GREEN', 'RED']);
    expect(await codes('Veg.Kinds')).toEqual([]);
    const schemas = await post(platform, '/mdms-v2/schema/v1/_search', { SchemaDefCriteria: { tenantId: 'pb', codes: ['Veg.Kinds'] } });
    expect(schemas.body['SchemaDefinitions']).toEqual([]);
  });

  it('refuses files that are not JSON or not shaped as a master, and a changed definition', async () => {
    expect(await refusal(await seedDir({ 'broken.json': '{ "tenantId": ' }))).toEqual([expect.stringMatching(/^INVALID_SEED_FILE: mdms\/broken\.json: not valid JSON/)]);
    expect(await refusal(await seedDir({ 'shape.json': { tenantId: 'pb', schemaCode: 'X.Y', data: 'nope' } }))).toEqual([
      'INVALID_SEED_FILE: mdms/shape.json: "data" must be a list of objects',
    ]);
    const changed = await refusal(
      await seedDir({ 'c.json': { tenantId: 'pb', schemaCode: 'Fruit.Colours', definition: definition({ required: ['code'] }), data: [] } }),
    );
    expect(changed).toEqual([expect.stringMatching(/^SCHEMA_DEFINITION_CHANGED: mdms\/c\.json: /)]);
  });

  it('refuses a directory that does not exist', async () => {
    expect(await refusal('/nonexistent/plinth-seed')).toEqual([expect.stringContaining('SEED_DIR_NOT_FOUND')]);
  });
});

describe('masters split over several files', () => {
  it('loads the definition file first and resolves references to records of every file', async () => {
    const dir = await seedDir({
      'a-extra-colours.json': { tenantId: 'pb', schemaCode: 'Paint.Colours', data: [{ code: 'TEAL', name: 'Teal' }] },
      'b-kinds.json': {
        tenantId: 'pb',
        schemaCode: 'Paint.Kinds',
        definition: definition({ 'x-ref-schema': [{ fieldPath: 'colour', schemaCode: 'Paint.Colours' }] }),
        data: [
          { code: 'GLOSS', name: 'Gloss', colour: 'TEAL' },
          { code: 'MATT', name: 'Matt', colour: 'OCHRE' },
        ],
      },
      'z-colours.json': { tenantId: 'pb', schemaCode: 'Paint.Colours', definition: definition(), data: [{ code: 'OCHRE', name: 'Ochre' }] },
    });
    expect((await platform.seed(dir)).mdms).toEqual({ schemasCreated: 2, recordsCreated: 4, recordsUpdated: 0, recordsUnchanged: 0 });
    expect(await codes('Paint.Colours')).toEqual(['OCHRE', 'TEAL']);
  });
});
