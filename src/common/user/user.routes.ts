import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { DomainError } from '../../kernel/errors.js';
import type { Scope } from '../../kernel/scope.js';
import { responseInfo } from '../../kernel/envelope.js';
import type { HttpApp } from '../../kernel/http.js';
import {
  LogoutRequest,
  OtpRequest,
  OtpSendRequest,
  PasswordResetRequest,
  PasswordUpdateRequest,
  TokenRequest,
  UserRequest,
  UserSearchRequest,
} from './user.schema.js';
import { LoginRefused, type Origin, type UserService } from './user.service.js';
import type { OtpService } from './user.otp.js';
import type { TokenService } from './user.tokens.js';

const tags = ['user'];

/**
 * The caller's scope for this request: the kernel's `request.scope`, the tenants where the caller's
 * roles allow the matched action (computed after validation, see src/kernel/auth.ts).
 */
export function scopeOf(request: FastifyRequest): Scope {
  return request.scope;
}

function originOf(request: FastifyRequest): Origin {
  return { ip: request.ip ?? null, correlationId: request.id };
}

/** Login failures answer as Spring's OAuth2 server did for DIGIT: 400, one message for every cause. */
async function oauth<T>(reply: FastifyReply, work: () => Promise<T>) {
  try {
    return await work();
  } catch (error) {
    if (error instanceof LoginRefused) {
      return reply.status(400).send({ error: 'invalid_grant', error_description: 'Invalid login credentials' });
    }
    throw error;
  }
}

export type RateLimits = { login: { max: number; timeWindow: number }; otp: { max: number; timeWindow: number } };

export function userRoutes(service: UserService, otp: OtpService, tokens: TokenService, limits: RateLimits) {
  return (app: HttpApp) => {
    app.get('/.well-known/jwks.json', { schema: { tags, summary: 'Public keys that sign access tokens' }, config: { open: true } }, async () => tokens.jwks());

    app.post(
      '/user/oauth/token',
      {
        schema: { tags, summary: 'Log in (password or refresh_token grant, form-encoded as DIGIT)', body: TokenRequest },
        config: { open: true, rateLimit: limits.login },
      },
      async (request, reply) =>
        oauth(reply, async () => {
          const body = request.body;
          if (body.grant_type === 'refresh_token') return service.refresh(body.refresh_token ?? '', originOf(request));
          if (body.grant_type !== 'password') throw new LoginRefused('unsupported grant');
          return service.login(
            { username: body.username ?? '', password: body.password ?? '', tenantId: body.tenantId ?? '', userType: body.userType ?? '' },
            originOf(request),
          );
        }),
    );

    app.post(
      '/user/_details',
      { schema: { tags, summary: "The user of an access token (DIGIT's gateway call)", querystring: Type.Object({ access_token: Type.Optional(Type.String({ maxLength: 4096 })) }) }, config: { open: true } },
      async (request) => {
        const header = request.headers.authorization;
        const token = request.query.access_token ?? (typeof header === 'string' ? header.replace(/^bearer /i, '') : '');
        return service.details(token);
      },
    );

    app.post('/user/_logout', { schema: { tags, summary: 'Revoke an access token', body: LogoutRequest }, config: { open: true } }, async (request) => {
      const header = request.headers.authorization;
      const token = request.body.access_token ?? (typeof header === 'string' ? header.replace(/^bearer /i, '') : '');
      await service.logout(token, originOf(request));
      return { ResponseInfo: { ...responseInfo(request.body.RequestInfo, request.id), status: 'Logout successfully' } };
    });

    app.post('/user/users/_createnovalidate', { schema: { tags, summary: 'Create a user (employee or other)', body: UserRequest } }, async (request) => {
      const user = await service.create(request.body.user, request.userInfo, originOf(request));
      return { responseInfo: responseInfo(request.body.RequestInfo, request.id), user: [user] };
    });

    // The user is found by uuid or id and its STORED tenant is checked against the scope (never the
    // body's), so a body naming no tenant is no 400 (DIGIT's update takes none either).
    app.post('/user/users/_updatenovalidate', { config: { tenant: 'none' }, schema: { tags, summary: 'Update a user', body: UserRequest } }, async (request) => {
      const user = await service.update(request.body.user, request.userInfo, originOf(request), false, scopeOf(request));
      return { responseInfo: responseInfo(request.body.RequestInfo, request.id), user: [user] };
    });

    app.post('/user/profile/_update', { config: { tenant: 'none' }, schema: { tags, summary: "Update the caller's own profile", body: UserRequest } }, async (request) => {
      const user = await service.update(request.body.user, request.userInfo, originOf(request), true, scopeOf(request));
      return { responseInfo: responseInfo(request.body.RequestInfo, request.id), user: [user] };
    });

    app.post(
      '/user/citizen/_create',
      { schema: { tags, summary: 'Citizen self-registration with a validated OTP', body: UserRequest }, config: { open: true, rateLimit: limits.otp } },
      async (request) => {
        const user = await service.registerCitizen(request.body.user, originOf(request));
        return { responseInfo: responseInfo(request.body.RequestInfo, request.id), user: [user] };
      },
    );

    for (const [url, includeInactive] of [
      ['/user/_search', false],
      ['/user/v1/_search', true],
    ] as const) {
      // DIGIT's search takes no required tenant: a citizen is answered their own record, anyone else
      // only users on the tenants of their scope (searchAs scopes the query; a tenant named is checked).
      app.post(url, { config: { tenant: 'none' }, schema: { tags, summary: includeInactive ? 'Search users, inactive too' : 'Search active users', body: UserSearchRequest } }, async (request) => {
        const b = request.body;
        if (!b.userName && !b.name && !b.mobileNumber && !b.emailId && !b.uuid?.length && !b.id?.length && !b.roleCodes?.length && !b.tenantId) {
          throw new DomainError('invalid', { code: 'INVALID_USER_SEARCH', message: 'Give at least one of tenantId, userName, name, mobileNumber, emailId, uuid, id or roleCodes' });
        }
        const users = await service.searchAs(
          scopeOf(request),
          {
            tenantId: b.tenantId ?? undefined,
            ids: b.id ?? undefined,
            uuids: b.uuid ?? undefined,
            userName: b.userName ?? undefined,
            name: b.name ?? undefined,
            mobileNumber: b.mobileNumber ?? undefined,
            emailId: b.emailId ?? undefined,
            type: b.userType ?? undefined,
            roleCodes: b.roleCodes ?? undefined,
            active: includeInactive ? (b.active ?? undefined) : (b.active ?? true),
          },
          { pageSize: b.pageSize, pageNumber: b.pageNumber },
        );
        return { responseInfo: { ...responseInfo(b.RequestInfo, request.id), status: '200' }, user: users };
      });
    }

    app.post('/user/password/_update', { config: { tenant: 'none' }, schema: { tags, summary: "Change the caller's password", body: PasswordUpdateRequest } }, async (request) => {
      if (!request.userInfo) throw new DomainError('unauthenticated', { code: 'CustomException', message: 'Log in to change your password' });
      await service.changePassword(request.userInfo, request.body.existingPassword, request.body.newPassword, originOf(request));
      return { responseInfo: responseInfo(request.body.RequestInfo, request.id) };
    });

    app.post(
      '/user/password/nologin/_update',
      { schema: { tags, summary: 'Reset a password with a validated OTP', body: PasswordResetRequest }, config: { open: true, rateLimit: limits.otp } },
      async (request) => {
        await service.resetPassword(request.body, originOf(request));
        return { responseInfo: responseInfo(request.body.RequestInfo, request.id) };
      },
    );

    app.post(
      '/user-otp/v1/_send',
      { schema: { tags, summary: 'Send a one-time password by SMS', body: OtpSendRequest }, config: { open: true, rateLimit: limits.otp } },
      async (request) => ({ responseInfo: responseInfo(request.body.RequestInfo, request.id), ...(await service.sendOtp(request.body.otp)) }),
    );

    app.post(
      '/otp/v1/_validate',
      { schema: { tags, summary: 'Validate an OTP; its UUID becomes the otpReference', body: OtpRequest }, config: { open: true, rateLimit: limits.otp } },
      async (request) => {
        const { tenantId, identity, otp: code } = request.body.otp;
        const reference = await otp.validate(tenantId.split('.')[0] ?? tenantId, identity, code ?? '');
        if (!reference) throw new DomainError('invalid', { code: 'OTP_VALIDATION_UNSUCCESSFUL', message: 'The OTP is wrong, expired or already used' });
        return { responseInfo: responseInfo(request.body.RequestInfo, request.id), otp: { UUID: reference, identity, tenantId, isValidationSuccessful: true } };
      },
    );

    app.post('/otp/v1/_create', { schema: { tags, summary: 'Create and send an OTP (service to service)', body: OtpRequest } }, async (request) => {
      const { tenantId, identity, type } = request.body.otp;
      const issued = await otp.issue(tenantId.split('.')[0] ?? tenantId, identity, type ?? 'login');
      if (!issued) throw new DomainError('invalid', { code: 'OTP_LIMIT_REACHED', message: 'Too many OTPs for this identity; try again later' });
      return { responseInfo: responseInfo(request.body.RequestInfo, request.id), otp: { UUID: issued.id, identity, tenantId, isValidationSuccessful: false } };
    });
  };
}
