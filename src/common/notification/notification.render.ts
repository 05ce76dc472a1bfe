/** Pure parts of notifications: placeholders, locale choice, idempotency keys. No I/O here. */

export const CHANNELS = ['SMS', 'EMAIL', 'IN_APP'] as const;
export type Channel = (typeof CHANNELS)[number];

export const FALLBACK_LOCALE = 'en_IN';

export type Recipient = { userUuid?: string | undefined; mobileNumber?: string | undefined; emailId?: string | undefined; locale?: string | undefined };

/**
 * Fills `{name}` placeholders (DIGIT's `{complaint_type}`, `{id}`, `{date}`, `{download_link}`…).
 * Unknown placeholders stay as they are, so a missing parameter is visible in what was sent rather
 * than silently dropped; a value is inserted literally (a `{x}` inside a value is not filled again).
 */
export function render(template: string, params: Readonly<Record<string, string>>): string {
  return template.replace(/\{([A-Za-z0-9_.-]+)\}/g, (whole, name: string) => (Object.hasOwn(params, name) ? params[name]! : whole));
}

/** The recipient's own locale, else the one stored on their user, else en_IN. */
export function chooseLocale(recipientLocale: string | undefined | null, userLocale: string | undefined | null): string {
  for (const candidate of [recipientLocale, userLocale]) {
    if (typeof candidate === 'string' && /^[a-z]{2,3}_[A-Z]{2}$/.test(candidate)) return candidate;
  }
  return FALLBACK_LOCALE;
}

/**
 * Who a message goes to, as stored in the idempotency key: the user when known (their number may
 * change between the request and the send; the message is still theirs), else the address.
 */
export function recipientKey(recipient: Recipient): string {
  if (recipient.userUuid) return `user:${recipient.userUuid}`;
  if (recipient.mobileNumber) return `mobile:${recipient.mobileNumber}`;
  if (recipient.emailId) return `email:${recipient.emailId}`;
  throw new Error('a recipient needs a userUuid, a mobileNumber or an emailId');
}

/** The unique key of one sent message: a redelivery of its event finds it and sends nothing. */
export function messageKey(idempotencyKey: string, channel: Channel, recipient: Recipient): string {
  return JSON.stringify([idempotencyKey, channel, recipientKey(recipient)]);
}

/** In-app events take a name of at most 65 characters: the first line of the text, cut at a word. */
export function headline(text: string, max = 65): string {
  const first = (text.split('\n')[0] ?? '').trim();
  if (first.length <= max) return first;
  const cut = first.slice(0, max - 1);
  const space = cut.lastIndexOf(' ');
  return `${space > max / 2 ? cut.slice(0, space) : cut}…`;
}
