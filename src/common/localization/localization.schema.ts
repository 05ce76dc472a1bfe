import { Type, type Static } from 'typebox';
import { RequestInfo } from '../../kernel/envelope.js';
import { MAX_CODE_LENGTH, MAX_MESSAGE_LENGTH, MAX_MESSAGES_PER_CALL, MAX_MODULE_LENGTH } from './localization.rules.js';

// Shapes and upper bounds only: the rules (locale pattern, blank values, control characters,
// duplicates, known tenants) live in the service, which the seed loader shares.
const TenantId = Type.String({ minLength: 1, maxLength: 256, description: 'Dot-separated tenant id (pb, pb.amritsar) or default' });
const Locale = Type.String({ minLength: 1, maxLength: 32, description: 'language_COUNTRY, e.g. en_IN or hi_IN' });
const Code = Type.String({ minLength: 1, maxLength: MAX_CODE_LENGTH });
const ModuleName = Type.String({ minLength: 1, maxLength: MAX_MODULE_LENGTH, description: 'e.g. rainmaker-common' });
const Text = Type.String({ minLength: 1, maxLength: MAX_MESSAGE_LENGTH });
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()]);

export const Message = Type.Object({ code: Type.String(), message: Type.String(), module: Type.String(), locale: Type.String() });
export type Message = Static<typeof Message>;

export const MessagesResponse = Type.Object({ messages: Type.Array(Message) });

/** `_create` and `_upsert`: DIGIT's CreateMessagesRequest. */
export const CreateMessagesRequest = Type.Object({
  RequestInfo,
  tenantId: TenantId,
  messages: Type.Array(Type.Object({ code: Code, message: Text, module: ModuleName, locale: Locale }, { additionalProperties: true }), {
    minItems: 1,
    maxItems: MAX_MESSAGES_PER_CALL,
  }),
});
export type CreateMessagesRequest = Static<typeof CreateMessagesRequest>;

/** `_update`: one locale and module, new texts by code (DIGIT's UpdateMessageRequest). */
export const UpdateMessagesRequest = Type.Object({
  RequestInfo,
  tenantId: TenantId,
  locale: Locale,
  module: ModuleName,
  messages: Type.Array(Type.Object({ code: Code, message: Text }, { additionalProperties: true }), {
    minItems: 1,
    maxItems: MAX_MESSAGES_PER_CALL,
  }),
});
export type UpdateMessagesRequest = Static<typeof UpdateMessagesRequest>;

/** `_delete`: DIGIT's DeleteMessagesRequest. */
export const DeleteMessagesRequest = Type.Object({
  RequestInfo,
  tenantId: TenantId,
  messages: Type.Array(Type.Object({ code: Code, module: ModuleName, locale: Locale }, { additionalProperties: true }), {
    minItems: 1,
    maxItems: MAX_MESSAGES_PER_CALL,
  }),
});
export type DeleteMessagesRequest = Static<typeof DeleteMessagesRequest>;

export const DeleteMessagesResponse = Type.Object({ successful: Type.Boolean() });

// Repeated parameters arrive as a list and a single one is coerced to one; both may hold commas.
const QueryList = Type.Array(Type.String({ maxLength: 16_384 }), { maxItems: 200 });

/** DIGIT's v1 search and `GET /messages`: criteria in the query, the body ignored. */
export const SearchQuery = Type.Object({
  locale: Locale,
  tenantId: TenantId,
  module: Type.Optional(QueryList),
  codes: Type.Optional(QueryList),
});
export type SearchQuery = Static<typeof SearchQuery>;

/** The v1 search's body: only RequestInfo, and DIGIT ignores even that. */
export const SearchBody = Type.Union([Type.Object({ RequestInfo }, { additionalProperties: true }), Type.Null()]);

/** v2 search: DIGIT's MessageRequest, criteria in the body. */
export const V2SearchRequest = Type.Object({
  RequestInfo,
  messageSearchCriteria: Type.Object(
    {
      tenantId: TenantId,
      locale: Locale,
      module: Type.Optional(Nullable(Type.String({ maxLength: 16_384 }))),
      codes: Type.Optional(Nullable(Type.Array(Type.String({ maxLength: MAX_CODE_LENGTH }), { maxItems: 5000 }))),
    },
    { additionalProperties: true },
  ),
});
export type V2SearchRequest = Static<typeof V2SearchRequest>;

export const CacheBustBody = Type.Union([Type.Object({ RequestInfo }, { additionalProperties: true }), Type.Null()]);
export const CacheBustResponse = Type.Object({ responseInfo: Type.Null(), isSuccessful: Type.Boolean() });
