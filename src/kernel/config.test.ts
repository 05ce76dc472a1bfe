import path from 'node:path';
import { describe, it, expect } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

/** Runs `fn` and returns the ConfigError it throws; fails the test if it throws anything else or nothing. */
function configErrorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError, but nothing was thrown');
}

const KEY = Buffer.alloc(32, 7).toString('base64');

describe('loadConfig', () => {
  it('uses the defaults when nothing is set', () => {
    const config = loadConfig({});
    expect(config).toEqual({
      port: 8080,
      host: '0.0.0.0',
      dataDir: path.resolve('./data'),
      databaseUrl: undefined,
      eventBusUrl: undefined,
      adminPassword: undefined,
      seedDir: path.resolve('./seed'),
      webDir: path.resolve('./web/dist'),
      internalPort: undefined,
      internalHost: '127.0.0.1',
      internalSecret: undefined,
      logLevel: 'info',
      role: 'all',
      bodyLimit: 1024 * 1024,
      loginRateLimit: 30,
      otpRateLimit: 10,
      anonymousRateLimit: 300,
      trustProxy: [],
      lockoutMaxFailures: 5,
      lockoutWindowMinutes: 30,
      lockoutCoolDownMinutes: 60,
      accessTokenMinutes: 480,
      timeZone: 'Asia/Kolkata',
      masterKey: undefined,
      masterKeyFile: undefined,
      agencyId: 'plinth',
      exchangePayloadRetentionDays: 30,
      publicUrl: 'http://localhost:8080',
      shortenerAllowedUrls: [],
      eventStream: 'PLINTH_EVENTS',
      filestoreMaxBytes: 5 * 1024 * 1024,
      filestoreLinkMinutes: 15,
      filestoreOrphanHours: 24,
      filestoreS3: undefined,
      smsProvider: 'log',
      smsUrl: undefined,
      smtpUrl: undefined,
      mailFrom: undefined,
    });
  });

  it('reads the file store limits', () => {
    const config = loadConfig({ PLINTH_FILESTORE_MAX_BYTES: '1048576', PLINTH_FILESTORE_LINK_MINUTES: '5', PLINTH_FILESTORE_ORPHAN_HOURS: '48' });
    expect([config.filestoreMaxBytes, config.filestoreLinkMinutes, config.filestoreOrphanHours]).toEqual([1048576, 5, 48]);
  });

  it('reads every variable when set', () => {
    const config = loadConfig({
      PORT: '3000',
      HOST: '127.0.0.1',
      DATA_DIR: '/var/lib/plinth',
      DATABASE_URL: 'postgres://user:pw@db:5432/plinth',
      EVENT_BUS_URL: 'nats://bus:4222',
      PLINTH_ADMIN_PASSWORD: 's3cret',
      PLINTH_SEED_DIR: '/opt/seed',
      PLINTH_WEB_DIR: '/opt/web',
      INTERNAL_PORT: '9090',
      INTERNAL_HOST: '10.0.0.5',
      PLINTH_INTERNAL_SECRET: 'shared',
      LOG_LEVEL: 'debug',
      PLINTH_ROLE: 'worker',
      PLINTH_BODY_LIMIT: '2048',
      PLINTH_LOGIN_RATE_LIMIT: '1000',
      PLINTH_OTP_RATE_LIMIT: '5',
      PLINTH_ANONYMOUS_RATE_LIMIT: '60',
      PLINTH_TRUST_PROXY: '10.0.0.1,192.168.0.0/16',
      PLINTH_LOCKOUT_MAX_FAILURES: '3',
      PLINTH_LOCKOUT_WINDOW_MINUTES: '10',
      PLINTH_LOCKOUT_COOLDOWN_MINUTES: '15',
      PLINTH_ACCESS_TOKEN_MINUTES: '60',
      PLINTH_TIME_ZONE: 'Africa/Nairobi',
      PLINTH_MASTER_KEY: KEY,
      PLINTH_MASTER_KEY_FILE: '/run/secrets/plinth-master.key',
      PLINTH_AGENCY_ID: 'pb.health',
      PLINTH_EXCHANGE_PAYLOAD_RETENTION_DAYS: '90',
      PLINTH_EVENT_STREAM: 'HEALTH_EVENTS',
      PLINTH_PUBLIC_URL: 'https://services.pb.gov.in/',
      PLINTH_SHORTENER_ALLOWED_URLS: 'https://pb.gov.in/, https://forms.pb.gov.in:8443/apply/',
      PLINTH_FILESTORE_MAX_BYTES: '1048576',
      PLINTH_FILESTORE_LINK_MINUTES: '5',
      PLINTH_FILESTORE_ORPHAN_HOURS: '48',
      PLINTH_FILESTORE_S3_URL: 'https://minio.pb.gov.in:9000/',
      PLINTH_FILESTORE_S3_BUCKET: 'pb-files',
      PLINTH_FILESTORE_S3_REGION: 'ap-south-1',
      PLINTH_FILESTORE_S3_ACCESS_KEY_ID: 'plinth',
      PLINTH_FILESTORE_S3_SECRET_ACCESS_KEY: 'minio-secret',
      PLINTH_FILESTORE_S3_FORCE_PATH_STYLE: 'false',
      PLINTH_SMS_PROVIDER: 'http',
      PLINTH_SMS_URL: 'https://sms.example.org/send',
      PLINTH_SMTP_URL: 'smtp://mailer:pw@mail.example.org:587',
      PLINTH_MAIL_FROM: 'noreply@pb.gov.in',
    });
    expect(config).toEqual({
      port: 3000,
      host: '127.0.0.1',
      dataDir: path.resolve('/var/lib/plinth'),
      databaseUrl: 'postgres://user:pw@db:5432/plinth',
      eventBusUrl: 'nats://bus:4222',
      adminPassword: 's3cret',
      seedDir: path.resolve('/opt/seed'),
      webDir: path.resolve('/opt/web'),
      internalPort: 9090,
      internalHost: '10.0.0.5',
      internalSecret: 'shared',
      logLevel: 'debug',
      role: 'worker',
      bodyLimit: 2048,
      loginRateLimit: 1000,
      otpRateLimit: 5,
      anonymousRateLimit: 60,
      trustProxy: ['10.0.0.1', '192.168.0.0/16'],
      lockoutMaxFailures: 3,
      lockoutWindowMinutes: 10,
      lockoutCoolDownMinutes: 15,
      accessTokenMinutes: 60,
      timeZone: 'Africa/Nairobi',
      masterKey: KEY,
      masterKeyFile: '/run/secrets/plinth-master.key',
      agencyId: 'pb.health',
      exchangePayloadRetentionDays: 90,
      publicUrl: 'https://services.pb.gov.in',
      shortenerAllowedUrls: ['https://pb.gov.in', 'https://forms.pb.gov.in:8443/apply'],
      eventStream: 'HEALTH_EVENTS',
      filestoreMaxBytes: 1048576,
      filestoreLinkMinutes: 5,
      filestoreOrphanHours: 48,
      filestoreS3: {
        endpoint: 'https://minio.pb.gov.in:9000',
        bucket: 'pb-files',
        region: 'ap-south-1',
        credentials: { accessKeyId: 'plinth', secretAccessKey: 'minio-secret' },
        forcePathStyle: false,
      },
      smsProvider: 'http',
      smsUrl: 'https://sms.example.org/send',
      smtpUrl: 'smtp://mailer:pw@mail.example.org:587',
      mailFrom: 'noreply@pb.gov.in',
    });
  });

  it('stores files on disk unless a bucket is named; with one, S3 with defaults that suit AWS and MinIO', () => {
    expect(loadConfig({ PLINTH_FILESTORE_S3_BUCKET: 'pb-files' }).filestoreS3).toEqual({
      endpoint: undefined,
      bucket: 'pb-files',
      region: 'us-east-1',
      credentials: undefined,
      forcePathStyle: false,
    });
    // A custom endpoint is served path-style unless told otherwise.
    const minio = loadConfig({ PLINTH_FILESTORE_S3_BUCKET: 'pb-files', PLINTH_FILESTORE_S3_URL: 'http://127.0.0.1:9000' }).filestoreS3;
    expect([minio?.endpoint, minio?.forcePathStyle]).toEqual(['http://127.0.0.1:9000', true]);
    const aws = loadConfig({ PLINTH_FILESTORE_S3_BUCKET: 'pb-files', PLINTH_FILESTORE_S3_REGION: 'ap-south-1', PLINTH_FILESTORE_S3_FORCE_PATH_STYLE: '1' }).filestoreS3;
    expect([aws?.region, aws?.forcePathStyle]).toEqual(['ap-south-1', true]);
  });

  it('refuses S3 settings without a bucket, half a key pair, credentials in the URL and bad names, naming the variable', () => {
    const cases: Array<[Record<string, string>, string, RegExp]> = [
      [{ PLINTH_FILESTORE_S3_URL: 'http://127.0.0.1:9000' }, 'PLINTH_FILESTORE_S3_BUCKET', /must be set when PLINTH_FILESTORE_S3_URL/],
      [{ PLINTH_FILESTORE_S3_ACCESS_KEY_ID: 'k', PLINTH_FILESTORE_S3_SECRET_ACCESS_KEY: 's' }, 'PLINTH_FILESTORE_S3_BUCKET', /must be set when/],
      [{ PLINTH_FILESTORE_S3_BUCKET: 'Files_PB' }, 'PLINTH_FILESTORE_S3_BUCKET', /S3 bucket name/],
      [{ PLINTH_FILESTORE_S3_BUCKET: 'ab' }, 'PLINTH_FILESTORE_S3_BUCKET', /S3 bucket name/],
      [{ PLINTH_FILESTORE_S3_BUCKET: 'pb..files' }, 'PLINTH_FILESTORE_S3_BUCKET', /S3 bucket name/],
      [{ PLINTH_FILESTORE_S3_BUCKET: 'pb-files', PLINTH_FILESTORE_S3_URL: 'minio:9000' }, 'PLINTH_FILESTORE_S3_URL', /http:\/\/ or https:\/\//],
      [{ PLINTH_FILESTORE_S3_BUCKET: 'pb-files', PLINTH_FILESTORE_S3_URL: 'http://key:secret@minio:9000' }, 'PLINTH_FILESTORE_S3_URL', /must not hold credentials/],
      [{ PLINTH_FILESTORE_S3_BUCKET: 'pb-files', PLINTH_FILESTORE_S3_REGION: 'Mumbai 1' }, 'PLINTH_FILESTORE_S3_REGION', /region name/],
      [{ PLINTH_FILESTORE_S3_BUCKET: 'pb-files', PLINTH_FILESTORE_S3_ACCESS_KEY_ID: 'k' }, 'PLINTH_FILESTORE_S3_SECRET_ACCESS_KEY', /together/],
      [{ PLINTH_FILESTORE_S3_BUCKET: 'pb-files', PLINTH_FILESTORE_S3_SECRET_ACCESS_KEY: 's' }, 'PLINTH_FILESTORE_S3_ACCESS_KEY_ID', /together/],
      [{ PLINTH_FILESTORE_S3_BUCKET: 'pb-files', PLINTH_FILESTORE_S3_FORCE_PATH_STYLE: 'yes please' }, 'PLINTH_FILESTORE_S3_FORCE_PATH_STYLE', /true or false/],
    ];
    for (const [env, variable, message] of cases) {
      const error = configErrorOf(() => loadConfig(env));
      expect(error.variable, JSON.stringify(env)).toBe(variable);
      expect(error.message).toMatch(message);
    }
    // Neither the secret nor a URL's password is echoed.
    const half = configErrorOf(() => loadConfig({ PLINTH_FILESTORE_S3_BUCKET: 'pb-files', PLINTH_FILESTORE_S3_SECRET_ACCESS_KEY: 'hunter2' }));
    expect(half.message).not.toContain('hunter2');
    const inUrl = configErrorOf(() => loadConfig({ PLINTH_FILESTORE_S3_BUCKET: 'pb-files', PLINTH_FILESTORE_S3_URL: 'http://key:hunter2@minio:9000' }));
    expect(inUrl.message).not.toContain('hunter2');
  });

  it('refuses an http SMS provider without a URL, and SMTP URLs of other schemes', () => {
    expect(() => loadConfig({ PLINTH_SMS_PROVIDER: 'http' })).toThrow(/PLINTH_SMS_URL/);
    expect(() => loadConfig({ PLINTH_SMS_PROVIDER: 'carrier-pigeon' })).toThrow(/PLINTH_SMS_PROVIDER/);
    expect(() => loadConfig({ PLINTH_SMTP_URL: 'http://mail.example.org' })).toThrow(/PLINTH_SMTP_URL/);
  });

  it('refuses a public INTERNAL_HOST: the internal port trusts its callers', () => {
    for (const host of ['0.0.0.0', '8.8.8.8', '172.32.0.1', '169.254.1.1', '::', 'fe80::1', '2001:db8::1', '::ffff:8.8.8.8']) {
      expect(() => loadConfig({ INTERNAL_HOST: host })).toThrow(/INTERNAL_HOST: must be a loopback or private address/);
    }
    // Names are refused, however private they look: only the parsed address counts, not its text.
    for (const host of ['localhost', 'example.org', '10.example.org', '127.0.0.1.nip.io', '192.168.1.2:80']) {
      expect(() => loadConfig({ INTERNAL_HOST: host })).toThrow(/INTERNAL_HOST: must be an IP address \(not a name\)/);
    }
    for (const host of ['127.0.0.1', '127.8.9.10', '::1', '192.168.1.2', '172.16.0.1', '172.31.255.255', '10.1.2.3', 'fd00::1', 'fc12:3456::7']) {
      expect(loadConfig({ INTERNAL_HOST: host }).internalHost).toBe(host);
    }
  });

  it('refuses shortener URL prefixes that are not plain http(s) URLs', () => {
    for (const bad of ['pb.gov.in', 'ftp://pb.gov.in', 'https://pb.gov.in/?next=x', 'https://user:pw@pb.gov.in', 'https://pb.gov.in/#top', 'https://pb.gov.in,']) {
      expect(() => loadConfig({ PLINTH_SHORTENER_ALLOWED_URLS: bad })).toThrow(/PLINTH_SHORTENER_ALLOWED_URLS/);
    }
  });

  it('refuses INTERNAL_PORT without PLINTH_INTERNAL_SECRET: a bare uuid must never be trusted', () => {
    expect(() => loadConfig({ INTERNAL_PORT: '9090' })).toThrow(/PLINTH_INTERNAL_SECRET: must be set when INTERNAL_PORT is/);
    expect(loadConfig({ INTERNAL_PORT: '9090', PLINTH_INTERNAL_SECRET: 's3cret' }).internalSecret).toBe('s3cret');
  });

  it('refuses a master key that is not 32 bytes of base64', () => {
    for (const bad of ['short', Buffer.alloc(16).toString('base64'), `${KEY}!`]) {
      expect(() => loadConfig({ PLINTH_MASTER_KEY: bad })).toThrow(/PLINTH_MASTER_KEY: must be 32 random bytes/);
    }
  });

  it('refuses a public URL that is not http or https', () => {
    for (const bad of ['services.pb.gov.in', 'ftp://pb.gov.in', 'javascript:alert(1)']) {
      expect(() => loadConfig({ PLINTH_PUBLIC_URL: bad })).toThrow(/PLINTH_PUBLIC_URL/);
    }
  });

  it('keeps exchange payloads 30 days unless told, and refuses a retention that is not a positive whole number of days', () => {
    expect(loadConfig({}).exchangePayloadRetentionDays).toBe(30);
    expect(loadConfig({ PLINTH_EXCHANGE_PAYLOAD_RETENTION_DAYS: '7' }).exchangePayloadRetentionDays).toBe(7);
    for (const bad of ['0', '-1', '1.5', 'thirty', '30d']) {
      expect(() => loadConfig({ PLINTH_EXCHANGE_PAYLOAD_RETENTION_DAYS: bad })).toThrow(/PLINTH_EXCHANGE_PAYLOAD_RETENTION_DAYS: must be a positive integer/);
    }
  });

  it('refuses a time zone that is not an IANA name', () => {
    expect(() => loadConfig({ PLINTH_TIME_ZONE: 'Mars/Olympus' })).toThrow(/PLINTH_TIME_ZONE: must be an IANA time zone/);
  });

  it('refuses an agency id that could not travel in a signed header or a URL', () => {
    for (const bad of ['PB.Health', '-pb', 'pb health', 'pb/health', 'a'.repeat(65)]) {
      expect(() => loadConfig({ PLINTH_AGENCY_ID: bad })).toThrow(/PLINTH_AGENCY_ID: must be 1-64 lower-case/);
    }
  });

  it('refuses a stream name NATS would read as subjects or wildcards', () => {
    for (const bad of ['plinth.events', 'PLINTH EVENTS', 'EVENTS>', '*']) {
      expect(() => loadConfig({ PLINTH_EVENT_STREAM: bad })).toThrow(/PLINTH_EVENT_STREAM: must be 1-64 letters/);
    }
  });

  it('accepts postgresql:// as well as postgres://', () => {
    expect(loadConfig({ DATABASE_URL: 'postgresql://db/plinth' }).databaseUrl).toBe('postgresql://db/plinth');
  });

  it('accepts the port range boundaries 0 and 65535', () => {
    expect(loadConfig({ PORT: '0' }).port).toBe(0);
    expect(loadConfig({ PORT: '65535' }).port).toBe(65535);
  });

  it('treats empty and blank strings as unset', () => {
    const config = loadConfig({
      PORT: '',
      HOST: '   ',
      DATA_DIR: '',
      DATABASE_URL: '',
      EVENT_BUS_URL: ' ',
      PLINTH_ADMIN_PASSWORD: '',
      PLINTH_SEED_DIR: '',
      INTERNAL_PORT: '',
      LOG_LEVEL: '',
      PLINTH_ROLE: '',
      PLINTH_BODY_LIMIT: '',
    });
    expect(config).toEqual(loadConfig({}));
  });

  it('trims surrounding whitespace from values', () => {
    const config = loadConfig({ PORT: ' 3000 ', LOG_LEVEL: ' warn ', HOST: ' localhost ' });
    expect(config.port).toBe(3000);
    expect(config.logLevel).toBe('warn');
    expect(config.host).toBe('localhost');
  });

  it('resolves DATA_DIR and PLINTH_SEED_DIR to absolute paths', () => {
    const config = loadConfig({ DATA_DIR: 'relative/data', PLINTH_SEED_DIR: './some/seed' });
    expect(path.isAbsolute(config.dataDir)).toBe(true);
    expect(config.dataDir).toBe(path.join(process.cwd(), 'relative', 'data'));
    expect(path.isAbsolute(config.seedDir)).toBe(true);
    expect(config.seedDir).toBe(path.join(process.cwd(), 'some', 'seed'));
  });

  it('applies overrides on top of the environment', () => {
    const config = loadConfig({ PORT: '3000', LOG_LEVEL: 'debug' }, { port: 0, role: 'api' });
    expect(config.port).toBe(0);
    expect(config.role).toBe('api');
    expect(config.logLevel).toBe('debug');
  });

  describe('rejects a bad variable, naming it', () => {
    const cases: { variable: string; value: string; mentions: string }[] = [
      { variable: 'PORT', value: 'abc', mentions: 'port number' },
      { variable: 'PORT', value: '70000', mentions: 'port number' },
      { variable: 'PORT', value: '-1', mentions: 'port number' },
      { variable: 'PORT', value: '80.5', mentions: 'port number' },
      { variable: 'INTERNAL_PORT', value: '65536', mentions: 'port number' },
      { variable: 'DATABASE_URL', value: 'mysql://x', mentions: 'postgres://' },
      { variable: 'DATABASE_URL', value: 'not a url', mentions: 'not a valid URL' },
      { variable: 'EVENT_BUS_URL', value: 'http://x', mentions: 'nats://' },
      { variable: 'LOG_LEVEL', value: 'loud', mentions: 'must be one of' },
      { variable: 'LOG_LEVEL', value: 'INFO', mentions: 'must be one of' },
      { variable: 'PLINTH_ROLE', value: 'boss', mentions: 'must be one of' },
      { variable: 'PLINTH_BODY_LIMIT', value: '0', mentions: 'positive integer' },
      { variable: 'PLINTH_BODY_LIMIT', value: '-5', mentions: 'positive integer' },
      { variable: 'PLINTH_BODY_LIMIT', value: '1.5', mentions: 'positive integer' },
      { variable: 'PLINTH_FILESTORE_MAX_BYTES', value: '0', mentions: 'positive integer' },
      { variable: 'PLINTH_FILESTORE_LINK_MINUTES', value: 'soon', mentions: 'positive integer' },
      { variable: 'PLINTH_FILESTORE_ORPHAN_HOURS', value: '-1', mentions: 'positive integer' },
    ];

    for (const { variable, value, mentions } of cases) {
      it(`${variable}=${value}`, () => {
        const error = configErrorOf(() => loadConfig({ [variable]: value }));
        expect(error.variable).toBe(variable);
        expect(error.message.startsWith(`${variable}: `)).toBe(true);
        expect(error.message).toContain(mentions);
      });
    }
  });

  it('does not echo a DATABASE_URL that fails to parse (it may hold a password)', () => {
    const error = configErrorOf(() => loadConfig({ DATABASE_URL: 'postgres://user:hunter2@db:notaport' }));
    expect(error.variable).toBe('DATABASE_URL');
    expect(error.message).not.toContain('hunter2');
  });

  it('echoes the offending value for enumerated variables', () => {
    const error = configErrorOf(() => loadConfig({ PLINTH_ROLE: 'boss' }));
    expect(error.message).toContain('"boss"');
    expect(error.message).toContain('api, worker, all');
  });
});
