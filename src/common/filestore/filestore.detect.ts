/** The file types Plinth accepts by default: what a complaint photo or a scanned document is. */
export type FileKind = 'jpeg' | 'png' | 'webp' | 'pdf';

export const CONTENT_TYPES: Readonly<Record<FileKind, string>> = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  pdf: 'application/pdf',
};

const EXTENSIONS: Readonly<Record<FileKind, readonly string[]>> = {
  jpeg: ['jpg', 'jpeg', 'jpe', 'jfif'],
  png: ['png'],
  webp: ['webp'],
  pdf: ['pdf'],
};

/** Aliases clients send for the same type (old browsers say image/pjpeg, some SDKs image/jpg). */
const DECLARED_ALIASES: Readonly<Record<string, FileKind>> = {
  'image/jpeg': 'jpeg',
  'image/jpg': 'jpeg',
  'image/pjpeg': 'jpeg',
  'image/png': 'png',
  'image/webp': 'webp',
  'application/pdf': 'pdf',
};

const startsWith = (bytes: Uint8Array, signature: readonly number[], offset = 0) =>
  bytes.length >= offset + signature.length && signature.every((b, i) => bytes[offset + i] === b);
const ascii = (text: string) => [...text].map((c) => c.charCodeAt(0));

/**
 * The type the bytes say, from their magic numbers; undefined for anything else. A small table
 * instead of a sniffing library: four types, each with an unambiguous signature.
 */
export function detectKind(bytes: Uint8Array): FileKind | undefined {
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (startsWith(bytes, ascii('RIFF')) && startsWith(bytes, ascii('WEBP'), 8)) return 'webp';
  if (startsWith(bytes, ascii('%PDF-'))) return 'pdf';
  return undefined;
}

export const isImage = (kind: FileKind): boolean => kind !== 'pdf';

export type TypeCheck = { ok: true; kind: FileKind; contentType: string } | { ok: false; reason: string };

/**
 * Accepts a file only when its bytes are an allowed type and its name's extension and declared
 * content type (when the client sends a specific one) agree with them: a `.jpg` that is really
 * an executable, or a PDF named `photo.png`, is refused.
 */
export function checkFileType(bytes: Uint8Array, fileName: string, declaredType: string | undefined, allowed: readonly FileKind[]): TypeCheck {
  const kind = detectKind(bytes);
  if (kind === undefined || !allowed.includes(kind)) {
    return { ok: false, reason: `the content of ${fileName} is not one of the allowed types (${allowed.join(', ')})` };
  }
  const dot = fileName.lastIndexOf('.');
  const extension = dot >= 0 ? fileName.slice(dot + 1).toLowerCase() : '';
  if (!EXTENSIONS[kind].includes(extension)) {
    return { ok: false, reason: `the name ${fileName} does not match its content (${kind})` };
  }
  const declared = declaredType?.split(';')[0]?.trim().toLowerCase();
  // Generic types say nothing about the file; anything specific must name the same type.
  if (declared && declared !== 'application/octet-stream' && DECLARED_ALIASES[declared] !== kind) {
    return { ok: false, reason: `the declared content type ${declared} of ${fileName} does not match its content (${kind})` };
  }
  return { ok: true, kind, contentType: CONTENT_TYPES[kind] };
}
