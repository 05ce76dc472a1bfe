import { Type, type Static } from 'typebox';
import { RequestInfo } from '../../kernel/envelope.js';

const TenantId = Type.String({
  minLength: 1,
  maxLength: 200,
  description: 'Dot-separated tenant id, e.g. pb or pb.amritsar; keys belong to the state (pb)',
});

/** Values one `_encrypt` call may hold, across its requests: the body limit bounds their size. */
export const MAX_ENCRYPTION_REQUESTS = 1000;
/** Nesting of a value to encrypt or decrypt. */
export const MAX_DEPTH = 32;

/** DIGIT's EncryptionRequest: `type` is Normal or Important; both are sealed with the tenant's data key here. */
export const EncryptionRequest = Type.Object(
  {
    tenantId: TenantId,
    type: Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Null()])),
    value: Type.Unknown({
      description: 'A string, number, boolean, array or object; every leaf becomes `<keyId>|<base64>`, null stays null',
    }),
  },
  { additionalProperties: true },
);

export const EncryptRequest = Type.Object(
  { RequestInfo, encryptionRequests: Type.Array(EncryptionRequest, { minItems: 1, maxItems: MAX_ENCRYPTION_REQUESTS }) },
  { additionalProperties: true },
);
export type EncryptRequest = Static<typeof EncryptRequest>;

export const EncryptResponse = Type.Array(Type.Unknown(), {
  description: "One entry per encryption request, in order, each with its value's structure",
});

export const DecryptRequest = Type.Unknown({
  description:
    'The encrypted structure itself (a ciphertext string, or an array or object of them); numbers, booleans and null pass through',
});

export const DecryptResponse = Type.Unknown({ description: 'The same structure with every ciphertext replaced by its plaintext' });

export const SignRequest = Type.Object(
  { RequestInfo, tenantId: TenantId, value: Type.String({ description: 'The text to sign' }) },
  { additionalProperties: true },
);
export type SignRequest = Static<typeof SignRequest>;

export const SignResponse = Type.Object({
  value: Type.String(),
  signature: Type.String({ description: "Ed25519 under the state tenant's current signing key: `<keyId>|<base64>`" }),
});

export const VerifyRequest = Type.Object(
  { RequestInfo, value: Type.String(), signature: Type.String({ maxLength: 1000 }) },
  { additionalProperties: true },
);
export type VerifyRequest = Static<typeof VerifyRequest>;

export const VerifyResponse = Type.Object({ verified: Type.Boolean() });

export const RotateKeyRequest = Type.Object({ RequestInfo, tenantId: TenantId }, { additionalProperties: true });
export type RotateKeyRequest = Static<typeof RotateKeyRequest>;

export const RotateKeyResponse = Type.Object({ acknowledged: Type.Boolean() });
