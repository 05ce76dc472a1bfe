import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { createPlatform, type Platform } from '../../platform.js';
import { testDatabase, type TestDatabase } from '../../../test/helpers.js';

describe('the first signing key', () => {
  let db: TestDatabase | undefined;
  const platforms: Platform[] = [];
  afterAll(async () => {
    for (const platform of platforms) await platform.stop();
    await db?.drop();
  });

  it('is one key when two processes start on the same database at once', async () => {
    db = await testDatabase({ agencyId: 'pb.health' });
    const config = db.config;
    // Sequential creation (migrations), then a simultaneous start: both create the first key.
    platforms.push(await createPlatform(config), await createPlatform(config));
    await Promise.all(platforms.map((p) => p.start()));
    const rows = await sql<{ kid: string; status: string }>`select kid, status from exchange_signing_key`.execute(platforms[0]!.database.kysely);
    expect(rows.rows).toHaveLength(1);
    expect(rows.rows[0]!.status).toBe('current');
    const [a, b] = await Promise.all(platforms.map((p) => p.exchangeTrust.jwks()));
    expect(a).toEqual(b);
    expect(a!.keys).toHaveLength(1);

    const rotated = await platforms[0]!.exchangeTrust.rotateKey({ uuid: null });
    const signed = await platforms[0]!.exchangeTrust.sign({ aud: 'pb.health', jti: 'x' }, 'plinth-event+jws');
    expect(JSON.parse(Buffer.from(signed.split('.')[0]!, 'base64url').toString())['kid']).toBe(rotated.kid);
  });
});
