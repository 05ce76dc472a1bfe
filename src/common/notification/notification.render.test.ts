import { describe, expect, it } from 'vitest';
import { chooseLocale, headline, messageKey, recipientKey, render } from './notification.render.js';

describe('notification rendering', () => {
  it('fills known placeholders, leaves unknown ones visible and inserts values literally', () => {
    expect(render('Complaint {id} about {complaint_type} on {date}', { id: 'PG-1', complaint_type: 'Streetlight', date: '01/01/2026' })).toBe(
      'Complaint PG-1 about Streetlight on 01/01/2026',
    );
    expect(render('Rate at {download_link} ({missing})', { download_link: 'http://x/eus/a' })).toBe('Rate at http://x/eus/a ({missing})');
    expect(render('{a} {b}', { a: '{b}', b: 'B' })).toBe('{b} B');
    expect(render('{toString}', {})).toBe('{toString}');
  });

  it('picks the recipient locale, else the user locale, else en_IN', () => {
    expect(chooseLocale('hi_IN', 'pa_IN')).toBe('hi_IN');
    expect(chooseLocale(undefined, 'pa_IN')).toBe('pa_IN');
    expect(chooseLocale(null, null)).toBe('en_IN');
    expect(chooseLocale('garbage', undefined)).toBe('en_IN');
  });

  it('keys a message by idempotency key, channel and recipient', () => {
    const user = { userUuid: 'u-1', mobileNumber: '9999999999' };
    expect(recipientKey(user)).toBe('user:u-1');
    expect(recipientKey({ mobileNumber: '9999999999' })).toBe('mobile:9999999999');
    expect(messageKey('k', 'SMS', user)).toBe(messageKey('k', 'SMS', { userUuid: 'u-1', locale: 'hi_IN' }));
    expect(messageKey('k', 'SMS', user)).not.toBe(messageKey('k', 'EMAIL', user));
    expect(messageKey('k', 'SMS', user)).not.toBe(messageKey('k2', 'SMS', user));
    expect(() => recipientKey({})).toThrow();
  });

  it('cuts headlines at a word within 65 characters', () => {
    expect(headline('Short\nsecond line')).toBe('Short');
    const long = headline('word '.repeat(30));
    expect(long.length).toBeLessThanOrEqual(65);
    expect(long.endsWith('…')).toBe(true);
  });
});
