import multipart from '@fastify/multipart';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Authorizer } from '../../kernel/auth.js';
import { scopeFor, type Scope } from '../../kernel/scope.js';
import { DomainError, invalid } from '../../kernel/errors.js';
import type { HttpApp } from '../../kernel/http.js';
import type { FileRow } from './filestore.store.js';
import type { FilestoreService, IncomingFile } from './filestore.service.js';

const tags = ['filestore'];
const BASE = '/filestore/v1/files';
const MAX_FILES = 10;
const MAX_IDS = 100;

const Tenant = Type.String({ minLength: 1, maxLength: 128 });
const Id = Type.String({ minLength: 1, maxLength: 64 });
const UrlQuery = Type.Object({ tenantId: Tenant, fileStoreIds: Type.String({ minLength: 1, maxLength: MAX_IDS * 40 }) });
const IdQuery = Type.Object({ tenantId: Tenant, fileStoreId: Id });
const TagQuery = Type.Object({ tenantId: Tenant, tag: Type.String({ minLength: 1, maxLength: 256 }) });
const LinkQuery = Type.Object({ expires: Type.Integer({ minimum: 0 }), signature: Type.String({ minLength: 1, maxLength: 128 }) });
const LinkParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 64 }) });

/** multipart's own refusals, by code: over a size or count limit is 413, anything else malformed is 400. */
const TOO_LARGE_CODES = new Set(['FST_REQ_FILE_TOO_LARGE', 'FST_PARTS_LIMIT', 'FST_FILES_LIMIT', 'FST_FIELDS_LIMIT']);

/** `inline`/`attachment` with the original name, ASCII-safe plus RFC 5987 for the rest. */
function disposition(kind: 'inline' | 'attachment', fileName: string): string {
  const ascii = fileName.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(fileName)}`;
}

/**
 * The plaintext streams as it is decrypted. Its length, when known (the original's is recorded),
 * is sent so clients can show progress; it is the plaintext's, never the stored ciphertext's. No
 * ranges: a Range header is answered with the whole file (200), as HTTP allows.
 */
function send(reply: FastifyReply, row: FileRow, contentType: string, stream: NodeJS.ReadableStream, kind: 'inline' | 'attachment', length: number | undefined) {
  if (length !== undefined) reply.header('content-length', length);
  return reply
    .header('content-type', contentType)
    .header('content-disposition', disposition(kind, row.file_name))
    .header('x-content-type-options', 'nosniff')
    .header('cache-control', 'private, no-store')
    .send(stream);
}

/** Reads the whole multipart body: files (buffered, each under the limit) and the text fields. */
async function readUpload(request: FastifyRequest, maxBytes: number) {
  if (!request.isMultipart()) throw invalid('INVALID_MULTIPART', 'Send the upload as multipart/form-data with "file" parts and tenantId, module, tag fields');
  const files: IncomingFile[] = [];
  const fields: Record<string, string> = {};
  try {
    for await (const part of request.parts({ limits: { fileSize: maxBytes, files: MAX_FILES, fields: 20, fieldSize: 4096, parts: MAX_FILES + 20 } })) {
      if (part.type === 'file') {
        const bytes = await part.toBuffer();
        if (part.fieldname === 'file') files.push({ fileName: part.filename, declaredType: part.mimetype, bytes });
      } else if (typeof part.value === 'string') {
        fields[part.fieldname] = part.value;
      }
    }
  } catch (error) {
    if (error instanceof DomainError) throw error;
    const code = (error as { code?: string }).code ?? '';
    if (TOO_LARGE_CODES.has(code)) {
      throw new DomainError('too_large', { code: 'FILE_TOO_LARGE', message: `Files are limited to ${maxBytes} bytes and ${MAX_FILES} per upload` });
    }
    throw invalid('INVALID_MULTIPART', `The multipart body could not be read: ${(error as Error).message}`);
  }
  return { files, fields };
}

/**
 * The caller's scope for this route: the tenants of the roles that allow it, each with its
 * sub-tenants; a citizen is also limited to what is theirs. Computed here from the access
 * mapping, the same rule as the kernel's Scope contract.
 */
async function scopeOf(request: FastifyRequest, authorizer: Authorizer): Promise<Scope> {
  const user = request.userInfo;
  if (!user) throw new DomainError('unauthenticated', { code: 'CustomException', message: 'Authentication required: send a valid access token' });
  const path = request.url.split('?', 1)[0] ?? request.url;
  const tenants: string[] = [];
  for (const role of user.roles) if (await authorizer.isAuthorized([role], path, [role.tenantId])) tenants.push(role.tenantId);
  return scopeFor(user, tenants);
}

/** `publicUrl` is the links' base: never the request's Host header, which a caller controls. */
export function filestoreRoutes(service: FilestoreService, authorizer: Authorizer, publicUrl: string) {
  return (root: HttpApp) => {
    // In its own scope, so that only the upload route parses multipart bodies.
    void root.register(async (app) => {
      await app.register(multipart, { limits: { fileSize: service.settings.maxBytes } });

      app.post(
        BASE,
        // The tenant is a multipart field the kernel cannot read: the handler checks it against the scope.
        { config: { tenant: 'none' }, schema: { tags, summary: 'Upload files (multipart: file parts, tenantId, module, tag); the type is checked from the bytes', consumes: ['multipart/form-data'] } },
        async (request) => {
          const user = request.userInfo!;
          const { files, fields } = await readUpload(request, service.settings.maxBytes);
          const tenantId = fields['tenantId']?.trim() ?? '';
          if (tenantId === '') throw invalid('INVALID_TENANT_ID', 'tenantId is required');
          // The kernel could not see the tenant inside the multipart body: the same check here.
          if (!(await authorizer.isAuthorized(user.roles, BASE, [tenantId]))) {
            throw new DomainError('forbidden', { code: 'CustomException', message: 'Not authorized to access this resource' });
          }
          const stored = await service.upload({ tenantId, module: fields['module'], tag: fields['tag'], files }, user.uuid);
          return { files: stored };
        },
      );
    });

    root.get(`${BASE}/url`, { schema: { tags, summary: 'Signed, expiring download links (images: original and thumbnails, comma-joined)', querystring: UrlQuery } }, async (request) => {
      const { tenantId, fileStoreIds } = request.query as { tenantId: string; fileStoreIds: string };
      const ids = [...new Set(fileStoreIds.split(',').map((s) => s.trim()).filter(Boolean))];
      if (ids.length === 0 || ids.length > MAX_IDS) throw invalid('INVALID_REQUEST', `fileStoreIds takes 1 to ${MAX_IDS} ids`);
      const links = await service.urls(tenantId, ids, publicUrl, undefined, await scopeOf(request, authorizer));
      // DIGIT's shape: the list, plus each id as a key of its url.
      return { fileStoreIds: links, ...Object.fromEntries(links.map((l) => [l.id, l.url])) };
    });

    root.get(`${BASE}/id`, { schema: { tags, summary: 'Download a file', querystring: IdQuery } }, async (request, reply) => {
      const { tenantId, fileStoreId } = request.query as { tenantId: string; fileStoreId: string };
      const { stream, row, length } = await service.open(tenantId, fileStoreId, await scopeOf(request, authorizer));
      return send(reply, row, row.content_type, stream, 'attachment', length);
    });

    root.get(`${BASE}/tag`, { schema: { tags, summary: 'Links to the files of a tag', querystring: TagQuery } }, async (request) => {
      const { tenantId, tag } = request.query as { tenantId: string; tag: string };
      return { files: await service.byTag(tenantId, tag, publicUrl, await scopeOf(request, authorizer)) };
    });

    root.get(`${BASE}/metadata`, { schema: { tags, summary: "A file's metadata", querystring: IdQuery } }, async (request) => {
      const { tenantId, fileStoreId } = request.query as { tenantId: string; fileStoreId: string };
      return service.metadata(tenantId, fileStoreId, await scopeOf(request, authorizer));
    });

    root.get(
      `${BASE}/download/:name`,
      {
        schema: { tags, summary: 'Follow a signed link from /files/url (no token: the signature is the credential)', params: LinkParams, querystring: LinkQuery },
        config: { open: true },
      },
      async (request, reply) => {
        const { name } = request.params as { name: string };
        const { expires, signature } = request.query as { expires: number; signature: string };
        const { stream, row, contentType, length } = await service.openLink(name, expires, signature);
        return send(reply, row, contentType, stream, 'inline', length);
      },
    );
  };
}
