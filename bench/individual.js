// Bulk registration benchmark (the `individual` suite): `npm run bench -- individual`, or alone
// `npm run build && node bench/individual.js`.
//
// Creates `count` synthetic people through the real bulk create path — HTTP through Fastify's
// inject (the whole route: JSON parsing, schema, auth and role-action check, validation against
// MDMS and boundaries, idgen, AES-256-GCM per personal field, blind indexes, deduplication
// encodings, outbox events, one transaction per batch committed before the answer) — and, in the
// same run and database, inserts the same people raw: their plaintext columns into a scratch table
// with multi-row INSERTs, one transaction per batch of the same size. Reports records/s of both
// and their ratio.
//
// SQLite always (a fresh DATA_DIR); PostgreSQL as well when BENCH_DATABASE_URL names a server: the
// bench creates a fresh database there and drops it afterwards.
//
// Knobs: BENCH_INDIVIDUALS (default 100000), BENCH_BATCH (default 500), BENCH_DATABASE_URL.
// The platform's background dispatcher is not started, so outbox delivery does not compete with
// the measured writes (events are written, as in production, just not delivered during the run).

import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { CONFIG, say } from './harness/config.js';
import { forEachDatabase } from './harness/postgres.js';
import { tmpDir } from './harness/processes.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ADMIN_PASSWORD = 'Bench@Ind2026';
const MOBILE = /^[6-9][0-9]{9}$/;

async function importDist(relative) {
  return import(path.join(ROOT, 'dist', relative));
}

/** People from the dedup helper's generator when built, else a simple local one. */
async function syntheticPeople(count) {
  try {
    const { generatePeople } = await importDist('domain/dedup/synthetic.js');
    return { source: 'generatePeople', people: generatePeople({ seed: 20260101, count }).people.map((p) => p.person) };
  } catch {
    const given = ['Gurpreet', 'Harjit', 'Manpreet', 'Simran', 'Rajinder', 'Amandeep', 'Kuldeep', 'Navjot', 'Jasleen', 'Baljit'];
    const family = ['Singh', 'Kaur', 'Sharma', 'Gill', 'Sandhu', 'Dhillon', 'Brar', 'Sidhu', 'Grewal', 'Bains'];
    const localities = ['SUN04', 'SUN11', 'SUN12', 'SUN13', 'SUN20'];
    const people = Array.from({ length: count }, (_, i) => ({
      givenName: given[i % given.length],
      familyName: family[Math.floor(i / given.length) % family.length],
      otherNames: null,
      dateOfBirth: `${String((i % 28) + 1).padStart(2, '0')}/${String((i % 12) + 1).padStart(2, '0')}/${1950 + (i % 60)}`,
      gender: i % 2 ? 'MALE' : 'FEMALE',
      locality: localities[i % localities.length],
      mobileNumber: `9${String(100_000_000 + i).slice(-9)}`,
    }));
    return { source: 'local generator', people };
  }
}

const nameOk = (value) => (typeof value === 'string' && value.trim().length >= 2 ? value : null);

/** A synthetic person as the field app would send it. */
function individualOf(p, i) {
  const givenName = nameOk(p.givenName);
  const familyName = nameOk(p.familyName);
  return {
    tenantId: 'pb.amritsar',
    clientReferenceId: `bench-${i}`,
    name: { givenName: givenName ?? (familyName ? null : 'Unknown'), familyName, otherNames: nameOk(p.otherNames) },
    dateOfBirth: p.dateOfBirth ?? null,
    gender: p.gender ?? null,
    mobileNumber: p.mobileNumber && MOBILE.test(p.mobileNumber) ? p.mobileNumber : null,
    address: [
      {
        type: 'PERMANENT',
        doorNo: `${(i % 400) + 1}`,
        addressLine1: `Street ${i % 97}`,
        locality: p.locality ? { code: p.locality } : null,
      },
    ],
    identifiers: [{ identifierType: 'FAMILY_ID', identifierId: `F${String(i).padStart(9, '0')}` }],
    clientAuditDetails: { createdBy: 'bench-device', createdTime: 1_760_000_000_000 },
  };
}

async function login(platform) {
  const response = await platform.app.inject({
    method: 'POST',
    url: '/user/oauth/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: 'Basic ZWdvdi11c2VyLWNsaWVudDo=' },
    payload: new URLSearchParams({
      username: 'admin',
      password: ADMIN_PASSWORD,
      tenantId: 'pb',
      userType: 'EMPLOYEE',
      grant_type: 'password',
      scope: 'read',
    }).toString(),
  });
  if (response.statusCode !== 200) throw new Error(`admin login failed: ${response.statusCode} ${response.body}`);
  return `Bearer ${response.json().access_token}`;
}

const RAW_TABLE = 'bench_individual_raw';

async function createRawTable(database) {
  const t = database.types;
  await database.kysely.schema.dropTable(RAW_TABLE).ifExists().execute();
  await database.kysely.schema
    .createTable(RAW_TABLE)
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('client_reference_id', 'text')
    .addColumn('given_name', 'text')
    .addColumn('family_name', 'text')
    .addColumn('other_names', 'text')
    .addColumn('date_of_birth', 'text')
    .addColumn('gender', 'text')
    .addColumn('mobile_number', 'text')
    .addColumn('addresses', t.json)
    .addColumn('identifiers', t.json)
    .addColumn('client_audit', t.json)
    .addColumn('row_version', 'integer', (c) => c.notNull())
    .addColumn('is_deleted', t.bool, (c) => c.notNull())
    .addColumn('created_time', t.bigint, (c) => c.notNull())
    .addColumn('last_modified_time', t.bigint, (c) => c.notNull())
    .execute();
  await database.kysely.schema
    .createIndex(`${RAW_TABLE}_ref_uq`)
    .on(RAW_TABLE)
    .columns(['tenant_id', 'client_reference_id'])
    .unique()
    .execute();
}

/** The same rows in plaintext, multi-row INSERTs of 200, one transaction per batch. */
async function insertRaw(database, individuals, batch, newId) {
  const db = database.kysely;
  const started = performance.now();
  for (let start = 0; start < individuals.length; start += batch) {
    const now = Date.now();
    const rows = individuals.slice(start, start + batch).map((ind) => ({
      id: newId(),
      tenant_id: ind.tenantId,
      client_reference_id: ind.clientReferenceId,
      given_name: ind.name.givenName,
      family_name: ind.name.familyName,
      other_names: ind.name.otherNames,
      date_of_birth: ind.dateOfBirth,
      gender: ind.gender,
      mobile_number: ind.mobileNumber,
      addresses: database.toJson(ind.address),
      identifiers: database.toJson(ind.identifiers),
      client_audit: database.toJson(ind.clientAuditDetails),
      row_version: 1,
      is_deleted: database.toBool(false),
      created_time: now,
      last_modified_time: now,
    }));
    await db.transaction().execute(async (trx) => {
      for (let i = 0; i < rows.length; i += 200)
        await trx
          .insertInto(RAW_TABLE)
          .values(rows.slice(i, i + 200))
          .execute();
    });
  }
  return performance.now() - started;
}

/**
 * One run on one database. `databaseUrl` unset: SQLite in `dataDir`. Answers records/s through the
 * bulk create path and for raw inserts of the same rows, and their ratio.
 */
export async function benchIndividualBulk({
  databaseUrl,
  dataDir,
  count = 100_000,
  batch = 500,
  log = console.log,
  seedDir = path.join(ROOT, 'seed'),
}) {
  const { loadConfig } = await importDist('kernel/config.js');
  const { createPlatform } = await importDist('platform.js');
  const { newId } = await importDist('kernel/ids.js');
  const config = {
    ...loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'warn', PLINTH_SEED_DIR: seedDir, PLINTH_ADMIN_PASSWORD: ADMIN_PASSWORD }),
    databaseUrl,
    bodyLimit: 64 * 1024 * 1024,
  };
  const platform = await createPlatform(config, { seedOnFirstStart: true });
  try {
    await platform.bootstrapAdmin();
    const authorization = await login(platform);
    const { source, people } = await syntheticPeople(count);
    const individuals = people.map(individualOf);
    const dialect = platform.database.dialect;
    log(`individual bulk create on ${dialect}: ${count} people (${source}), batches of ${batch}`);

    let accepted = 0;
    let refused = 0;
    let duplicatesFlagged = 0;
    const started = performance.now();
    for (let start = 0; start < individuals.length; start += batch) {
      const payload = JSON.stringify({ RequestInfo: { apiId: 'bench' }, Individuals: individuals.slice(start, start + batch) });
      const response = await platform.app.inject({
        method: 'POST',
        url: '/individual/v1/bulk/_create',
        headers: { 'content-type': 'application/json', authorization },
        payload,
      });
      if (response.statusCode !== 200) throw new Error(`bulk create answered ${response.statusCode}: ${response.body.slice(0, 500)}`);
      const body = response.json();
      accepted += body.Individuals.length;
      refused += body.Errors.length;
      duplicatesFlagged += body.PotentialDuplicates.length;
      if (refused > 0 && body.Errors.length > 0 && refused === body.Errors.length)
        log(`  first refusal: ${JSON.stringify(body.Errors[0])}`);
    }
    const bulkMs = performance.now() - started;

    await createRawTable(platform.database);
    const rawMs = await insertRaw(platform.database, individuals, batch, newId);
    await platform.database.kysely.schema.dropTable(RAW_TABLE).execute();

    const result = {
      dialect,
      count,
      batch,
      accepted,
      refused,
      duplicatesFlagged,
      bulkPerSecond: Math.round((accepted / bulkMs) * 1000),
      rawPerSecond: Math.round((count / rawMs) * 1000),
    };
    result.ratio = Number((result.bulkPerSecond / result.rawPerSecond).toFixed(3));
    log(
      `  bulk create: ${result.bulkPerSecond} records/s (${accepted} accepted, ${refused} refused, ${duplicatesFlagged} flagged as potential duplicates); raw inserts: ${result.rawPerSecond} records/s; ratio ${result.ratio}`,
    );
    return result;
  } finally {
    await platform.stop();
  }
}

async function withFreshPostgres(serverUrl, work) {
  const name = `plinth_bench_ind_${Date.now()}_${process.pid}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  try {
    return await work(url.toString());
  } finally {
    const client = new pg.Client({ connectionString: serverUrl });
    await client.connect();
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await client.end();
  }
}

/** Bulk registration of people next to raw inserts of the same rows, as Markdown. */
function renderRegistry(rows) {
  if (rows.length === 0) return '';
  return [
    `${rows[0].count} synthetic people (10% corrupted duplicates), \`/individual/v1/bulk/_create\` in batches of ${rows[0].batch} through Fastify's inject ` +
      '(schema, auth, validation, idgen, AES-256-GCM per personal field, blind indexes, dedup encodings, outbox; one transaction per batch), ' +
      'against plain multi-row INSERTs of the same rows in plaintext into a scratch table of the same database, batched the same way.',
    '',
    '| database | bulk create, records/s | raw inserts, records/s | ratio | accepted | refused | flagged as potential duplicates |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (r) => `| ${r.label} | ${r.bulkPerSecond} | ${r.rawPerSecond} | ${r.ratio} | ${r.accepted} | ${r.refused} | ${r.duplicatesFlagged} |`,
    ),
    '',
  ].join('\n');
}

/** The suite: once per database of BENCH_DATABASES; a refused person makes the run invalid. */
async function run() {
  const rows = await forEachDatabase(async ({ db, label, databaseUrl }) => {
    const dataDir = await fs.mkdtemp(path.join(tmpDir(), 'registry-'));
    const result = await benchIndividualBulk({
      databaseUrl,
      dataDir,
      count: CONFIG.individuals,
      batch: CONFIG.individualBatch,
      log: (line) => say(`bench: ${line}`),
    });
    return { db, label, ...result };
  });
  return {
    markdown: renderRegistry(rows),
    byDatabase: Object.fromEntries(rows.map((r) => [r.db, r])),
    problems: rows.filter((r) => r.refused > 0).map((r) => `${r.label}: ${r.refused} people refused by the bulk create`),
  };
}

export default { name: 'individual', title: 'Registries: bulk create of individuals', run };

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const count = Number(process.env['BENCH_INDIVIDUALS'] ?? 100_000);
  const batch = Number(process.env['BENCH_BATCH'] ?? 500);
  const results = [];
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'plinth-bench-individual-'));
  try {
    results.push(await benchIndividualBulk({ dataDir, count, batch }));
    const serverUrl = process.env['BENCH_DATABASE_URL'];
    if (serverUrl) {
      const pgDir = await fs.mkdtemp(path.join(os.tmpdir(), 'plinth-bench-individual-pg-'));
      try {
        results.push(
          await withFreshPostgres(serverUrl, (databaseUrl) => benchIndividualBulk({ databaseUrl, dataDir: pgDir, count, batch })),
        );
      } finally {
        await fs.rm(pgDir, { recursive: true, force: true });
      }
    }
  } finally {
    await fs.rm(dataDir, { recursive: true, force: true });
  }
  console.log(JSON.stringify(results, null, 2));
}
