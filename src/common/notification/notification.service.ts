import type { FastifyBaseLogger } from 'fastify';
import { sql, type Kysely } from 'kysely';
import type { Clock } from '../../kernel/clock.js';
import type { Database, Tx } from '../../kernel/db.js';
import { DomainError, type ErrorDetail } from '../../kernel/errors.js';
import type { CloudEvent, Outbox } from '../../kernel/events.js';
import { newId } from '../../kernel/ids.js';
import { SYSTEM_SCOPE } from '../../kernel/scope.js';
import type { LocalizationApi } from '../localization/index.js';
import type { ShortUrlApi } from '../shorturl/index.js';
import type { EventInput, UserEventApi } from '../userevent/index.js';
import type { UserApi } from '../user/index.js';
import type { UserInfo } from '../../kernel/userinfo.js';
import type { AuditLog } from '../audit/index.js';
import {
  createPrivacy,
  decryptionEntries,
  personalFields,
  sealStoredRows,
  type DataSecurityMasters,
  type EncryptionService,
  type PersonalFieldSpec,
  type Revealed,
} from '../encryption/index.js';
import type { EmailSender, SmsProvider } from './notification.channels.js';
import { CHANNELS, chooseLocale, headline, recipientKey, render, type Channel, type Recipient } from './notification.render.js';

export const NOTIFICATION_REQUESTED = 'plinth.notification.requested.v1';
const SOURCE = '/plinth/notification';

export type NotifyRequest = {
  tenantId: string;
  /** Localization code of the text, e.g. PGR_CITIZEN_ASSIGN_PENDINGATLME_SMS_MESSAGE. */
  templateKey: string;
  /** Localization module holding the template (e.g. `rainmaker-pgr`); every module when absent. */
  localizationModule?: string;
  params: Record<string, string>;
  /**
   * Parameters that are labels: localization codes (e.g. `SERVICEDEFS.STREETLIGHTNOTWORKING`), put
   * into `params` under the same names in the recipient's language at send time; `params` holds the
   * fallback used when the code has no message in that language.
   */
  labels?: Record<string, string>;
  /** Long URLs, shortened at send time and put into `params` under the same names. */
  links?: Record<string, string>;
  recipients: Recipient[];
  channels: Channel[];
  /** The calling module (e.g. `pgr`): recorded, and the in-app event's category. */
  module: string;
  /** The business record (e.g. the complaint number). */
  referenceId: string;
  /** Stable per transition (e.g. `<serviceRequestId>:<action>:<auditTime>`): a retry of `notify` with it sends nothing twice. */
  idempotencyKey: string;
};

/** One event per (recipient, channel): each is retried and dead-lettered on its own. */
export type NotificationRequested = Omit<NotifyRequest, 'recipients' | 'channels'> & { recipient: Recipient; channel: Channel };

export type MessageStatus = 'sending' | 'sent' | 'skipped' | 'failed';

type MessageRow = {
  id: string;
  idempotency_key: string;
  channel: string;
  recipient: string;
  tenant_id: string;
  module: string;
  reference_id: string;
  template_key: string;
  locale: string | null;
  address: string | null;
  subject: string | null;
  body: string | null;
  status: MessageStatus;
  attempts: number;
  last_error: string | null;
  created_time: number;
  sent_time: number | null;
};
type Tables = { notification_message: MessageRow };

export type SentMessage = {
  id: string;
  tenantId: string;
  module: string;
  referenceId: string;
  templateKey: string;
  channel: string;
  recipient: string;
  address: string | null;
  locale: string | null;
  subject: string | null;
  message: string | null;
  status: MessageStatus;
  attempts: number;
  lastError: string | null;
  createdTime: number;
  sentTime: number | null;
};

export type MessageSearch = {
  tenantId: string;
  referenceId?: string | undefined;
  channel?: Channel | undefined;
  status?: MessageStatus | undefined;
  module?: string | undefined;
  limit?: number | undefined;
  offset?: number | undefined;
};

/**
 * What a message stores encrypted: its address (mobile, e-mail), what it said, and the provider's
 * error (which may quote the address). The recipient column keeps `user:<uuid>` in clear (an id, not
 * personal data) and a blind index in place of a mobile number or e-mail (`mobile#<index>`).
 */
export const MESSAGE_PII: PersonalFieldSpec<MessageRow> = { name: 'notification', text: ['address', 'subject', 'body', 'last_error'] };

/** The security policy of a sent message as the search answers it (`DataSecurity.SecurityPolicy`, model `Notification`). */
const PRIVACY_MODEL = 'Notification';
const MESSAGE_PII_PATHS = ['address', 'subject', 'message', 'lastError'];

/** The parts of a queued message's event that are personal: sealed in the outbox (and JetStream). */
const SEALED_EVENT_FIELDS = ['recipient', 'params'] as const;

const MAX = { key: 256, text: 1000, recipients: 100 };

function check(request: NotifyRequest): ErrorDetail[] {
  const errors: ErrorDetail[] = [];
  const bad = (field: string, message: string) => errors.push({ code: 'NOTIFICATION_INVALID', message: `${field}: ${message}`, params: [field] });
  for (const field of ['tenantId', 'templateKey', 'module', 'referenceId', 'idempotencyKey'] as const) {
    const value = request[field];
    if (typeof value !== 'string' || value.trim() === '' || value.length > MAX.key) bad(field, `must be 1-${MAX.key} characters`);
  }
  if (!Array.isArray(request.recipients) || request.recipients.length === 0 || request.recipients.length > MAX.recipients) bad('recipients', `must list 1-${MAX.recipients} recipients`);
  else request.recipients.forEach((r, i) => {
    if (!r.userUuid && !r.mobileNumber && !r.emailId) bad(`recipients[${i}]`, 'needs a userUuid, a mobileNumber or an emailId');
  });
  if (!Array.isArray(request.channels) || request.channels.length === 0 || request.channels.some((c) => !CHANNELS.includes(c))) bad('channels', `must list some of ${CHANNELS.join(', ')}`);
  for (const [name, value] of Object.entries(request.links ?? {})) {
    if (!/^https?:\/\//.test(value)) bad(`links.${name}`, 'must be an http(s) URL');
  }
  for (const [name, code] of Object.entries(request.labels ?? {})) {
    if (typeof code !== 'string' || code.trim() === '' || code.length > MAX.key) bad(`labels.${name}`, `must be a localization code of 1-${MAX.key} characters`);
  }
  return errors;
}

export type NotificationServiceDeps = {
  database: Database;
  outbox: Outbox;
  clock: Clock;
  logger: FastifyBaseLogger;
  localization: LocalizationApi;
  shortUrl: ShortUrlApi;
  userEvent: UserEventApi;
  users: UserApi;
  sms: SmsProvider;
  encryption: EncryptionService;
  audit: AuditLog;
  /** Where the `Notification` security policy is read (MDMS DataSecurity). */
  dataSecurity: DataSecurityMasters;
  /** Undefined when PLINTH_SMTP_URL or PLINTH_MAIL_FROM is unset: e-mails are skipped with a log line. */
  email: EmailSender | undefined;
};

export function createNotificationService(deps: NotificationServiceDeps) {
  const { database, outbox, clock, logger, localization, shortUrl, userEvent, users, sms, email, encryption, audit } = deps;
  const db = () => database.kysely.withTables<Tables>() as unknown as Kysely<Tables>;
  const pii = personalFields(encryption, MESSAGE_PII);
  const privacy = createPrivacy(deps.dataSecurity, { model: PRIVACY_MODEL, paths: MESSAGE_PII_PATHS });

  /** The stored (and event-subject) form of a recipient: no mobile number or e-mail in clear. */
  async function storedRecipient(tenantId: string, recipient: Recipient, tx?: Tx): Promise<string> {
    const key = recipientKey(recipient);
    if (key.startsWith('user:')) return key;
    const kind = key.slice(0, key.indexOf(':'));
    return `${kind}#${await pii.blindIndex(tenantId, 'recipient', key, tx)}`;
  }

  /** Encrypts the personal columns among `fields` (the others pass as they are). */
  async function sealed<F extends Partial<MessageRow>>(tenantId: string, fields: F): Promise<F> {
    return (await pii.seal(tenantId, fields as MessageRow)) as unknown as F;
  }

  /** Writes one outbox event per (recipient, channel) in the caller's transaction. */
  async function notify(tx: Tx, request: NotifyRequest): Promise<number> {
    const errors = check(request);
    if (errors.length > 0) throw new DomainError('invalid', errors);
    const keys = new Map<Recipient, string>();
    for (const recipient of request.recipients) keys.set(recipient, await storedRecipient(request.tenantId, recipient, tx));
    const inputs = request.recipients.flatMap((recipient) =>
      [...new Set(request.channels)].map((channel) => {
        const data: NotificationRequested = {
          tenantId: request.tenantId,
          templateKey: request.templateKey,
          ...(request.localizationModule === undefined ? {} : { localizationModule: request.localizationModule }),
          params: request.params,
          ...(request.labels === undefined ? {} : { labels: request.labels }),
          ...(request.links === undefined ? {} : { links: request.links }),
          module: request.module,
          referenceId: request.referenceId,
          idempotencyKey: request.idempotencyKey,
          recipient,
          channel,
        };
        // Subject per message: a failing message holds back only its own redeliveries, not the tenant's.
        return {
          type: NOTIFICATION_REQUESTED,
          source: SOURCE,
          subject: `${request.idempotencyKey}/${channel}/${keys.get(recipient)}`,
          tenantId: request.tenantId,
          data,
          sealed: SEALED_EVENT_FIELDS,
        };
      }),
    );
    await outbox.appendMany(tx, inputs);
    return inputs.length;
  }

  async function template(tenantId: string, locale: string, code: string, module: string | undefined): Promise<string | undefined> {
    const found = await localization.service.search({ tenantId, locale, modules: module ? [module] : undefined, codes: [code] }, SYSTEM_SCOPE);
    return found.find((m) => m.code === code)?.message;
  }

  async function userOf(uuid: string | undefined) {
    if (!uuid) return undefined;
    const [user] = await users.service.search({ uuids: [uuid] }, { pageSize: 1 });
    return user as ({ mobileNumber?: string | null; emailId?: string | null; locale?: unknown } & Record<string, unknown>) | undefined;
  }

  async function mark(tenantId: string, id: string, status: MessageStatus, fields: Partial<MessageRow> = {}): Promise<void> {
    await db().updateTable('notification_message').set({ status, ...(await sealed(tenantId, fields)) }).where('id', '=', id).execute();
  }

  /**
   * The dispatcher's handler. Per message: `sending` is recorded before the provider is called and
   * `sent` after it accepted; a redelivery finds `sent` (or `skipped`) and does nothing. A crash
   * between the provider's acceptance and the `sent` mark leaves `sending`: the next delivery sends
   * again (at least once), since there is no way to ask a gateway whether it got the first one.
   */
  async function deliver(event: CloudEvent): Promise<void> {
    const data = event.data as NotificationRequested;
    const { channel, recipient } = data;
    const key = { idempotency_key: data.idempotencyKey, channel, recipient: await storedRecipient(data.tenantId, recipient) };
    const existing = await db().selectFrom('notification_message').selectAll().where('idempotency_key', '=', key.idempotency_key).where('channel', '=', channel).where('recipient', '=', key.recipient).executeTakeFirst();
    if (existing && (existing.status === 'sent' || existing.status === 'skipped')) return;

    const user = await userOf(recipient.userUuid);
    const locale = chooseLocale(recipient.locale, typeof user?.locale === 'string' ? user.locale : undefined);
    const text = await template(data.tenantId, locale, data.templateKey, data.localizationModule);
    if (text === undefined) {
      logger.error({ templateKey: data.templateKey, locale, tenantId: data.tenantId, eventId: event.id }, 'notification template missing: the message goes to the dead letters');
      throw new Error(`notification template ${data.templateKey} not found for ${locale} on ${data.tenantId}`);
    }
    const params = { ...data.params };
    for (const [name, code] of Object.entries(data.labels ?? {})) {
      const label = await template(data.tenantId, locale, code, data.localizationModule);
      if (label !== undefined) params[name] = label;
    }
    for (const [name, url] of Object.entries(data.links ?? {})) params[name] = await shortUrl.shorten(url, { tenantId: data.tenantId });
    const body = render(text, params);
    const subjectTemplate = channel === 'EMAIL' ? await template(data.tenantId, locale, `${data.templateKey}_SUBJECT`, data.localizationModule) : undefined;
    const subject = subjectTemplate === undefined ? headline(body) : render(subjectTemplate, params);
    const address =
      channel === 'SMS' ? (recipient.mobileNumber ?? user?.mobileNumber ?? null) : channel === 'EMAIL' ? (recipient.emailId ?? user?.emailId ?? null) : (recipient.userUuid ?? null);

    const id = existing?.id ?? newId();
    const now = clock.now();
    const fields = { locale, address, subject, body, last_error: null };
    if (existing) await mark(data.tenantId, id, 'sending', { ...fields, attempts: existing.attempts + 1 });
    else {
      await db()
        .insertInto('notification_message')
        .values({ id, ...key, tenant_id: data.tenantId, module: data.module, reference_id: data.referenceId, template_key: data.templateKey, ...(await sealed(data.tenantId, fields)), status: 'sending', attempts: 1, created_time: now, sent_time: null })
        .execute();
    }

    const skip = async (reason: string) => {
      logger.info({ channel, referenceId: data.referenceId, templateKey: data.templateKey, reason }, 'notification skipped');
      await mark(data.tenantId, id, 'skipped', { last_error: reason });
    };
    try {
      if (!address) return await skip(channel === 'IN_APP' ? 'no user to address' : `the recipient has no ${channel === 'SMS' ? 'mobile number' : 'e-mail address'}`);
      if (channel === 'SMS') await sms.send({ mobileNumber: address, message: body, tenantId: data.tenantId });
      else if (channel === 'EMAIL') {
        if (!email) return await skip('e-mail is not configured (PLINTH_SMTP_URL, PLINTH_MAIL_FROM)');
        await email.send({ to: address, subject, text: body });
      } else {
        // The cast: TypeBox's static type of EventInput (open object) does not admit a literal here.
        const inApp = {
          tenantId: data.tenantId,
          eventType: 'SYSTEMGENERATED',
          eventCategory: data.module,
          name: subject,
          description: body.slice(0, 500),
          source: 'WEBAPP',
          referenceId: data.referenceId.slice(0, 64),
          recepient: { toUsers: [address], toRoles: [] },
        } as unknown as EventInput;
        await userEvent.create([inApp], { uuid: null }, SYSTEM_SCOPE);
      }
    } catch (error) {
      await mark(data.tenantId, id, 'failed', { last_error: error instanceof Error ? error.message.slice(0, 1000) : String(error).slice(0, 1000) });
      throw error;
    }
    await mark(data.tenantId, id, 'sent', { sent_time: clock.now() });
  }

  async function search(criteria: MessageSearch): Promise<{ messages: SentMessage[]; totalCount: number }> {
    let q = db().selectFrom('notification_message').where('tenant_id', '=', criteria.tenantId);
    if (criteria.referenceId) q = q.where('reference_id', '=', criteria.referenceId);
    if (criteria.channel) q = q.where('channel', '=', criteria.channel);
    if (criteria.status) q = q.where('status', '=', criteria.status);
    if (criteria.module) q = q.where('module', '=', criteria.module);
    const total = await q.select(sql<number>`count(*)`.as('n')).executeTakeFirst();
    const stored = await q.selectAll().orderBy('created_time', 'desc').orderBy('id').limit(criteria.limit ?? 100).offset(criteria.offset ?? 0).execute();
    const rows = await Promise.all(stored.map((r) => pii.open(r.tenant_id, r)));
    return {
      totalCount: Number(total?.n ?? 0),
      messages: rows.map((r) => ({
        id: r.id,
        tenantId: r.tenant_id,
        module: r.module,
        referenceId: r.reference_id,
        templateKey: r.template_key,
        channel: r.channel,
        recipient: r.recipient,
        address: r.address,
        locale: r.locale,
        subject: r.subject,
        message: r.body,
        status: r.status,
        attempts: Number(r.attempts),
        lastError: r.last_error,
        createdTime: Number(r.created_time),
        sentTime: r.sent_time === null ? null : Number(r.sent_time),
      })),
    };
  }

  /**
   * The search as `viewer` may see it: each message's personal fields shown by the `Notification`
   * policy for the viewer's roles on its tenant, and one `pii.decrypted` entry per message shown.
   */
  async function searchAs(viewer: UserInfo, criteria: MessageSearch, correlationId: string | null): Promise<{ messages: SentMessage[]; totalCount: number }> {
    const found = await search(criteria);
    const redactorOf = privacy.viewer(viewer);
    const revealed: Revealed[] = [];
    for (const message of found.messages) {
      const redactor = await redactorOf(message.tenantId);
      redactor.apply(message as unknown as Record<string, unknown>);
      revealed.push({ tenantId: message.tenantId, subject: message.id, redactor });
    }
    const entries = decryptionEntries(revealed, { model: PRIVACY_MODEL, purpose: 'search', actorUuid: viewer.uuid, correlationId });
    if (entries.length > 0) await database.transaction((tx) => audit.appendManyInTx(tx, entries));
    return found;
  }

  /**
   * Encrypts messages stored before their personal fields were (run at start, idempotent): the
   * columns, then recipient keys that named a mobile number or e-mail.
   */
  async function sealStored(): Promise<number> {
    const columns = await sealStoredRows(database, encryption, { table: 'notification_message', id: 'id', tenant: 'tenant_id', read: (raw) => raw as MessageRow, fields: pii, spec: MESSAGE_PII });
    const plain = await db()
      .selectFrom('notification_message')
      .select(['id', 'tenant_id', 'recipient'])
      .where((eb) => eb.or([eb('recipient', 'like', 'mobile:%'), eb('recipient', 'like', 'email:%')]))
      .execute();
    for (const row of plain) {
      const at = row.recipient.indexOf(':');
      const kind = row.recipient.slice(0, at);
      const value = row.recipient.slice(at + 1);
      const recipient: Recipient = kind === 'mobile' ? { mobileNumber: value } : { emailId: value };
      await db().updateTable('notification_message').set({ recipient: await storedRecipient(row.tenant_id, recipient) }).where('id', '=', row.id).where('recipient', '=', row.recipient).execute();
    }
    return columns + plain.length;
  }

  return { notify, deliver, search, searchAs, sealStored };
}

export type NotificationService = ReturnType<typeof createNotificationService>;
