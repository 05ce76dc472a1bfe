import { describe, expect, it } from 'vitest';
import { median, weekOf, weekStart } from './complaint.dashboard.js';

const ist = (iso: string) => Date.parse(`${iso}+05:30`);

describe('dashboard weeks', () => {
  it('are Monday to Sunday in India time', () => {
    // Monday 2 March 2026, 00:00 IST is the first instant of its week; the Sunday before, 23:59 IST, is in the week before.
    const monday = weekOf(ist('2026-03-02T00:00:00'));
    expect(weekStart(monday)).toBe('2026-03-02');
    expect(weekOf(ist('2026-03-08T23:59:59.999'))).toBe(monday);
    expect(weekOf(ist('2026-03-01T23:59:59.999'))).toBe(monday - 1);
    expect(weekStart(monday - 1)).toBe('2026-02-23');
    // 20:00 UTC on a Sunday is already Monday in India.
    expect(weekOf(Date.parse('2026-03-08T20:00:00Z'))).toBe(monday + 1);
  });

  it('start on the Monday before the epoch for its first days', () => {
    expect(weekOf(0)).toBe(0);
    expect(weekStart(0)).toBe('1969-12-29');
  });
});

describe('median', () => {
  it('is the middle value, or the mean of the two middle ones', () => {
    expect(median([])).toBeNull();
    expect(median([5])).toBe(5);
    expect(median([1, 2, 10])).toBe(2);
    expect(median([1, 2, 10, 20])).toBe(6);
  });
});
