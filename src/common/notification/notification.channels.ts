import { createRequire } from 'node:module';
import type { FastifyBaseLogger } from 'fastify';
import type Nodemailer from 'nodemailer';

export type SmsMessage = { mobileNumber: string; message: string; tenantId: string };

/** An SMS gateway. `send` resolves once the gateway accepted the message and rejects otherwise. */
export type SmsProvider = { readonly name: string; send(message: SmsMessage): Promise<void> };

/** The development provider: logs each message and keeps the last ones for tests and operators. */
export type LogSmsProvider = SmsProvider & { sent(): readonly SmsMessage[]; clear(): void };

const LOG_KEEP = 1000;

/** `******3210`: enough for a developer to tell numbers apart, not enough to call one. */
export function maskMobile(mobile: string): string {
  return mobile.length <= 4 ? '*'.repeat(mobile.length) : `${'*'.repeat(mobile.length - 4)}${mobile.slice(-4)}`;
}

export function logSmsProvider(logger: FastifyBaseLogger): LogSmsProvider {
  let kept: SmsMessage[] = [];
  return {
    name: 'log',
    async send(message) {
      // The number masked (personal data stays out of the log); the text is what development reads (OTPs).
      logger.info({ mobileNumber: maskMobile(message.mobileNumber), tenantId: message.tenantId, sms: message.message }, 'SMS (log provider: configure PLINTH_SMS_PROVIDER=http to send)');
      kept.push(message);
      // Bounded: a long-running development server must not grow without end.
      if (kept.length > LOG_KEEP) kept = kept.slice(-LOG_KEEP);
    },
    sent: () => [...kept],
    clear() {
      kept = [];
    },
  };
}

export const SMS_TIMEOUT_MS = 10_000;

/** A generic HTTP gateway: POSTs `{ mobileNumber, message, tenantId }` as JSON; any 2xx is acceptance. */
export function httpSmsProvider(url: string, timeoutMs = SMS_TIMEOUT_MS): SmsProvider {
  return {
    name: 'http',
    async send(message) {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(message),
        signal: AbortSignal.timeout(timeoutMs),
      });
      if (!response.ok) throw new Error(`SMS gateway answered ${response.status}`);
      await response.body?.cancel();
    },
  };
}

export type EmailMessage = { to: string; subject: string; text: string };

export type EmailSender = { send(message: EmailMessage): Promise<void>; close(): void };

/** SMTP through nodemailer (connection handling, STARTTLS, auth and MIME encoding of non-ASCII text). */
export function smtpSender(smtpUrl: string, from: string): EmailSender {
  // Loaded only when SMTP is configured: nodemailer costs memory in every process that never mails.
  const nodemailer = createRequire(import.meta.url)('nodemailer') as typeof Nodemailer;
  // Timeouts: a hung mail server must fail the attempt (the dispatcher retries), not block it forever.
  const transport = nodemailer.createTransport({ url: smtpUrl, connectionTimeout: SMS_TIMEOUT_MS, greetingTimeout: SMS_TIMEOUT_MS, socketTimeout: 30_000 });
  return {
    async send(message) {
      await transport.sendMail({ from, to: message.to, subject: message.subject, text: message.text });
    },
    close: () => transport.close(),
  };
}
