import { Type, type Static } from 'typebox';
import { RequestInfo } from '../../kernel/envelope.js';

const Str = (maxLength: number, extra: object = {}) => Type.Union([Type.String({ maxLength, ...extra }), Type.Null()]);
const Opt = <T extends Parameters<typeof Type.Optional>[0]>(schema: T) => Type.Optional(schema);

export const UserTypeSchema = Type.Union([Type.Literal('CITIZEN'), Type.Literal('EMPLOYEE'), Type.Literal('SYSTEM'), Type.Literal('BUSINESS')]);

export const RoleInput = Type.Object(
  { code: Type.String({ minLength: 1, maxLength: 50 }), name: Opt(Str(128)), tenantId: Opt(Str(256)) },
  { additionalProperties: true },
);

/** DIGIT's UserRequest: field sizes as egov-user's contract; unknown fields are ignored. */
export const UserInput = Type.Object(
  {
    id: Opt(Type.Union([Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }), Type.Null()])),
    uuid: Opt(Str(36)),
    userName: Opt(Str(180)),
    password: Opt(Str(64)),
    salutation: Opt(Str(5)),
    name: Opt(Str(50)),
    gender: Opt(Str(15)),
    mobileNumber: Opt(Str(20)),
    countryCode: Opt(Str(10)),
    alternatemobilenumber: Opt(Str(20)),
    emailId: Opt(Str(128)),
    altContactNumber: Opt(Str(50)),
    pan: Opt(Str(10)),
    aadhaarNumber: Opt(Str(20)),
    permanentAddress: Opt(Str(300)),
    permanentCity: Opt(Str(50)),
    permanentPinCode: Opt(Str(10)),
    correspondenceAddress: Opt(Str(300)),
    correspondenceCity: Opt(Str(50)),
    correspondencePinCode: Opt(Str(10)),
    active: Opt(Type.Union([Type.Boolean(), Type.Null()])),
    locale: Opt(Str(16)),
    type: Opt(Type.Union([UserTypeSchema, Type.Null()])),
    fatherOrHusbandName: Opt(Str(100)),
    relationship: Opt(Str(20)),
    signature: Opt(Str(36)),
    bloodGroup: Opt(Str(32)),
    photo: Opt(Str(36)),
    identificationMark: Opt(Str(300)),
    dob: Opt(Type.Union([Type.String({ maxLength: 20 }), Type.Integer(), Type.Null()])),
    otpReference: Opt(Str(64)),
    tenantId: Opt(Str(256)),
    roles: Opt(Type.Union([Type.Array(RoleInput, { maxItems: 100 }), Type.Null()])),
  },
  { additionalProperties: true },
);
export type UserInput = Static<typeof UserInput>;

export const UserRequest = Type.Object({ RequestInfo, user: UserInput });
export type UserRequest = Static<typeof UserRequest>;

export const UserSearchRequest = Type.Object(
  {
    RequestInfo,
    tenantId: Opt(Str(256)),
    id: Opt(Type.Union([Type.Array(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }), { maxItems: 500 }), Type.Null()])),
    uuid: Opt(Type.Union([Type.Array(Type.String({ maxLength: 64 }), { maxItems: 500 }), Type.Null()])),
    userName: Opt(Str(180)),
    name: Opt(Str(50)),
    mobileNumber: Opt(Str(20)),
    emailId: Opt(Str(128)),
    active: Opt(Type.Union([Type.Boolean(), Type.Null()])),
    userType: Opt(Type.Union([UserTypeSchema, Type.Null()])),
    roleCodes: Opt(Type.Union([Type.Array(Type.String({ maxLength: 50 }), { maxItems: 100 }), Type.Null()])),
    pageSize: Opt(Type.Integer({ minimum: 1, maximum: 500 })),
    pageNumber: Opt(Type.Integer({ minimum: 0, maximum: 1_000_000 })),
  },
  { additionalProperties: true },
);
export type UserSearchRequest = Static<typeof UserSearchRequest>;

export const TokenRequest = Type.Object(
  {
    grant_type: Type.String({ maxLength: 32 }),
    username: Opt(Type.String({ maxLength: 180 })),
    password: Opt(Type.String({ maxLength: 128 })),
    refresh_token: Opt(Type.String({ maxLength: 512 })),
    tenantId: Opt(Type.String({ maxLength: 256 })),
    userType: Opt(Type.String({ maxLength: 16 })),
    scope: Opt(Type.String({ maxLength: 64 })),
  },
  { additionalProperties: true },
);
export type TokenRequest = Static<typeof TokenRequest>;

export const OtpSendRequest = Type.Object({
  RequestInfo,
  otp: Type.Object(
    {
      mobileNumber: Type.String({ minLength: 1, maxLength: 20 }),
      tenantId: Type.String({ minLength: 1, maxLength: 256 }),
      type: Type.Union([Type.Literal('register'), Type.Literal('login'), Type.Literal('passwordreset')]),
      userType: Opt(Str(16)),
      countryCode: Opt(Str(10)),
    },
    { additionalProperties: true },
  ),
});
export type OtpSendRequest = Static<typeof OtpSendRequest>;

export const OtpRequest = Type.Object({
  RequestInfo,
  otp: Type.Object(
    {
      tenantId: Type.String({ minLength: 1, maxLength: 256 }),
      identity: Type.String({ minLength: 1, maxLength: 64 }),
      otp: Opt(Type.String({ maxLength: 16 })),
      type: Opt(Type.Union([Type.Literal('register'), Type.Literal('login'), Type.Literal('passwordreset')])),
    },
    { additionalProperties: true },
  ),
});
export type OtpRequest = Static<typeof OtpRequest>;

export const PasswordUpdateRequest = Type.Object(
  {
    RequestInfo,
    existingPassword: Type.String({ maxLength: 64 }),
    newPassword: Type.String({ maxLength: 64 }),
    tenantId: Opt(Str(256)),
    type: Opt(Str(16)),
  },
  { additionalProperties: true },
);
export const PasswordResetRequest = Type.Object(
  {
    RequestInfo,
    otpReference: Type.String({ maxLength: 64 }),
    userName: Type.String({ maxLength: 180 }),
    newPassword: Type.String({ maxLength: 64 }),
    tenantId: Type.String({ maxLength: 256 }),
    type: Opt(Str(16)),
  },
  { additionalProperties: true },
);

export const LogoutRequest = Type.Object({ RequestInfo, access_token: Opt(Type.String({ maxLength: 4096 })) }, { additionalProperties: true });
