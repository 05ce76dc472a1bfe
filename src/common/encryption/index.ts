import { registerEventSealer } from '../../kernel/events.js';
import { defineModule } from '../../kernel/module.js';
import { auditModule, type AuditApi } from '../audit/index.js';
import { encryptionRoutes } from './encryption.routes.js';
import { createEncryptionService, KEY_ROTATED } from './encryption.service.js';
import { createEncryptionStore } from './encryption.store.js';
import type { EncryptionApi } from './encryption.types.js';
import { init } from './migrations/0001_init.js';

export type { EncryptionApi, EncryptionService, ReencryptionJob, TenantKeys } from './encryption.types.js';
export type { KeyRotatedData } from './encryption.service.js';
export { KEY_ROTATED, SECRET_PREFIX } from './encryption.service.js';
export { isCipherText } from './encryption.keys.js';
export { personalFields, sealStoredRows } from './encryption.fields.js';
export type { PersonalFields, PersonalFieldSpec, StoredRowsSpec } from './encryption.fields.js';
export type { SealedTable } from './encryption.reseal.js';
export { compilePatterns, maskEverything, maskValue, parsePolicy, redactor, visibilitiesFor } from './encryption.policy.js';
export type { PolicyAttribute, Redactor, SecurityPolicy, Visibility } from './encryption.policy.js';
export { createPrivacy, dataSecurityMasters, decryptionEntries } from './encryption.privacy.js';
export type { DataSecurityMasters, DecryptionContext, Privacy, PrivacyModels, Revealed } from './encryption.privacy.js';

/**
 * DIGIT's egov-enc-service: per-tenant data keys wrapped by a master key, blind indexes, signing.
 * Re-encryption after a rotation runs from the rotation's outbox event, so it survives a crash
 * (delivery is at least once; the jobs only move what is not under the current key yet).
 */
export const encryptionModule = defineModule<EncryptionApi, { audit: AuditApi }>({
  name: 'encryption',
  requires: { audit: auditModule },
  migrations: [init],
  create({ config, database, clock, outbox, dispatcher, changes, logger }, { audit }) {
    const service = createEncryptionService({
      database,
      store: createEncryptionStore(database),
      clock,
      outbox,
      changes,
      logger,
      audit: audit.log,
      master: { masterKey: config.masterKey, masterKeyFile: config.masterKeyFile, dataDir: config.dataDir },
    });
    // Outbox events that carry personal data (EventInput.sealed) are stored under the tenant's key.
    registerEventSealer(database, {
      seal: async (tenantId, plaintext, tx) => (await service.forTenant(tenantId, tx)).encrypt(plaintext),
      open: async (tenantId, ciphertext) => (await service.forTenant(tenantId)).decrypt(ciphertext),
    });
    // What it sealed there follows rotations like every other sealed table.
    service.registerSealedTable({ name: 'outbox', table: 'plinth_outbox', id: 'id', json: ['data'] });
    dispatcher.subscribe({
      name: 'encryption.reencrypt',
      types: [KEY_ROTATED],
      handle: async (event) => {
        await service.reencrypt(event.tenantid);
      },
    });
    return {
      api: { service },
      routes: encryptionRoutes(service, audit.log),
      // Fail fast: a process with another master key would write data nobody can read back.
      start: () => service.ready(),
      stop: async () => service.close(),
    };
  },
});
