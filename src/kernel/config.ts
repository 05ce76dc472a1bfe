import { BlockList, isIP } from 'node:net';
import path from 'node:path';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
export type ProcessRole = 'api' | 'worker' | 'all';

/** S3-compatible storage of the file store's bytes (PLINTH_FILESTORE_S3_*). */
export type FilestoreS3Config = {
  /** Endpoint of an S3-compatible server (`http://minio:9000`); undefined: AWS's endpoint of `region`. */
  readonly endpoint: string | undefined;
  readonly bucket: string;
  readonly region: string;
  /** Both keys, or undefined for the AWS SDK's default chain (environment, profile, instance role). */
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string } | undefined;
  /** `endpoint/bucket/key` rather than `bucket.endpoint/key` (MinIO and most self-hosted servers). */
  readonly forcePathStyle: boolean;
};

export type Config = {
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  /** `postgres://…` for PostgreSQL; undefined means SQLite in `dataDir`. */
  readonly databaseUrl: string | undefined;
  readonly eventBusUrl: string | undefined;
  /**
   * The JetStream stream (PLINTH_EVENT_STREAM, default PLINTH_EVENTS) and its subject prefix
   * (`plinth.events`, or `plinth.<stream in lower case>` for another stream): two deployments
   * sharing one NATS server each need their own.
   */
  readonly eventStream: string;
  readonly adminPassword: string | undefined;
  readonly seedDir: string;
  /** The built web apps (`npm run build:web` writes `web/dist`); served at `/citizen/` and `/employee/` when present. */
  readonly webDir: string;
  readonly internalPort: number | undefined;
  /** An IP literal in a loopback or private range: the internal listener trusts the userInfo it is sent. */
  readonly internalHost: string;
  /** Required with `internalPort`: internal callers must send it in `x-plinth-internal-secret`. */
  readonly internalSecret: string | undefined;
  readonly logLevel: LogLevel;
  readonly role: ProcessRole;
  /** Largest accepted request body, in bytes. */
  readonly bodyLimit: number;
  /** Login attempts per client address per minute. */
  readonly loginRateLimit: number;
  /** OTP sends and checks per client address per minute. */
  readonly otpRateLimit: number;
  /** Requests without a token per client address per minute, on each route that allows them (MDMS, boundary search). */
  readonly anonymousRateLimit: number;
  /**
   * Reverse proxies whose X-Forwarded-For is believed (PLINTH_TRUST_PROXY: addresses or CIDRs,
   * comma-separated; empty: none). Behind them the client address, and so every per-client rate
   * limit, is the address the proxy saw; from any other peer the header is ignored.
   */
  readonly trustProxy: readonly string[];
  /** Failed logins within `lockoutWindowMinutes` that lock an account. */
  readonly lockoutMaxFailures: number;
  readonly lockoutWindowMinutes: number;
  /** How long a locked account stays locked. */
  readonly lockoutCoolDownMinutes: number;
  /** Lifetime of an access token; refresh tokens live 14 days. */
  readonly accessTokenMinutes: number;
  /** IANA time zone of the government's calendar (dates inside ids, financial years). */
  readonly timeZone: string;
  /**
   * The master key that wraps every tenant's data keys (PLINTH_MASTER_KEY, base64 of 32 bytes),
   * or the file holding it (PLINTH_MASTER_KEY_FILE). Both unset: `<dataDir>/master.key`, created
   * on first start (development; an operator keeps it outside the data directory).
   */
  readonly masterKey: string | undefined;
  readonly masterKeyFile: string | undefined;
  /**
   * This deployment's name among agencies exchanging data (PLINTH_AGENCY_ID, e.g.
   * `pb.civil-registry`): the issuer of what it signs and the audience it accepts.
   */
  readonly agencyId: string;
  /**
   * Days the exchange keeps the payloads of messages it sent and received (PLINTH_EXCHANGE_PAYLOAD_RETENTION_DAYS,
   * default 30); after that only the evidence stays (digests, signatures, receipts).
   */
  readonly exchangePayloadRetentionDays: number;
  /**
   * Where citizens reach this deployment (PLINTH_PUBLIC_URL, default `http://localhost:8080`):
   * the base of the links it hands out, such as short URLs in SMS.
   */
  readonly publicUrl: string;
  /**
   * Besides PLINTH_PUBLIC_URL, the only places `/eus/shortener` makes links to
   * (PLINTH_SHORTENER_ALLOWED_URLS, comma-separated http(s) URL prefixes; default none).
   */
  readonly shortenerAllowedUrls: readonly string[];
  /** Largest file the file store accepts (PLINTH_FILESTORE_MAX_BYTES, default 5 MiB). */
  readonly filestoreMaxBytes: number;
  /** Lifetime of a signed download link (PLINTH_FILESTORE_LINK_MINUTES, default 15). */
  readonly filestoreLinkMinutes: number;
  /** Age after which a file no record claimed is deleted (PLINTH_FILESTORE_ORPHAN_HOURS, default 24). */
  readonly filestoreOrphanHours: number;
  /** Where the file store keeps bytes: S3 when PLINTH_FILESTORE_S3_BUCKET is set, else `<dataDir>/files`. */
  readonly filestoreS3: FilestoreS3Config | undefined;
  /** SMS gateway of notifications (PLINTH_SMS_PROVIDER): `log` (development, default) or `http`. */
  readonly smsProvider: 'log' | 'http';
  /** Where the `http` SMS provider POSTs `{ mobileNumber, message, tenantId }` (PLINTH_SMS_URL). */
  readonly smsUrl: string | undefined;
  /** SMTP server of e-mail notifications (PLINTH_SMTP_URL, `smtp://user:pass@host:port`); unset: no e-mail. */
  readonly smtpUrl: string | undefined;
  /** Sender address of e-mail notifications (PLINTH_MAIL_FROM). */
  readonly mailFrom: string | undefined;
};

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
  }
}

const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const ROLES: readonly ProcessRole[] = ['api', 'worker', 'all'];

type Env = Readonly<Record<string, string | undefined>>;

function nonEmpty(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

function port(env: Env, name: string, fallback: number | undefined): number | undefined {
  const raw = nonEmpty(env, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > 65535) {
    throw new ConfigError(name, `must be a port number between 0 and 65535, got "${raw}"`);
  }
  return value;
}

function positiveInt(env: Env, name: string, fallback: number): number {
  const raw = nonEmpty(env, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new ConfigError(name, `must be a positive integer, got "${raw}"`);
  return value;
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = nonEmpty(env, name);
  if (raw === undefined) return fallback;
  const found = allowed.find((candidate) => candidate === raw);
  if (found === undefined) throw new ConfigError(name, `must be one of ${allowed.join(', ')}, got "${raw}"`);
  return found;
}

function url(env: Env, name: string, protocols: readonly string[]): string | undefined {
  const raw = nonEmpty(env, name);
  if (raw === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(name, `is not a valid URL`);
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(name, `must start with ${protocols.map((p) => `${p}//`).join(' or ')}`);
  }
  return raw;
}

function timeZone(env: Env, name: string, fallback: string): string {
  const raw = nonEmpty(env, name) ?? fallback;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: raw });
  } catch {
    throw new ConfigError(name, `must be an IANA time zone such as Asia/Kolkata or Africa/Nairobi, got "${raw}"`);
  }
  return raw;
}

/** Loopback, RFC 1918 and unique-local ranges: the only places the internal listener may bind. */
const PRIVATE_RANGES = new BlockList();
PRIVATE_RANGES.addSubnet('127.0.0.0', 8, 'ipv4');
PRIVATE_RANGES.addSubnet('10.0.0.0', 8, 'ipv4');
PRIVATE_RANGES.addSubnet('172.16.0.0', 12, 'ipv4');
PRIVATE_RANGES.addSubnet('192.168.0.0', 16, 'ipv4');
PRIVATE_RANGES.addAddress('::1', 'ipv6');
PRIVATE_RANGES.addSubnet('fc00::', 7, 'ipv6');

/**
 * An IP literal inside a loopback or private range, checked by parsing the address (never by
 * its text: `10.example.org` or `127.0.0.1.nip.io` are names that resolve anywhere). Names,
 * `localhost` included, are refused: what they resolve to is not ours to decide.
 */
function privateHost(env: Env, name: string, fallback: string): string {
  const raw = nonEmpty(env, name) ?? fallback;
  const family = isIP(raw);
  if (family === 0) throw new ConfigError(name, `must be an IP address (not a name) in a loopback or private range, got "${raw}"`);
  if (!PRIVATE_RANGES.check(raw, family === 4 ? 'ipv4' : 'ipv6')) {
    throw new ConfigError(name, `must be a loopback or private address (the internal port trusts its callers), got "${raw}"`);
  }
  return raw;
}

/**
 * Comma-separated http(s) URL prefixes (`https://pb.gov.in/citizen`): no credentials, query or
 * fragment, since a prefix that carried them could never match as the operator meant.
 */
function urlPrefixes(env: Env, name: string): string[] {
  const raw = nonEmpty(env, name);
  if (raw === undefined) return [];
  return raw.split(',').map((entry) => {
    const text = entry.trim();
    let parsed: URL;
    try {
      parsed = new URL(text);
    } catch {
      throw new ConfigError(name, `must be comma-separated http(s) URLs, got "${text}"`);
    }
    if ((parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || parsed.hostname === '') {
      throw new ConfigError(name, `must be comma-separated http(s) URLs, got "${text}"`);
    }
    if (parsed.username || parsed.password || parsed.search || parsed.hash || text.includes('?') || text.includes('#')) {
      throw new ConfigError(name, `takes URL prefixes without credentials, query or fragment, got "${text}"`);
    }
    return `${parsed.origin}${parsed.pathname.replace(/\/+$/, '')}`;
  });
}

/** Addresses or CIDRs (`10.0.0.1`, `10.0.0.0/8`, `::1`, `fd00::/8`), comma-separated, as Fastify's trustProxy takes them. */
function proxyList(env: Env, name: string): string[] {
  const raw = nonEmpty(env, name);
  if (raw === undefined) return [];
  return raw.split(',').map((entry) => {
    const item = entry.trim();
    const [address = '', prefix, extra] = item.split('/');
    const family = isIP(address);
    const bits = family === 4 ? 32 : 128;
    const prefixOk = prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= bits);
    if (family === 0 || !prefixOk || extra !== undefined) {
      throw new ConfigError(name, `must be IP addresses or CIDRs separated by commas (e.g. 10.0.0.5,172.16.0.0/12), got "${item}"`);
    }
    return item;
  });
}

/** Base64 of exactly 32 bytes (AES-256). */
function masterKey(env: Env, name: string): string | undefined {
  const raw = nonEmpty(env, name);
  if (raw === undefined) return undefined;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(raw) || Buffer.from(raw, 'base64').length !== 32) {
    throw new ConfigError(name, 'must be 32 random bytes in base64 (for example: openssl rand -base64 32)');
  }
  return raw;
}

/** A JetStream stream name: letters, digits, `_` and `-` (no dots, spaces or wildcards). */
function streamName(env: Env, name: string, fallback: string): string {
  const raw = nonEmpty(env, name) ?? fallback;
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(raw)) throw new ConfigError(name, `must be 1-64 letters, digits, "_" or "-", got "${raw}"`);
  return raw;
}

/** Lower-case letters, digits, dots and dashes: it travels in signed headers and URLs. */
function agencyId(env: Env, name: string, fallback: string): string {
  const raw = nonEmpty(env, name) ?? fallback;
  if (!/^[a-z0-9][a-z0-9.-]{0,63}$/.test(raw)) {
    throw new ConfigError(name, `must be 1-64 lower-case letters, digits, dots or dashes, starting with a letter or digit, got "${raw}"`);
  }
  return raw;
}

function flag(env: Env, name: string, fallback: boolean): boolean {
  const raw = nonEmpty(env, name);
  if (raw === undefined) return fallback;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new ConfigError(name, `must be true or false, got "${raw}"`);
}

const S3_VARIABLES = ['PLINTH_FILESTORE_S3_URL', 'PLINTH_FILESTORE_S3_REGION', 'PLINTH_FILESTORE_S3_ACCESS_KEY_ID', 'PLINTH_FILESTORE_S3_SECRET_ACCESS_KEY', 'PLINTH_FILESTORE_S3_FORCE_PATH_STYLE'];

/** S3 storage when a bucket is named; any other S3 variable without one is a mistake, not a silent fallback to disk. */
function filestoreS3(env: Env): FilestoreS3Config | undefined {
  const bucket = nonEmpty(env, 'PLINTH_FILESTORE_S3_BUCKET');
  if (bucket === undefined) {
    const stray = S3_VARIABLES.find((name) => nonEmpty(env, name) !== undefined);
    if (stray !== undefined) throw new ConfigError('PLINTH_FILESTORE_S3_BUCKET', `must be set when ${stray} is (files go to S3 only when a bucket is named)`);
    return undefined;
  }
  // S3's bucket naming rules, which MinIO and the others follow too.
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket) || bucket.includes('..')) {
    throw new ConfigError('PLINTH_FILESTORE_S3_BUCKET', `must be an S3 bucket name (3-63 lower-case letters, digits, dots or dashes), got "${bucket}"`);
  }
  const endpoint = url(env, 'PLINTH_FILESTORE_S3_URL', ['http:', 'https:']);
  // The SDK would ignore credentials in the URL; they belong in the key variables.
  if (endpoint !== undefined && new URL(endpoint).username !== '') {
    throw new ConfigError('PLINTH_FILESTORE_S3_URL', 'must not hold credentials: set PLINTH_FILESTORE_S3_ACCESS_KEY_ID and PLINTH_FILESTORE_S3_SECRET_ACCESS_KEY');
  }
  const region = nonEmpty(env, 'PLINTH_FILESTORE_S3_REGION') ?? 'us-east-1';
  if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(region)) throw new ConfigError('PLINTH_FILESTORE_S3_REGION', `must be a region name such as ap-south-1, got "${region}"`);
  const accessKeyId = nonEmpty(env, 'PLINTH_FILESTORE_S3_ACCESS_KEY_ID');
  const secretAccessKey = nonEmpty(env, 'PLINTH_FILESTORE_S3_SECRET_ACCESS_KEY');
  if ((accessKeyId === undefined) !== (secretAccessKey === undefined)) {
    const missing = accessKeyId === undefined ? 'PLINTH_FILESTORE_S3_ACCESS_KEY_ID' : 'PLINTH_FILESTORE_S3_SECRET_ACCESS_KEY';
    throw new ConfigError(missing, 'must be set together with the other key (or both left unset for the AWS SDK default credentials)');
  }
  return {
    endpoint: endpoint?.replace(/\/+$/, ''),
    bucket,
    region,
    credentials: accessKeyId !== undefined && secretAccessKey !== undefined ? { accessKeyId, secretAccessKey } : undefined,
    // A custom endpoint is usually MinIO-like, which serves buckets as paths.
    forcePathStyle: flag(env, 'PLINTH_FILESTORE_S3_FORCE_PATH_STYLE', endpoint !== undefined),
  };
}

/** Reads the whole configuration once, failing fast with the name of the first bad variable. */
export function loadConfig(env: Env = process.env, overrides: Partial<Config> = {}): Config {
  const config: Config = {
    port: port(env, 'PORT', 8080) ?? 8080,
    host: nonEmpty(env, 'HOST') ?? '0.0.0.0',
    dataDir: path.resolve(nonEmpty(env, 'DATA_DIR') ?? './data'),
    databaseUrl: url(env, 'DATABASE_URL', ['postgres:', 'postgresql:']),
    eventBusUrl: url(env, 'EVENT_BUS_URL', ['nats:']),
    eventStream: streamName(env, 'PLINTH_EVENT_STREAM', 'PLINTH_EVENTS'),
    adminPassword: nonEmpty(env, 'PLINTH_ADMIN_PASSWORD'),
    seedDir: path.resolve(nonEmpty(env, 'PLINTH_SEED_DIR') ?? './seed'),
    webDir: path.resolve(nonEmpty(env, 'PLINTH_WEB_DIR') ?? './web/dist'),
    internalPort: port(env, 'INTERNAL_PORT', undefined),
    internalHost: privateHost(env, 'INTERNAL_HOST', '127.0.0.1'),
    internalSecret: nonEmpty(env, 'PLINTH_INTERNAL_SECRET'),
    logLevel: oneOf(env, 'LOG_LEVEL', LOG_LEVELS, 'info'),
    role: oneOf(env, 'PLINTH_ROLE', ROLES, 'all'),
    bodyLimit: positiveInt(env, 'PLINTH_BODY_LIMIT', 1024 * 1024),
    loginRateLimit: positiveInt(env, 'PLINTH_LOGIN_RATE_LIMIT', 30),
    otpRateLimit: positiveInt(env, 'PLINTH_OTP_RATE_LIMIT', 10),
    anonymousRateLimit: positiveInt(env, 'PLINTH_ANONYMOUS_RATE_LIMIT', 300),
    trustProxy: proxyList(env, 'PLINTH_TRUST_PROXY'),
    lockoutMaxFailures: positiveInt(env, 'PLINTH_LOCKOUT_MAX_FAILURES', 5),
    lockoutWindowMinutes: positiveInt(env, 'PLINTH_LOCKOUT_WINDOW_MINUTES', 30),
    lockoutCoolDownMinutes: positiveInt(env, 'PLINTH_LOCKOUT_COOLDOWN_MINUTES', 60),
    accessTokenMinutes: positiveInt(env, 'PLINTH_ACCESS_TOKEN_MINUTES', 480),
    timeZone: timeZone(env, 'PLINTH_TIME_ZONE', 'Asia/Kolkata'),
    masterKey: masterKey(env, 'PLINTH_MASTER_KEY'),
    agencyId: agencyId(env, 'PLINTH_AGENCY_ID', 'plinth'),
    exchangePayloadRetentionDays: positiveInt(env, 'PLINTH_EXCHANGE_PAYLOAD_RETENTION_DAYS', 30),
    // No trailing slash, so `${publicUrl}/eus/…` never doubles it.
    publicUrl: (url(env, 'PLINTH_PUBLIC_URL', ['http:', 'https:']) ?? 'http://localhost:8080').replace(/\/+$/, ''),
    shortenerAllowedUrls: urlPrefixes(env, 'PLINTH_SHORTENER_ALLOWED_URLS'),
    filestoreMaxBytes: positiveInt(env, 'PLINTH_FILESTORE_MAX_BYTES', 5 * 1024 * 1024),
    filestoreLinkMinutes: positiveInt(env, 'PLINTH_FILESTORE_LINK_MINUTES', 15),
    filestoreOrphanHours: positiveInt(env, 'PLINTH_FILESTORE_ORPHAN_HOURS', 24),
    filestoreS3: filestoreS3(env),
    smsProvider: oneOf(env, 'PLINTH_SMS_PROVIDER', ['log', 'http'] as const, 'log'),
    smsUrl: url(env, 'PLINTH_SMS_URL', ['http:', 'https:']),
    smtpUrl: url(env, 'PLINTH_SMTP_URL', ['smtp:', 'smtps:']),
    mailFrom: nonEmpty(env, 'PLINTH_MAIL_FROM'),
    masterKeyFile: ((file) => (file === undefined ? undefined : path.resolve(file)))(nonEmpty(env, 'PLINTH_MASTER_KEY_FILE')),
  };
  if (config.internalPort !== undefined && config.internalSecret === undefined) {
    throw new ConfigError('PLINTH_INTERNAL_SECRET', 'must be set when INTERNAL_PORT is: internal callers prove themselves with it');
  }
  if (config.smsProvider === 'http' && config.smsUrl === undefined) {
    throw new ConfigError('PLINTH_SMS_URL', 'must be set when PLINTH_SMS_PROVIDER is http');
  }
  return { ...config, ...overrides };
}
