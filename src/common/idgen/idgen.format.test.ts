import { describe, expect, it } from 'vitest';
import { DomainError } from '../../kernel/errors.js';
import { localTime, paddingOf, parseFormat, renderIds, sequenceKeys, type Token } from './idgen.format.js';

const IST = 'Asia/Kolkata';
// 2024-03-31 20:00:00.045 UTC is 2024-04-01 01:30:00.045 in India: a new day and a new financial year there, not in UTC.
const FY_TURN = Date.UTC(2024, 2, 31, 20, 0, 0, 45);
// 2025-01-15 14:05:09.007 IST, a Wednesday, inside financial year 2024-25.
const MID_YEAR = Date.UTC(2025, 0, 15, 8, 35, 9, 7);

function render(
  format: string,
  options: { at?: number; count?: number; tenantId?: string; padding?: number; city?: string; start?: number } = {},
) {
  const tokens = parseFormat(format, options.tenantId ?? 'pb.amritsar');
  const count = options.count ?? 1;
  const sequences = new Map(sequenceKeys(tokens).map((key) => [key, Array.from({ length: count }, (_, i) => (options.start ?? 1) + i)]));
  return renderIds({
    tokens,
    count,
    time: localTime(options.at ?? MID_YEAR, IST),
    padding: options.padding ?? 6,
    cityCode: options.city,
    sequences,
  });
}

function codeOf(work: () => unknown): string | undefined {
  try {
    work();
  } catch (error) {
    if (error instanceof DomainError) return error.code;
    throw error;
  }
  return undefined;
}

describe('the ID format language', () => {
  it("renders DIGIT's PGR format: date in India's time zone, sequence padded to six digits", () => {
    expect(render('PB-PGR-[cy:yyyy-MM-dd]-[SEQ_EG_PGR_ID]', { at: FY_TURN, count: 2, start: 41 })).toEqual([
      'PB-PGR-2024-04-01-000041',
      'PB-PGR-2024-04-01-000042',
    ]);
  });

  it('prints the financial year from April, in the forms the demo formats use', () => {
    expect(render('[fy:yyyy-yy]', { at: FY_TURN })).toEqual(['2024-25']);
    expect(render('[fy:yyyy-yy]', { at: FY_TURN - 2 * 3_600_000 })).toEqual(['2023-24']); // still 31 March in India
    expect(render('[fy:yyyy-yy]|[FY:yy-yy]|[fy:yyyy]|[fy: yyyy - yyyy ]')).toEqual(['2024-25|24-25|2024|2024-2025']);
  });

  it('formats Java SimpleDateFormat patterns', () => {
    expect(render('[cy:dd/MM/yyyy HH:mm:ss.SSS]')).toEqual(['15/01/2025 14:05:09.007']);
    expect(render('[cy:EEE EEEE d MMM MMMM yy D u]')).toEqual(['Wed Wednesday 15 Jan January 25 15 3']);
    expect(render('[cy:h:mm a K k]|[cy:Z XXX X G]')).toEqual(['2:05 PM 2 14|+0530 +05:30 +05 AD']);
    expect(render("[cy:yyyy'T'HH''mm]|[cy:'o''clock' H]")).toEqual(["2025T14'05|o'clock 14"]);
    expect(render('[cy:yyyy_MM_dd]|[cy:MM]|[cy:yyyy]|[CY:yyyyMMdd]')).toEqual(['2025_01_15|01|2025|20250115']);
    expect(render('[cy:z]')[0]).toMatch(/^(IST|GMT\+5:30)$/);
  });

  it('substitutes the tenant tokens first, so a sequence name can hold the tenant', () => {
    const tokens = parseFormat('[tenantid]/[tenant_id]/[TENANT_ID]/[SEQ_RCPT_[TENANT_ID]]', 'pb.amritsar');
    expect(sequenceKeys(tokens)).toEqual(['seq_rcpt_pb_amritsar']);
    expect(render('[tenantid]/[tenant_id]/[TENANT_ID]/[SEQ_RCPT_[TENANT_ID]]')).toEqual(['pb.amritsar/pb_amritsar/PB_AMRITSAR/000001']);
  });

  it('treats sequence names case-insensitively, and one name shares its value within an id', () => {
    const tokens = parseFormat('[SEQ_A]-[seq_a]-[SEQ_B]', 'pb');
    expect(sequenceKeys(tokens)).toEqual(['seq_a', 'seq_b']);
    expect(render('[SEQ_A]-[seq_a]-[SEQ_B]', { count: 2, start: 7 })).toEqual(['000007-000007-000007', '000008-000008-000008']);
  });

  it('pads as configured and never truncates a larger number', () => {
    expect(render('X[SEQ_A]', { padding: 3, start: 12345 })).toEqual(['X12345']);
    expect(render('X[SEQ_A]', { padding: 0, start: 5 })).toEqual(['X5']);
    expect(render('X[SEQ_A]', { padding: 8, start: 5 })).toEqual(['X00000005']);
    expect([paddingOf(4), paddingOf('3'), paddingOf(-1), paddingOf('x'), paddingOf(undefined), paddingOf(99)]).toEqual([4, 3, 6, 6, 6, 6]);
  });

  it('prints the city code for any token starting with city', () => {
    expect(render('PT/[CITY.CODE]/[city]/[CITY]', { city: '107' })).toEqual(['PT/107/107/107']);
  });

  it('gives random digits for other tokens: {n} of them, else two', () => {
    const ids = render('[d{4}]|[cb.name]|[x]', { count: 50 });
    for (const id of ids) expect(id).toMatch(/^\d{4}\|\d{2}\|\d{2}$/);
    expect(new Set(ids.map((id) => id.slice(0, 4))).size).toBeGreaterThan(10);
  });

  it('keeps text outside brackets, and an unclosed bracket, literally', () => {
    expect(render('A-[SEQ_X]-[B', { start: 1 })).toEqual(['A-000001-[B']);
    expect(render('no tokens')).toEqual(['no tokens']);
  });

  it('refuses bad formats with DIGIT-style codes, before anything is drawn', () => {
    expect(codeOf(() => parseFormat('   ', 'pb'))).toBe('IDGEN_FORMAT_ERROR');
    for (const bad of [
      '[cy:yyyy-qq]',
      "[cy:yyyy'T]",
      '[cy]',
      '[cy:]',
      '[cy:XXXX]',
      '[cy:YYYY]',
      '[fy:MM-yy]',
      '[fy:yyyy-yy-yy]',
      '[d{0}]',
      '[d{x}]',
      '[SEQ-X]',
      '[]',
      `[SEQ_${'A'.repeat(60)}]`,
    ]) {
      expect(
        codeOf(() => parseFormat(bad, 'pb')),
        bad,
      ).toBe('INVALID_FORMAT');
    }
  });

  it('parses tokens into the kinds DIGIT distinguishes by prefix', () => {
    const kinds = (format: string) => parseFormat(format, 'pb').map((t: Token) => t.kind);
    expect(kinds('a[SEQ_X][fy:yy-yy][cy:yy][CITY.CODE][d{3}]')).toEqual(['text', 'seq', 'fy', 'date', 'city', 'random']);
  });
});
