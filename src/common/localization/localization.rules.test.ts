import { describe, expect, it } from 'vitest';
import { checkMessage, mergeMessages, splitList, type LineageRow } from './localization.rules.js';

const row = (tenantId: string, locale: string, code: string, message: string, module = 'rainmaker-common'): LineageRow => ({
  tenantId,
  locale,
  module,
  code,
  message,
});
const lineage = ['pb.amritsar', 'pb', 'default'];
const text = (list: ReturnType<typeof mergeMessages>, code: string, module = 'rainmaker-common') =>
  list.find((m) => m.code === code && m.module === module);

describe('mergeMessages', () => {
  const rows = [
    row('default', 'hi_IN', 'A', 'default A'),
    row('pb', 'hi_IN', 'A', 'state A'),
    row('pb.amritsar', 'hi_IN', 'A', 'city A'),
    row('default', 'hi_IN', 'B', 'default B'),
    row('pb', 'hi_IN', 'B', 'state B'),
    row('default', 'hi_IN', 'C', 'default C'),
    row('pb.jalandhar', 'hi_IN', 'C', 'another city C'),
  ];

  it('lets the city override the state, and the state override default, per code', () => {
    const merged = mergeMessages(rows, lineage, 'hi_IN');
    expect(merged.map((m) => [m.code, m.message])).toEqual([
      ['A', 'city A'],
      ['B', 'state B'],
      ['C', 'default C'],
    ]);
  });

  it('ignores tenants outside the lineage (a sibling city)', () => {
    expect(text(mergeMessages(rows, ['pb', 'default'], 'hi_IN'), 'C')?.message).toBe('default C');
    expect(text(mergeMessages(rows, ['pb', 'default'], 'hi_IN'), 'A')?.message).toBe('state A');
  });

  it('fills codes missing in the locale from en_IN, most specific en_IN first, keeping their locale', () => {
    const merged = mergeMessages(
      [
        row('pb', 'hi_IN', 'A', 'हिंदी A'),
        row('default', 'en_IN', 'A', 'English A'),
        row('default', 'en_IN', 'D', 'default D'),
        row('pb', 'en_IN', 'D', 'state D'),
      ],
      lineage,
      'hi_IN',
    );
    expect(merged).toEqual([
      { code: 'A', message: 'हिंदी A', module: 'rainmaker-common', locale: 'hi_IN' },
      { code: 'D', message: 'state D', module: 'rainmaker-common', locale: 'en_IN' },
    ]);
  });

  it('keeps a code per module: the same code in two modules is two messages', () => {
    const merged = mergeMessages(
      [row('pb', 'en_IN', 'X', 'common X'), row('pb', 'en_IN', 'X', 'pgr X', 'rainmaker-pgr')],
      lineage,
      'en_IN',
    );
    expect(merged.map((m) => m.message)).toEqual(['common X', 'pgr X']);
  });

  it('sorts by code, then module, and answers nothing for an empty lineage', () => {
    const merged = mergeMessages(
      [row('pb', 'en_IN', 'b', '1'), row('pb', 'en_IN', 'a', '2', 'z'), row('pb', 'en_IN', 'a', '3', 'y')],
      lineage,
      'en_IN',
    );
    expect(merged.map((m) => `${m.code}/${m.module}`)).toEqual(['a/y', 'a/z', 'b/rainmaker-common']);
    expect(mergeMessages(rows, [], 'hi_IN')).toEqual([]);
  });
});

describe('checkMessage', () => {
  const good = { code: 'CS_X', message: 'Line one\nline two\t✓', module: 'rainmaker-pgr', locale: 'hi_IN' };

  it('accepts a well-formed message, line breaks and tabs included', () => {
    expect(checkMessage(good, 'm')).toEqual([]);
  });

  it.each([
    ['a locale without a country', { locale: 'en' }, 'INVALID_LOCALE', 'm.locale'],
    ['a lower-case country', { locale: 'en_in' }, 'INVALID_LOCALE', 'm.locale'],
    ['a blank code', { code: '   ' }, 'INVALID_CODE', 'm.code'],
    ['a code over 255 characters', { code: 'C'.repeat(256) }, 'INVALID_CODE', 'm.code'],
    ['a NUL in the module', { module: 'a\u0000b' }, 'INVALID_MODULE', 'm.module'],
    ['an empty message', { message: '' }, 'INVALID_MESSAGE', 'm.message'],
    ['a message over 5000 characters', { message: 'x'.repeat(5001) }, 'INVALID_MESSAGE', 'm.message'],
    ['a control character in the message', { message: 'bell\u0007' }, 'INVALID_MESSAGE', 'm.message'],
    ['a lone surrogate in the message', { message: 'broken \ud800 text' }, 'INVALID_MESSAGE', 'm.message'],
    ['a number as code', { code: 42 }, 'INVALID_CODE', 'm.code'],
  ])('refuses %s', (_what, change, code, field) => {
    const errors = checkMessage({ ...good, ...change }, 'm');
    expect(errors).toEqual([expect.objectContaining({ code, params: [field] })]);
  });
});

describe('splitList', () => {
  it('splits commas in one or many parameters, trims, drops blanks and repeats', () => {
    expect(splitList('rainmaker-pgr, rainmaker-common')).toEqual(['rainmaker-pgr', 'rainmaker-common']);
    expect(splitList(['a,b', 'b', ' ', 'c'])).toEqual(['a', 'b', 'c']);
    expect(splitList(undefined)).toEqual([]);
    expect(splitList(null)).toEqual([]);
  });
});
