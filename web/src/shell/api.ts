// Calls to the Plinth API from the web apps: DIGIT's envelope ({RequestInfo, ...}) in, DIGIT's
// error shape ({Errors: [{code, message, params}]}) out, turned into one ApiError the pages show.

/** What went wrong, in the terms a page needs to decide what to tell the person. */
export type ApiErrorKind =
  | 'network' // no answer at all: offline, server down
  | 'session' // the sign-in expired or was revoked (401)
  | 'refused' // the server refused the input or the action (4xx): its reasons are in `errors`
  | 'server'; // the server failed (5xx)

export type ApiErrorDetail = { code: string; message: string; params?: unknown[] | null };

export class ApiError extends Error {
  constructor(
    readonly kind: ApiErrorKind,
    readonly status: number,
    readonly errors: ApiErrorDetail[],
  ) {
    super(errors[0]?.message ?? kind);
    this.name = 'ApiError';
  }

  /** The server's reasons about one field, matched by the field name in the code, message or params. */
  forField(field: string): ApiErrorDetail[] {
    const needle = field.toLowerCase();
    return this.errors.filter(
      (e) =>
        e.code.toLowerCase().includes(needle) ||
        (e.params ?? []).some((p) => typeof p === 'string' && p.toLowerCase().split(/[.[\]/]/).includes(needle)),
    );
  }
}

type Json = Record<string, unknown>;

/** Where the current sign-in's token comes from, and what to do when the server says it is gone. */
type TokenSource = { token(): string | undefined; expired(): void };
let tokens: TokenSource = { token: () => undefined, expired: () => undefined };

/** Installed by the session: every call then carries the token and reports a 401. */
export function useTokens(source: TokenSource): void {
  tokens = source;
}

async function send(path: string, init: RequestInit, authenticated: boolean): Promise<Response> {
  const token = authenticated ? tokens.token() : undefined;
  const headers = new Headers(init.headers);
  if (token) headers.set('authorization', `Bearer ${token}`);
  let response: Response;
  try {
    response = await fetch(path, { ...init, headers });
  } catch {
    throw new ApiError('network', 0, [{ code: 'NETWORK_ERROR', message: 'The server could not be reached' }]);
  }
  if (response.ok) return response;
  let body: Json = {};
  try {
    body = (await response.json()) as Json;
  } catch {
    // A proxy's HTML error page: keep the status only.
  }
  const errors = (Array.isArray(body['Errors']) ? body['Errors'] : Array.isArray(body['errors']) ? body['errors'] : []) as ApiErrorDetail[];
  if (response.status === 401 && token) {
    tokens.expired();
    throw new ApiError('session', 401, errors);
  }
  if (response.status >= 500) throw new ApiError('server', response.status, errors);
  throw new ApiError('refused', response.status, errors.length > 0 ? errors : [{ code: `HTTP_${response.status}`, message: response.statusText }]);
}

function withQuery(path: string, query?: Record<string, string | number | boolean | undefined>): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, String(value));
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

/** A DIGIT-style POST: `body` gets `RequestInfo`, the answer is the JSON body. */
export async function post<T = Json>(
  path: string,
  body: Json = {},
  options: { query?: Record<string, string | number | boolean | undefined>; anonymous?: boolean } = {},
): Promise<T> {
  const response = await send(
    withQuery(path, options.query),
    {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ RequestInfo: { apiId: 'plinth-web', ver: '1', msgId: `${Date.now()}|web` }, ...body }),
    },
    !options.anonymous,
  );
  return (await response.json()) as T;
}

/** A form-encoded POST (OAuth's token endpoint). */
export async function postForm<T = Json>(path: string, form: Record<string, string>): Promise<T> {
  const response = await send(path, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form) }, false);
  return (await response.json()) as T;
}

/** Uploads one file to the file store; answers its fileStoreId. */
export async function uploadFile(file: File, tenantId: string, module: string): Promise<string> {
  const form = new FormData();
  form.set('tenantId', tenantId);
  form.set('module', module);
  form.set('file', file, file.name);
  const response = await send('/filestore/v1/files', { method: 'POST', body: form }, true);
  const body = (await response.json()) as { files: { fileStoreId: string }[] };
  const id = body.files[0]?.fileStoreId;
  if (!id) throw new ApiError('server', response.status, [{ code: 'UPLOAD_FAILED', message: 'The file store answered no file' }]);
  return id;
}

/** Signed, expiring download links of stored files, by fileStoreId. */
export async function fileUrls(tenantId: string, ids: string[]): Promise<Record<string, string>> {
  if (ids.length === 0) return {};
  const response = await send(withQuery('/filestore/v1/files/url', { tenantId, fileStoreIds: ids.join(',') }), { method: 'GET' }, true);
  const body = (await response.json()) as { fileStoreIds?: { id: string; url: string }[] };
  // The links are built on the deployment's public URL; the page may be reached under another
  // address (a proxy, a test port), and its content policy allows images from its own origin only.
  const sameOrigin = (url: string) => {
    const parsed = new URL(url, window.location.href);
    return `${parsed.pathname}${parsed.search}`;
  };
  return Object.fromEntries((body.fileStoreIds ?? []).map((f) => [f.id, sameOrigin(f.url.split(',')[0] ?? f.url)]));
}
