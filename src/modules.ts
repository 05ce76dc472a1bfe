import type { Config } from './kernel/config.js';
import { SYSTEM_SCOPE } from './kernel/scope.js';
import type { AnyModule } from './kernel/module.js';
import { wire, type ApiOf, type ModuleListItem } from './kernel/module.registry.js';
import { accessModule } from './common/access/index.js';
import { auditModule } from './common/audit/index.js';
import { boundaryModule } from './common/boundary/index.js';
import { encryptionModule } from './common/encryption/index.js';
import { filestoreModule } from './common/filestore/index.js';
import { hrmsModule } from './common/hrms/index.js';
import { idgenModule } from './common/idgen/index.js';
import { localizationModule } from './common/localization/index.js';
import { mdmsModule, type MdmsApi } from './common/mdms/index.js';
import { notificationModule } from './common/notification/index.js';
import { shortUrlModule } from './common/shorturl/index.js';
import { userEventModule } from './common/userevent/index.js';
import { defaultUserSettings, userModule, type OtpSink, type UserMasters, type UserSettings } from './common/user/index.js';
import { workflowModule } from './common/workflow/index.js';
import { complaintModule } from './domain/complaint/index.js';
import { dedupModule } from './domain/dedup/index.js';
import { householdModule } from './domain/household/index.js';
import { immunizationModule } from './domain/immunization/index.js';
import { individualModule } from './domain/individual/index.js';
import { taskModule } from './domain/task/index.js';
import { exchangeSubscriptionsModule, type DeliveryWorkerOptions } from './exchange/subscriptions/index.js';
import { exchangeTrustModule } from './exchange/trust/index.js';

/** What the platform hands the modules that need more than other modules' APIs. */
export type ModuleWiring = {
  readonly config: Config;
  /** A listed module's API, for a reach made only once the platform runs (not while modules are created). */
  readonly module: <M extends AnyModule>(definition: M) => ApiOf<M>;
  /** Where OTPs go; by default the notification module's channels (SMS provider, e-mail). */
  readonly otpSink?: OtpSink | undefined;
  readonly users?: Partial<UserSettings> | undefined;
  /** Timings of the exchange delivery worker (tests shorten the backoff). */
  readonly subscriptionWorker?: Partial<DeliveryWorkerOptions> | undefined;
};

/**
 * The platform's modules: ONE list. Each is created after the modules it requires (its definition
 * says which, or its entry here), and migrations, seeding and start-up follow that same order.
 * A new module is one line: its definition (see docs/modules.md).
 */
export const MODULES: ReadonlyArray<ModuleListItem<ModuleWiring>> = [
  auditModule,
  mdmsModule,
  accessModule,
  encryptionModule,
  wire(
    userModule,
    { audit: auditModule, mdms: mdmsModule, access: accessModule, encryption: encryptionModule },
    ({ audit, mdms, access, encryption }, { config, module, otpSink, users }: ModuleWiring) => ({
      audit: audit.log,
      masters: userMasters(mdms),
      tenants: mdms.service.tenants,
      grants: access.grants,
      encryption,
      // OTPs go out through the notification module's SMS and e-mail channels; it is made after users (it reads them).
      otpSink: otpSink ?? { send: (message) => module(notificationModule).otp.send(message) },
      settings: {
        ...defaultUserSettings,
        rateLimits: { login: { max: config.loginRateLimit, timeWindow: 60_000 }, otp: { max: config.otpRateLimit, timeWindow: 60_000 } },
        lockout: {
          maxFailures: config.lockoutMaxFailures,
          windowMs: config.lockoutWindowMinutes * 60_000,
          coolDownMs: config.lockoutCoolDownMinutes * 60_000,
        },
        accessTokenTtlMs: config.accessTokenMinutes * 60_000,
        ...users,
      },
    }),
  ),
  boundaryModule,
  localizationModule,
  idgenModule,
  workflowModule,
  filestoreModule,
  shortUrlModule,
  userEventModule,
  notificationModule,
  wire(hrmsModule, { users: userModule, mdms: mdmsModule }, ({ users, mdms }) => ({ users, tenants: mdms.service.tenants })),
  dedupModule,
  wire(individualModule, {
    mdms: mdmsModule,
    audit: auditModule,
    boundary: boundaryModule,
    idgen: idgenModule,
    encryption: encryptionModule,
    dedup: dedupModule,
  }),
  wire(householdModule, {
    mdms: mdmsModule,
    boundary: boundaryModule,
    idgen: idgenModule,
    individual: individualModule,
    encryption: encryptionModule,
  }),
  complaintModule,
  taskModule,
  immunizationModule,
  exchangeTrustModule,
  wire(
    exchangeSubscriptionsModule,
    { trust: exchangeTrustModule, individual: individualModule, audit: auditModule, mdms: mdmsModule, encryption: encryptionModule },
    (apis, { subscriptionWorker }: ModuleWiring) => ({ ...apis, worker: subscriptionWorker }),
  ),
];

/** Role names and the mobile number rule, read from MDMS at the state tenant. */
function userMasters(mdms: MdmsApi): UserMasters {
  const master = async (tenantId: string, moduleName: string, name: string) =>
    (await mdms.service.searchV1({ tenantId, moduleDetails: [{ moduleName, masterDetails: [{ name }] }] }, SYSTEM_SCOPE))[moduleName]?.[
      name
    ] ?? [];
  return {
    async roleNames(stateTenantId) {
      const roles = (await master(stateTenantId, 'ACCESSCONTROL-ROLES', 'roles')) as Array<{ code?: string; name?: string }>;
      return new Map(roles.filter((r) => typeof r.code === 'string').map((r) => [r.code!, r.name ?? r.code!]));
    },
    async mobilePattern(stateTenantId) {
      type Rule = { pattern?: string; mobileNumberRegex?: string; rules?: { pattern?: string }; default?: boolean; isDefault?: boolean };
      const rules = (await master(stateTenantId, 'common-masters', 'MobileNumberValidation')) as Rule[];
      const rule = rules.find((r) => r.default === true || r.isDefault === true) ?? rules[0];
      // DIGIT's egov-user shape (rules.pattern) and the flat one of our seed.
      const pattern = rule?.rules?.pattern ?? rule?.mobileNumberRegex ?? rule?.pattern;
      return typeof pattern === 'string' ? new RegExp(pattern) : undefined;
    },
    async dataSecurity(stateTenantId) {
      const read = await mdms.service.searchV1(
        {
          tenantId: stateTenantId,
          moduleDetails: [{ moduleName: 'DataSecurity', masterDetails: [{ name: 'SecurityPolicy' }, { name: 'MaskingPatterns' }] }],
        },
        SYSTEM_SCOPE,
      );
      return { policies: read['DataSecurity']?.['SecurityPolicy'] ?? [], patterns: read['DataSecurity']?.['MaskingPatterns'] ?? [] };
    },
  };
}
