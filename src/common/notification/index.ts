import { SYSTEM_SCOPE } from '../../kernel/scope.js';
import { defineModule } from '../../kernel/module.js';
import type { Tx } from '../../kernel/db.js';
import { localizationModule, type LocalizationApi } from '../localization/index.js';
import { shortUrlModule, type ShortUrlApi } from '../shorturl/index.js';
import { userEventModule, type UserEventApi } from '../userevent/index.js';
import { userModule, type UserApi } from '../user/index.js';
import { encryptionModule, dataSecurityMasters, type EncryptionApi } from '../encryption/index.js';
import { auditModule, type AuditApi } from '../audit/index.js';
import { mdmsModule, type MdmsApi } from '../mdms/index.js';
import { httpSmsProvider, logSmsProvider, smtpSender, type LogSmsProvider, type SmsProvider } from './notification.channels.js';
import { init } from './migrations/0001_init.js';
import { notificationRoutes } from './notification.routes.js';
import { createOtpSender } from './notification.otp.js';
import type { OtpSink } from '../user/index.js';
import { createNotificationService, MESSAGE_PII, NOTIFICATION_REQUESTED, type MessageSearch, type NotifyRequest, type SentMessage } from './notification.service.js';

export type { NotifyRequest, NotificationRequested, MessageSearch, SentMessage, MessageStatus } from './notification.service.js';
export type { Channel, Recipient } from './notification.render.js';
export type { SmsProvider, SmsMessage, LogSmsProvider } from './notification.channels.js';
export { NOTIFICATION_REQUESTED } from './notification.service.js';

export type NotificationApi = {
  /**
   * Queues the messages of `request` in the caller's transaction (one outbox event per recipient and
   * channel): they exist exactly when the caller's change commits and are sent by the dispatcher.
   * Refuses a malformed request with DomainError('invalid'). Answers how many messages were queued.
   */
  notify(tx: Tx, request: NotifyRequest): Promise<number>;
  /** Sent (and skipped, failed) messages, newest first. */
  search(criteria: MessageSearch): Promise<{ messages: SentMessage[]; totalCount: number }>;
  /** The SMS provider in use; with PLINTH_SMS_PROVIDER=log, `sent()` lists what was "sent" (tests). */
  readonly sms: SmsProvider | LogSmsProvider;
  /** Sends the user module's one-time passwords: by SMS to a mobile number, by e-mail to an address. */
  readonly otp: OtpSink & { settle(): Promise<void> };
};

export type NotificationDeps = {
  localization: LocalizationApi;
  shortUrl: ShortUrlApi;
  userEvent: UserEventApi;
  users: UserApi;
  encryption: EncryptionApi;
  mdms: MdmsApi;
  audit: AuditApi;
};

/** SMS, email and in-app messages from localized templates, sent from the outbox. */
export const notificationModule = defineModule<NotificationApi, NotificationDeps>({
  name: 'notification',
  requires: { localization: localizationModule, shortUrl: shortUrlModule, userEvent: userEventModule, users: userModule, encryption: encryptionModule, mdms: mdmsModule, audit: auditModule },
  migrations: [init],
  create({ config, database, clock, outbox, dispatcher, logger }, deps) {
    const sms = config.smsProvider === 'http' && config.smsUrl ? httpSmsProvider(config.smsUrl) : logSmsProvider(logger);
    const email = config.smtpUrl && config.mailFrom ? smtpSender(config.smtpUrl, config.mailFrom) : undefined;
    if (!email) logger.info('e-mail notifications are off: set PLINTH_SMTP_URL and PLINTH_MAIL_FROM to send them');
    const service = createNotificationService({
      database,
      outbox,
      clock,
      logger,
      ...deps,
      encryption: deps.encryption.service,
      audit: deps.audit.log,
      dataSecurity: dataSecurityMasters((criteria) => deps.mdms.service.searchV1(criteria, SYSTEM_SCOPE)),
      sms,
      email,
    });
    const otp = createOtpSender({ sms, email, logger });
    // Addresses and texts follow key rotations.
    deps.encryption.service.registerSealedTable({ name: 'notification', table: 'notification_message', id: 'id', text: MESSAGE_PII.text });
    // Plain subscriber: sending is not a database write; each message guards itself (notification_message).
    dispatcher.subscribe({ name: 'notification.send', types: [NOTIFICATION_REQUESTED], handle: (event) => service.deliver(event) });
    return {
      api: { notify: (tx, request) => service.notify(tx, request), search: (criteria) => service.search(criteria), sms, otp },
      routes: notificationRoutes(service),
      // Messages stored before addresses and texts were encrypted are encrypted now (idempotent).
      async start() {
        const sealed = await service.sealStored();
        if (sealed > 0) logger.info({ rows: sealed }, 'notifications: personal fields of earlier messages encrypted');
      },
      async stop() {
        await otp.settle();
        email?.close();
      },
    };
  },
});
