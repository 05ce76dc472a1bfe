import { createHash } from 'node:crypto';
import type { CloudEvent } from '../../kernel/events.js';

/** What the exchange hands over (docs/exchange.md, "Handing over"). */
export const RECEIVED_EVENT = 'plinth.exchange.received.v1';
/** The civil registry's event for a newly registered person. */
export const INDIVIDUAL_CREATED = 'plinth.individual.created.v1';

/** One dose of `Immunization.Schedule`. */
export type Dose = {
  code: string;
  vaccine: string;
  ageDays: number;
  windowDays: number;
  doseNumber?: number;
  active?: boolean;
  description?: string;
};

/** `Immunization.Config`: where the tasks go, what marks a birth, and which agencies' births count. */
export type ScheduleConfig = {
  program: string;
  projectId: string;
  identifierType: string;
  /** Agency ids (exchange senders) whose births are scheduled; a birth from any other trusted agency is ignored. */
  acceptedSenders: string[];
  active?: boolean;
};

export type CalendarDate = { year: number; month: number; day: number };

/** A birth announced by another agency, as far as scheduling needs it. */
export type BirthNotice = {
  sender: string;
  messageId: string | null;
  tenantId: string;
  registrationNumber: string;
  dateOfBirth: CalendarDate;
  /** The person's record as received (DIGIT Individual, projected by the subscription). */
  person: Record<string, unknown>;
};

export type Reading = { kind: 'birth'; birth: BirthNotice } | { kind: 'ignored'; reason: string };

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const text = (value: unknown): string | undefined => (typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined);

/** DIGIT's `dd/MM/yyyy`, a real calendar day; undefined otherwise. */
export function parseDigitDate(value: string): CalendarDate | undefined {
  const m = /^(\d{2})\/(\d{2})\/(\d{4})$/u.exec(value);
  if (!m) return undefined;
  const [day, month, year] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return undefined;
  return { year, month, day };
}

/**
 * Reads a `plinth.exchange.received.v1` event: a birth when it carries another agency's
 * `plinth.individual.created.v1` whose person has a birth-registration identifier and a date of
 * birth; the reason it is not one otherwise (the caller logs it and moves on).
 */
export function readBirth(event: CloudEvent, identifierType: string): Reading {
  const data = event.data;
  if (!isRecord(data)) return { kind: 'ignored', reason: 'the received event has no data' };
  const inner = data['event'];
  const sender = text(data['sender']);
  if (!isRecord(inner) || !sender) return { kind: 'ignored', reason: 'the received event names no sender or carries no event' };
  if (inner['type'] !== INDIVIDUAL_CREATED) return { kind: 'ignored', reason: `not a registration: ${String(inner['type'])}` };
  const person = inner['data'];
  if (!isRecord(person)) return { kind: 'ignored', reason: 'the registration carries no person' };
  const wanted = identifierType.trim().toUpperCase();
  const identifiers = Array.isArray(person['identifiers']) ? person['identifiers'] : [];
  const registration = identifiers.find(
    (i): i is Record<string, unknown> =>
      isRecord(i) &&
      typeof i['identifierType'] === 'string' &&
      i['identifierType'].trim().toUpperCase() === wanted &&
      i['isDeleted'] !== true,
  );
  const registrationNumber = text(registration?.['identifierId']);
  if (!registrationNumber) return { kind: 'ignored', reason: `not a birth: no ${wanted} identifier` };
  const dob = text(person['dateOfBirth']);
  if (!dob) return { kind: 'ignored', reason: 'the birth has no dateOfBirth' };
  const dateOfBirth = parseDigitDate(dob);
  if (!dateOfBirth) return { kind: 'ignored', reason: `dateOfBirth "${dob.slice(0, 32)}" is not dd/MM/yyyy` };
  // One tenant only: the handed-over event's, whose state's masters were read. A person or inner
  // event naming another tenant would have the child and tasks written where no config applies.
  const tenantId = text(event.tenantid);
  if (!tenantId) return { kind: 'ignored', reason: 'the birth names no tenant' };
  for (const [what, claimed] of [['person', person['tenantId']], ['event', inner['tenantid']]] as const) {
    if (claimed !== undefined && claimed !== null && claimed !== tenantId) {
      return { kind: 'ignored', reason: `the ${what}'s tenant "${String(claimed).slice(0, 64)}" is not the event's tenant "${tenantId}"` };
    }
  }
  return {
    kind: 'birth',
    birth: { sender, messageId: text(data['messageId']) ?? null, tenantId, registrationNumber, dateOfBirth, person },
  };
}

const digest = (...parts: string[]) => createHash('sha256').update(parts.join('\u0000')).digest('base64url').slice(0, 32);

/**
 * The child's clientReferenceId in this agency's registry: the same for every delivery of the same
 * birth (sender agency, tenant, registration number), so a redelivery finds the child it registered.
 */
export function childClientReferenceId(sender: string, tenantId: string, registrationNumber: string): string {
  return `BR-${digest(sender, tenantId, registrationNumber)}`;
}

/** A dose's task clientReferenceId: one per (child, dose), so no delivery can create a second one. */
export function doseClientReferenceId(childRef: string, doseCode: string): string {
  return `${childRef}.${doseCode}`;
}

/** Minutes east of UTC of `timeZone` at `time`. */
function offsetMinutes(time: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  }).formatToParts(new Date(time));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? '0');
  const local = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return Math.round((local - Math.floor(time / 1000) * 1000) / 60_000);
}

/** Epoch ms of 00:00 of a calendar day (plus `addDays`) in `timeZone`. */
export function localMidnight(date: CalendarDate, addDays: number, timeZone: string): number {
  const utc = Date.UTC(date.year, date.month - 1, date.day + addDays);
  // Twice: the offset at the guess may differ from the one at the answer across a DST change.
  let time = utc - offsetMinutes(utc, timeZone) * 60_000;
  time = utc - offsetMinutes(time, timeZone) * 60_000;
  return time;
}

/** When a dose is due: from 00:00 of (birth + ageDays) to 00:00 of (birth + ageDays + windowDays), local time. */
export function doseWindow(dateOfBirth: CalendarDate, dose: Pick<Dose, 'ageDays' | 'windowDays'>, timeZone: string) {
  return {
    plannedStartDate: localMidnight(dateOfBirth, dose.ageDays, timeZone),
    plannedEndDate: localMidnight(dateOfBirth, dose.ageDays + dose.windowDays, timeZone),
  };
}
