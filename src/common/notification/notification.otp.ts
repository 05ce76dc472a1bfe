import type { FastifyBaseLogger } from 'fastify';
import { DomainError } from '../../kernel/errors.js';
import type { OtpSink } from '../user/index.js';
import { maskMobile, type EmailSender, type SmsProvider } from './notification.channels.js';

type OtpMessage = Parameters<OtpSink['send']>[0];

const PURPOSE: Record<OtpMessage['purpose'], string> = { register: 'verification', login: 'login', passwordreset: 'password reset' };

/** An OTP's identity is an e-mail address when it has an `@` (a mobile number never does). */
export const isEmailIdentity = (identity: string): boolean => identity.includes('@');

const maskEmail = (address: string) => `${address.slice(0, 1)}***${address.slice(address.indexOf('@'))}`;

/**
 * Where the user module's one-time passwords go: a mobile number by the SMS provider, an e-mail
 * address (a new address being proven, `user.emailOtpReference`) by the e-mail channel. Sent
 * straight away, not through the outbox: the code must not be stored, and nothing is queued a
 * notification operator could read. Sending is not awaited by the caller, so an answer takes the
 * same time whether or not a message went out (and however slow the gateway); a failure is
 * logged, and the user asks for another code.
 */
export function createOtpSender(deps: { sms: SmsProvider; email: EmailSender | undefined; logger: FastifyBaseLogger }) {
  const { sms, email, logger } = deps;
  const pending = new Set<Promise<void>>();

  function background(work: () => Promise<void>, to: string): void {
    const sending = work()
      // The error's name or code only: a provider's message may quote the address.
      .catch((error: unknown) =>
        logger.warn({ to, error: (error as { code?: string }).code ?? (error as Error).name }, 'OTP could not be sent'),
      )
      .finally(() => pending.delete(sending));
    pending.add(sending);
  }

  const sender: OtpSink & { settle(): Promise<void> } = {
    async send(message) {
      const identity = message.mobileNumber;
      const text = `Your one-time password for ${PURPOSE[message.purpose]} is ${message.code}. It expires in ${message.expiresInMinutes} minutes. Do not share it with anyone.`;
      if (!isEmailIdentity(identity)) {
        background(() => sms.send({ mobileNumber: identity, message: text, tenantId: message.tenantId }), maskMobile(identity));
        return;
      }
      // Known before anything is sent: no timing to read from it. A 400, not a 503: retrying cannot
      // help until the operator configures e-mail, and the caller can ask for an SMS instead.
      if (!email) {
        throw new DomainError('invalid', {
          code: 'EMAIL_NOT_CONFIGURED',
          message: 'E-mail is not configured here (PLINTH_SMTP_URL, PLINTH_MAIL_FROM): an OTP cannot be sent to an e-mail address',
        });
      }
      background(() => email.send({ to: identity, subject: 'Your one-time password', text }), maskEmail(identity));
    },
    /** Resolves once every OTP handed over so far was sent or failed (stop, tests). */
    async settle() {
      while (pending.size > 0) await Promise.all([...pending]);
    },
  };
  return sender;
}

export type OtpSender = ReturnType<typeof createOtpSender>;
