import type { Database, Tx } from './db.js';
import type { CloudEvent, EventInput, EventSealer } from './events.types.js';

/** Where sealed event fields go inside `data`. */
export const SEALED_KEY = '$sealed';

const sealers = new WeakMap<Database, EventSealer>();

/** Installs the sealer of a database's outbox (the encryption module does, at create). */
export function registerEventSealer(database: Database, sealer: EventSealer): void {
  sealers.set(database, sealer);
}

export async function sealData(database: Database, input: EventInput, tx: Tx): Promise<unknown> {
  const fields = input.sealed ?? [];
  const data = input.data;
  if (fields.length === 0 || data === null || typeof data !== 'object' || Array.isArray(data)) return data;
  const sealer = sealers.get(database);
  if (!sealer) throw new Error(`event ${input.type} carries personal data but no event sealer is registered`);
  const open: Record<string, unknown> = {};
  const rest: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(data as Record<string, unknown>)) {
    if (fields.includes(key)) open[key] = value;
    else rest[key] = value;
  }
  return { ...rest, [SEALED_KEY]: await sealer.seal(input.tenantId, JSON.stringify(open), tx) };
}

/** The event as its producer appended it: sealed fields decrypted and put back (other events as they are). */
export async function openEvent(database: Database, event: CloudEvent): Promise<CloudEvent> {
  const data = event.data as Record<string, unknown> | null;
  if (data === null || typeof data !== 'object' || typeof data[SEALED_KEY] !== 'string') return event;
  const sealer = sealers.get(database);
  if (!sealer) throw new Error(`event ${event.id} holds sealed data but no event sealer is registered`);
  const { [SEALED_KEY]: sealed, ...rest } = data;
  const opened = JSON.parse(await sealer.open(event.tenantid, sealed as string)) as Record<string, unknown>;
  return { ...event, data: { ...rest, ...opened } };
}
