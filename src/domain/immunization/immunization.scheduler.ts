import type { FastifyBaseLogger } from 'fastify';
import type { CloudEvent } from '../../kernel/events.js';
import { stateTenantOf } from '../../kernel/tenancy.js';
import { SYSTEM_SCOPE } from '../../kernel/scope.js';
import type { MdmsApi } from '../../common/mdms/index.js';
import type { IndividualApi } from '../individual/index.js';
import type { Task, TaskApi } from '../task/index.js';
import {
  childClientReferenceId,
  doseClientReferenceId,
  doseWindow,
  readBirth,
  type BirthNotice,
  type Dose,
  type ScheduleConfig,
} from './immunization.schedule.js';

export type SchedulerDeps = {
  mdms: MdmsApi;
  individual: IndividualApi;
  task: TaskApi;
  timeZone: string;
  logger: FastifyBaseLogger;
};

/** What one received event led to. */
export type ScheduleOutcome =
  | { kind: 'ignored'; reason: string }
  | { kind: 'scheduled'; tenantId: string; childClientReferenceId: string; individualId: string; tasks: Task[] };

const MODULE = 'Immunization';
const DEFAULT_IDENTIFIER = 'BIRTH_REGISTRATION';
const GENDERS = new Set(['MALE', 'FEMALE', 'OTHER', 'TRANSGENDER']);
const ADDRESS_TYPES = new Set(['PERMANENT', 'CORRESPONDENCE', 'OTHER']);
/** What a child is called when the subscription shares no name: DIGIT needs one. */
const UNNAMED = 'Newborn';

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const pad = (n: number, width: number) => String(n).padStart(width, '0');

/** A failure to retry (the dispatcher backs off and finally dead-letters it for an operator to replay). */
class SchedulingError extends Error {
  override readonly name = 'SchedulingError';
}

export function createScheduler({ mdms, individual, task, timeZone, logger }: SchedulerDeps) {
  async function masters(tenantId: string): Promise<{ config: ScheduleConfig | undefined; doses: Dose[] }> {
    const res = await mdms.service.searchV1(
      {
        tenantId: stateTenantOf(tenantId),
        moduleDetails: [{ moduleName: MODULE, masterDetails: [{ name: 'Schedule' }, { name: 'Config' }] }],
      },
      SYSTEM_SCOPE,
    );
    const configs = ((res[MODULE]?.['Config'] ?? []) as unknown[]).filter(
      (c): c is ScheduleConfig =>
        isRecord(c) &&
        typeof c['projectId'] === 'string' &&
        // Without the list of accepted senders a record says nothing about whose births to trust: not usable.
        Array.isArray(c['acceptedSenders']) &&
        c['acceptedSenders'].every((s) => typeof s === 'string') &&
        c['active'] !== false,
    );
    const doses = ((res[MODULE]?.['Schedule'] ?? []) as unknown[]).filter(
      (d): d is Dose =>
        isRecord(d) &&
        typeof d['code'] === 'string' &&
        typeof d['vaccine'] === 'string' &&
        Number.isInteger(d['ageDays']) &&
        Number.isInteger(d['windowDays']) &&
        d['active'] !== false,
    );
    return { config: configs[0], doses };
  }

  /** The child as this agency registers it: what the birth shares, plus where it came from. */
  function childRecord(birth: BirthNotice, childRef: string, identifierType: string, withAddress: boolean) {
    const p = birth.person;
    const name = isRecord(p['name']) ? p['name'] : {};
    const part = (value: unknown) => (typeof value === 'string' && value.trim().length >= 2 ? value.trim().slice(0, 200) : null);
    const givenName = part(name['givenName']);
    const familyName = part(name['familyName']);
    const { year, month, day } = birth.dateOfBirth;
    const addresses = (Array.isArray(p['address']) ? p['address'] : [])
      .filter(isRecord)
      .map((a) => ({
        type: typeof a['type'] === 'string' && ADDRESS_TYPES.has(a['type']) ? a['type'] : 'PERMANENT',
        city: typeof a['city'] === 'string' ? a['city'].slice(0, 256) : null,
        pincode: typeof a['pincode'] === 'string' ? a['pincode'].slice(0, 64) : null,
        locality:
          isRecord(a['locality']) && typeof a['locality']['code'] === 'string' ? { code: a['locality']['code'].slice(0, 64) } : null,
      }))
      .filter((a, i, all) => all.findIndex((b) => b.type === a.type) === i)
      .slice(0, 3);
    const source = [
      { key: 'sender', value: birth.sender },
      ...(typeof p['individualId'] === 'string' && p['individualId'] !== ''
        ? [{ key: 'sourceIndividualId', value: p['individualId'] }]
        : []),
      ...(birth.messageId ? [{ key: 'messageId', value: birth.messageId }] : []),
    ].map((f) => ({ key: f.key, value: f.value.slice(0, 10_000) }));
    return {
      tenantId: birth.tenantId,
      clientReferenceId: childRef,
      name: givenName || familyName ? { givenName, familyName } : { givenName: UNNAMED },
      dateOfBirth: `${pad(day, 2)}/${pad(month, 2)}/${pad(year, 4)}`,
      gender: typeof p['gender'] === 'string' && GENDERS.has(p['gender']) ? p['gender'] : null,
      identifiers: [{ identifierType, identifierId: birth.registrationNumber.slice(0, 64) }],
      address: withAddress ? addresses : [],
      additionalFields: { schema: 'ReceivedBirth', version: 1, fields: source },
    };
  }

  /** Registers the child (or finds it, on a redelivery); a locality unknown here is dropped rather than refusing the child. */
  async function registerChild(birth: BirthNotice, childRef: string, identifierType: string): Promise<string> {
    const correlationId = birth.messageId;
    let result = await individual.createAsSystem([childRecord(birth, childRef, identifierType, true)], correlationId);
    if (result.errors[0]?.errorCode === 'INVALID_BOUNDARY') {
      logger.info(
        { childClientReferenceId: childRef, reason: result.errors[0].errorMessage },
        'immunization: child registered without its address',
      );
      result = await individual.createAsSystem([childRecord(birth, childRef, identifierType, false)], correlationId);
    }
    const [error] = result.errors;
    const child = result.accepted[0]?.record;
    if (error || !child) {
      throw new SchedulingError(
        `the child of birth ${childRef} could not be registered: ${error?.errorCode ?? 'NO_ANSWER'} ${error?.errorMessage ?? ''}`,
      );
    }
    return child.id;
  }

  return {
    /** Acts on one received event; idempotent: every write is keyed by the birth, so a redelivery or a second message changes nothing. */
    async onReceived(event: CloudEvent): Promise<ScheduleOutcome> {
      // The handed-over event carries the original event's tenant (docs/exchange.md): its state's masters apply.
      const configState = stateTenantOf(event.tenantid);
      const { config, doses } = await masters(event.tenantid);
      const identifierType = config?.identifierType ?? DEFAULT_IDENTIFIER;
      const reading = readBirth(event, identifierType);
      if (reading.kind === 'ignored') return ignore(event, reading.reason);
      const { birth } = reading;
      // Misconfiguration is not the event's fault: fail, so it is retried and finally dead-lettered for an operator to replay.
      if (!config) throw new SchedulingError(`no active ${MODULE}.Config for tenant ${stateTenantOf(birth.tenantId)}`);
      // Trusting an agency's signature is not trusting it to announce births: only the listed senders may.
      if (!config.acceptedSenders.includes(birth.sender)) {
        return ignore(event, `births from "${birth.sender}" are not accepted (${MODULE}.Config acceptedSenders of ${configState})`);
      }
      if (stateTenantOf(birth.tenantId) !== configState) {
        return ignore(event, `tenant "${birth.tenantId}" is not under state "${configState}" whose config was read`);
      }
      if (doses.length === 0) throw new SchedulingError(`${MODULE}.Schedule of tenant ${stateTenantOf(birth.tenantId)} has no active dose`);

      const childRef = childClientReferenceId(birth.sender, birth.tenantId, birth.registrationNumber);
      const individualId = await registerChild(birth, childRef, identifierType);
      const records = doses.map((dose) => ({
        tenantId: birth.tenantId,
        clientReferenceId: doseClientReferenceId(childRef, dose.code),
        projectId: config.projectId,
        projectBeneficiaryClientReferenceId: childRef,
        resources: [{ productVariantId: dose.vaccine, quantity: 1, isDelivered: false }],
        ...doseWindow(birth.dateOfBirth, dose, timeZone),
        status: 'NOT_ADMINISTERED',
        additionalFields: {
          schema: 'Immunization',
          version: 1,
          fields: [
            { key: 'doseCode', value: dose.code },
            { key: 'individualId', value: individualId },
          ],
        },
      }));
      const result = await task.create(records, { uuid: null });
      if (result.errors.length > 0) {
        const first = result.errors[0]!;
        throw new SchedulingError(
          `${result.errors.length} vaccination task(s) of ${childRef} refused: ${first.errorCode} ${first.errorMessage}`,
        );
      }
      logger.info(
        {
          eventId: event.id,
          sender: birth.sender,
          messageId: birth.messageId,
          childClientReferenceId: childRef,
          tasks: result.accepted.length,
        },
        'immunization: vaccination schedule in place for a received birth',
      );
      return { kind: 'scheduled', tenantId: birth.tenantId, childClientReferenceId: childRef, individualId, tasks: result.accepted };
    },
  };

  function ignore(event: CloudEvent, reason: string): ScheduleOutcome {
    logger.info({ eventId: event.id, tenantId: event.tenantid, reason }, 'immunization: received event ignored');
    return { kind: 'ignored', reason };
  }
}

export type Scheduler = ReturnType<typeof createScheduler>;
