import { describe, expect, it } from 'vitest';
import type { CloudEvent } from '../../kernel/events.js';
import {
  childClientReferenceId,
  doseClientReferenceId,
  doseWindow,
  localMidnight,
  parseDigitDate,
  readBirth,
} from './immunization.schedule.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

function received(inner: Record<string, unknown>, data: Record<string, unknown> = {}): CloudEvent {
  return {
    specversion: '1.0',
    id: 'e-1',
    source: '/plinth/exchange',
    type: 'plinth.exchange.received.v1',
    subject: 's-1',
    time: new Date(0).toISOString(),
    datacontenttype: 'application/json',
    tenantid: 'pb.amritsar',
    data: { messageId: 'm-1', sender: 'pb.civil-registry', subscriptionId: 'sub-1', receivedTime: 1, event: inner, ...data },
  };
}
const person = (fields: Record<string, unknown> = {}) => ({
  tenantId: 'pb.amritsar',
  dateOfBirth: '15/10/2025',
  identifiers: [{ identifierType: 'BIRTH_REGISTRATION', identifierId: 'BR-1' }],
  ...fields,
});
const created = (data: unknown) => ({ type: 'plinth.individual.created.v1', tenantid: 'pb.amritsar', data });

describe('dates', () => {
  it('reads only real dd/MM/yyyy days', () => {
    expect(parseDigitDate('15/10/2025')).toEqual({ year: 2025, month: 10, day: 15 });
    expect(parseDigitDate('29/02/2024')).toEqual({ year: 2024, month: 2, day: 29 });
    expect(parseDigitDate('29/02/2025')).toBeUndefined();
    expect(parseDigitDate('2025-10-15')).toBeUndefined();
    expect(parseDigitDate('1/1/2025')).toBeUndefined();
  });

  it("puts a dose's window at local midnights of the tenant's time zone", () => {
    const dob = { year: 2025, month: 10, day: 15 };
    // India is UTC+05:30 all year.
    expect(localMidnight(dob, 0, 'Asia/Kolkata')).toBe(Date.UTC(2025, 9, 15) - 5.5 * HOUR);
    expect(doseWindow(dob, { ageDays: 42, windowDays: 28 }, 'Asia/Kolkata')).toEqual({
      plannedStartDate: Date.UTC(2025, 9, 15) - 5.5 * HOUR + 42 * DAY,
      plannedEndDate: Date.UTC(2025, 9, 15) - 5.5 * HOUR + 70 * DAY,
    });
    // Across a daylight-saving change the local midnight moves with it (New York leaves DST on 2 Nov 2025).
    expect(localMidnight(dob, 0, 'America/New_York')).toBe(Date.UTC(2025, 9, 15, 4));
    expect(localMidnight(dob, 42, 'America/New_York')).toBe(Date.UTC(2025, 10, 26, 5));
    expect(localMidnight({ year: 2024, month: 12, day: 31 }, 1, 'UTC')).toBe(Date.UTC(2025, 0, 1));
  });
});

describe('reading a received event', () => {
  it('finds a birth: a created person with a birth registration and a date of birth', () => {
    const reading = readBirth(received(created(person())), 'BIRTH_REGISTRATION');
    expect(reading).toMatchObject({
      kind: 'birth',
      birth: {
        sender: 'pb.civil-registry',
        messageId: 'm-1',
        tenantId: 'pb.amritsar',
        registrationNumber: 'BR-1',
        dateOfBirth: { year: 2025, month: 10, day: 15 },
      },
    });
  });

  it('ignores what is not a birth, saying why', () => {
    const reason = (event: CloudEvent) => {
      const r = readBirth(event, 'BIRTH_REGISTRATION');
      return r.kind === 'ignored' ? r.reason : 'birth';
    };
    expect(reason(received({ type: 'plinth.individual.updated.v1', data: person() }))).toMatch(/not a registration/);
    expect(reason(received(created(person({ identifiers: [{ identifierType: 'AADHAAR', identifierId: '1234' }] }))))).toMatch(
      /not a birth/,
    );
    expect(
      reason(received(created(person({ identifiers: [{ identifierType: 'BIRTH_REGISTRATION', identifierId: 'BR-1', isDeleted: true }] })))),
    ).toMatch(/not a birth/);
    expect(reason(received(created(person({ dateOfBirth: null }))))).toMatch(/no dateOfBirth/);
    expect(reason(received(created(person({ dateOfBirth: '31/02/2025' }))))).toMatch(/not dd\/MM\/yyyy/);
    expect(reason(received(created(null)))).toMatch(/no person/);
    expect(reason(received(created(person()), { sender: undefined }))).toMatch(/no sender/);
    expect(reason({ ...received(created(person())), data: 'text' })).toMatch(/no data/);
    // One tenant: the hand-over's. A person or inner event elsewhere is not acted on.
    expect(reason(received(created(person({ tenantId: 'pb.jalandhar' }))))).toMatch(/not the event's tenant/);
    expect(reason(received({ ...created(person()), tenantid: 'pb.jalandhar' }))).toMatch(/not the event's tenant/);
    expect(reason(received({ ...created(person({ tenantId: 'mh.pune' })), tenantid: 'mh.pune' }))).toMatch(/not the event's tenant/);
  });
});

describe('client reference ids', () => {
  it('are stable per birth, differ per sender, tenant and number, and fit DIGIT (2–64)', () => {
    const a = childClientReferenceId('pb.civil-registry', 'pb.amritsar', 'BR-1');
    expect(childClientReferenceId('pb.civil-registry', 'pb.amritsar', 'BR-1')).toBe(a);
    expect(childClientReferenceId('pb.other', 'pb.amritsar', 'BR-1')).not.toBe(a);
    expect(childClientReferenceId('pb.civil-registry', 'pb.jalandhar', 'BR-1')).not.toBe(a);
    expect(childClientReferenceId('pb.civil-registry', 'pb.amritsar', 'BR-2')).not.toBe(a);
    expect(doseClientReferenceId(a, 'OPV-3'.padEnd(24, 'X')).length).toBeLessThanOrEqual(64);
  });
});
