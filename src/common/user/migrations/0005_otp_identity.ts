import { sql } from 'kysely';
import type { Migration } from '../../../kernel/migrator.js';

/**
 * `user_otps.identity` now holds a keyed blind index of the mobile number, not the number (#14
 * Build 4). OTPs live five minutes and cannot be re-keyed without reading the number in clear, so
 * the rows written before are deleted: a citizen mid-login during the upgrade asks for a new OTP.
 */
export const otpIdentity: Migration = {
  name: '0005_otp_identity',
  async up(db) {
    await sql`delete from user_otps`.execute(db);
  },
};
