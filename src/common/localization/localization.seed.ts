import type { Database } from '../../kernel/db.js';
import { DomainError, type ErrorDetail } from '../../kernel/errors.js';
import type { SeedFile } from '../../kernel/module.js';
import { isTenantIdSyntax } from '../../kernel/tenancy.js';
import { SYSTEM_SCOPE } from '../../kernel/scope.js';
import { MAX_MESSAGES_PER_CALL, checkMessage, keyOf, type Message } from './localization.rules.js';
import type { Actor, LocalizationService, WriteCounts } from './localization.service.js';

/**
 * One file of `seed/localization/`:
 * `{ "tenantId": "pb", "locale": "hi_IN", "module": "rainmaker-pgr", "messages": [{ "code", "message", "module"? }] }`.
 * A message's own `module` overrides the file's.
 */
type ParsedFile = { file: string; tenantId: string; messages: Array<{ message: Message; number: number }> };

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

function parse(seed: SeedFile, errors: ErrorDetail[]): ParsedFile | undefined {
  const fail = (message: string) => {
    errors.push({ code: 'INVALID_SEED_FILE', message: `${seed.file}: ${message}`, params: [seed.file] });
    return undefined;
  };
  const c = seed.content;
  if (!isRecord(c)) return fail('must be a JSON object');
  const { tenantId, locale, module, messages } = c;
  if (typeof tenantId !== 'string' || !isTenantIdSyntax(tenantId)) return fail('"tenantId" must be a tenant id such as "pb" or "default"');
  if (typeof locale !== 'string') return fail('"locale" must be a string such as "en_IN"');
  if (module !== undefined && typeof module !== 'string') return fail('"module" must be a string');
  if (!Array.isArray(messages) || messages.length === 0) return fail('"messages" must be a non-empty list');
  const parsed: ParsedFile['messages'] = [];
  messages.forEach((record: unknown, index) => {
    const where = `${seed.file} message ${index + 1}`;
    if (!isRecord(record)) {
      errors.push({ code: 'INVALID_SEED_FILE', message: `${where}: must be an object with code and message`, params: [seed.file] });
      return;
    }
    const message = { code: record['code'], message: record['message'], module: record['module'] ?? module, locale };
    const problems = checkMessage(message, 'message');
    for (const p of problems)
      errors.push({
        ...p,
        message: `${where} (${String(message.code).slice(0, 80)}): ${p.message}`,
        params: [seed.file, String(index + 1)],
      });
    if (problems.length === 0) parsed.push({ message: message as Message, number: index + 1 });
  });
  return { file: seed.file, tenantId, messages: parsed };
}

/**
 * Loads message files in one transaction: creates missing messages, changes texts that differ,
 * leaves identical ones alone and never deletes (messages added through the API stay). Any bad
 * file, message, unknown tenant or message given twice refuses the whole seed, each one named;
 * nothing is written then.
 */
export async function seedMessages(
  database: Database,
  service: LocalizationService,
  files: readonly SeedFile[],
  actor: Actor,
): Promise<WriteCounts> {
  const errors: ErrorDetail[] = [];
  const parsed = files.map((f) => parse(f, errors)).filter((f): f is ParsedFile => f !== undefined);

  const byTenant = new Map<string, Message[]>();
  const firstSeen = new Map<string, string>();
  for (const { file, tenantId, messages } of parsed) {
    try {
      await service.checkTenant(tenantId);
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      errors.push(...error.details.map((d) => ({ ...d, message: `${file}: ${d.message}`, params: [file] })));
      continue;
    }
    const list = byTenant.get(tenantId) ?? [];
    for (const { message, number } of messages) {
      const key = `${tenantId} ${keyOf(message)}`;
      const where = `${file} message ${number}`;
      const first = firstSeen.get(key);
      if (first !== undefined) {
        errors.push({
          code: 'core.DUPLICATE_MESSAGE_IDENTITY',
          message: `${where}: ${message.module} ${message.code} (${message.locale}) is also ${first}`,
          params: [file],
        });
        continue;
      }
      firstSeen.set(key, where);
      list.push(message);
    }
    byTenant.set(tenantId, list);
  }
  if (errors.length > 0) throw new DomainError('invalid', errors);

  const total: WriteCounts = { created: 0, updated: 0, unchanged: 0 };
  await database.transaction(async (tx) => {
    for (const [tenantId, messages] of byTenant) {
      // A state's full translation can exceed what one API call may carry.
      for (let i = 0; i < messages.length; i += MAX_MESSAGES_PER_CALL) {
        const counts = await service.inTransaction.writeInTx(tx, tenantId, messages.slice(i, i + MAX_MESSAGES_PER_CALL), 'upsert', actor, SYSTEM_SCOPE);
        total.created += counts.created;
        total.updated += counts.updated;
        total.unchanged += counts.unchanged;
      }
    }
  });
  return total;
}
