import type { FastifyRequest } from 'fastify';
import type { UserInfo } from '../../kernel/auth.js';
import { DomainError, invalid } from '../../kernel/errors.js';
import type { HttpApp } from '../../kernel/http.js';
import { inScope } from '../../kernel/scope.js';
import { stateTenantOf } from '../../kernel/tenancy.js';
import type { AuditLog } from '../audit/index.js';
import { isCipherText, keyIdOf, unknownKey, type LoadedKeys } from './encryption.keys.js';
import {
  DecryptRequest,
  DecryptResponse,
  EncryptRequest,
  EncryptResponse,
  MAX_DEPTH,
  RotateKeyRequest,
  RotateKeyResponse,
  SignRequest,
  SignResponse,
  VerifyRequest,
  VerifyResponse,
} from './encryption.schema.js';
import type { CryptoService } from './encryption.service.js';

const tags = ['encryption'];
const BASE = '/egov-enc-service/crypto/v1';
const MAX_KEYS_PER_DECRYPT = 64;

type Leaf = string | number | boolean;

/** The same structure with every non-null leaf replaced; objects keep their keys, arrays their order. */
function mapLeaves(value: unknown, replace: (leaf: Leaf, path: string) => unknown, path = '', depth = 0): unknown {
  if (depth > MAX_DEPTH) throw invalid('VALUE_TOO_DEEP', `The value is nested deeper than ${MAX_DEPTH} levels`, [path || 'value']);
  if (value === null || value === undefined) return null;
  if (Array.isArray(value)) return value.map((item, i) => mapLeaves(item, replace, `${path}[${i}]`, depth + 1));
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(value)) out[key] = mapLeaves(child, replace, path === '' ? key : `${path}.${key}`, depth + 1);
    return out;
  }
  return replace(value as Leaf, path || 'value');
}

function callerOf(request: FastifyRequest): UserInfo {
  if (!request.userInfo)
    throw new DomainError('unauthenticated', { code: 'CustomException', message: 'Authentication required: send a valid access token' });
  return request.userInfo;
}

/**
 * DIGIT's egov-enc-service. Answers are DIGIT's bare shapes (no ResponseInfo). `_decrypt` and
 * `_rotatekey` are for administrators and internal services only (role-actions in seed), and a
 * decryption is refused unless the caller belongs to the keys' state and is always audited.
 */
export function encryptionRoutes(service: CryptoService, audit: AuditLog) {
  return (app: HttpApp) => {
    app.post(
      `${BASE}/_encrypt`,
      {
        schema: {
          tags,
          summary: "Encrypt values with the state tenant's current data key; every leaf becomes `<keyId>|<base64>`",
          body: EncryptRequest,
          response: { 200: EncryptResponse },
        },
      },
      async (request) => {
        const results: unknown[] = [];
        for (const item of request.body.encryptionRequests) {
          const keys = await service.forTenant(item.tenantId);
          results.push(mapLeaves(item.value, (leaf) => keys.encrypt(String(leaf))));
        }
        return results;
      },
    );

    app.post(
      `${BASE}/_decrypt`,
      {
        // The body is the encrypted structure itself; each ciphertext names its own tenant's key.
        config: { tenant: 'none' },
        schema: {
          tags,
          summary: 'Decrypt an encrypted structure (every string leaf must be a ciphertext); audited',
          body: DecryptRequest,
          response: { 200: DecryptResponse },
        },
      },
      async (request, reply) => {
        const caller = callerOf(request);
        let body: unknown = request.body;
        // The envelope may ride along (it carried the token); it is not part of the structure.
        if (body !== null && typeof body === 'object' && !Array.isArray(body) && 'RequestInfo' in body) {
          const rest: Record<string, unknown> = { ...(body as Record<string, unknown>) };
          delete rest['RequestInfo'];
          body = rest;
        }
        if (body === undefined)
          throw invalid('INVALID_REQUEST', 'The body must be the encrypted structure (a ciphertext, or an array or object of them)');

        // First every key the structure needs, so nothing is decrypted before every check has passed.
        const keysById = new Map<string, LoadedKeys>();
        const counts = new Map<string, number>();
        mapLeaves(body, (leaf, path) => {
          if (typeof leaf !== 'string') return leaf;
          if (!isCipherText(leaf))
            throw invalid('MALFORMED_CIPHERTEXT', `${path} is not a ciphertext of the form <keyId>|<base64>`, [path]);
          const keyId = keyIdOf(leaf)!;
          counts.set(keyId, (counts.get(keyId) ?? 0) + 1);
          return leaf;
        });
        // Each distinct key id costs a lookup; real structures use one or two keys.
        if (counts.size > MAX_KEYS_PER_DECRYPT) {
          throw invalid('TOO_MANY_KEYS', `The values are under ${counts.size} different keys; at most ${MAX_KEYS_PER_DECRYPT} per call`);
        }
        for (const keyId of counts.keys()) {
          const keys = await service.keysOfKeyId(keyId);
          if (!keys) throw unknownKey(keyId);
          keysById.set(keyId, keys);
        }
        const tenants = new Set([...keysById.values()].map((keys) => keys.tenantId));
        const entry = (tenantId: string) => {
          const keyIds = [...keysById].filter(([, keys]) => keys.tenantId === tenantId).map(([keyId]) => keyId);
          return {
            tenantId,
            action: 'pii.decrypted' as const,
            subject: `${BASE}/_decrypt`,
            actorUuid: caller.uuid,
            details: { values: keyIds.reduce((sum, keyId) => sum + (counts.get(keyId) ?? 0), 0), keyIds },
            ip: request.ip,
            correlationId: request.id,
          };
        };
        for (const tenantId of tenants) {
          // Keys are per state, so a city's role cannot bound whose values it would open: the
          // caller's scope for this action must cover the whole state (#14 finding 2).
          if (!inScope(request.scope, tenantId)) {
            await audit.append({ ...entry(tenantId), outcome: 'failure' });
            throw new DomainError('forbidden', {
              code: 'DECRYPTION_NOT_ALLOWED',
              message: `Values under the keys of tenant ${tenantId} can only be decrypted by a role held on ${tenantId} itself`,
              params: [tenantId],
            });
          }
        }
        const plain = mapLeaves(body, (leaf) => (typeof leaf === 'string' ? keysById.get(keyIdOf(leaf)!)!.decrypt(leaf) : leaf));
        for (const tenantId of tenants) await audit.append({ ...entry(tenantId), outcome: 'success' });
        // Serialized here: a bare string answer would otherwise go out as text/plain.
        return reply.type('application/json; charset=utf-8').send(JSON.stringify(plain));
      },
    );

    app.post(
      `${BASE}/_sign`,
      {
        schema: {
          tags,
          summary: "Sign a value with the state tenant's current Ed25519 key; the signature names its key",
          body: SignRequest,
          response: { 200: SignResponse },
        },
      },
      async (request) => service.sign(request.body.tenantId, request.body.value),
    );

    app.post(
      `${BASE}/_verify`,
      {
        config: { tenant: 'none' },
        schema: {
          tags,
          summary: 'Verify a signature made by _sign, under any signing key the platform ever had',
          body: VerifyRequest,
          response: { 200: VerifyResponse },
        },
      },
      async (request) => ({ verified: await service.verify(request.body.value, request.body.signature) }),
    );

    app.post(
      `${BASE}/_rotatekey`,
      {
        schema: {
          tags,
          summary:
            'Make a new data key and signing key current for a state tenant; old ones keep decrypting; records are re-encrypted in the background',
          body: RotateKeyRequest,
          response: { 200: RotateKeyResponse },
        },
      },
      async (request) => {
        const { tenantId } = request.body;
        const state = stateTenantOf(tenantId);
        if (state !== tenantId) {
          throw invalid('INVALID_TENANT_ID', `Keys belong to the state tenant: rotate with tenantId "${state}", not "${tenantId}"`, [
            tenantId,
          ]);
        }
        await service.rotateKey(tenantId, { uuid: callerOf(request).uuid });
        return { acknowledged: true };
      },
    );
  };
}
