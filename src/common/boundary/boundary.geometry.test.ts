import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DomainError } from '../../kernel/errors.js';
import { GEOMETRY_LIMITS, parseGeometry } from './boundary.geometry.js';

const square = (x: number, y: number, size = 0.01) => [
  [x, y],
  [x + size, y],
  [x + size, y + size],
  [x, y + size],
  [x, y],
];

function refusal(value: unknown): string {
  try {
    parseGeometry(value);
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    return (error as DomainError).code;
  }
  throw new Error(`accepted ${JSON.stringify(value).slice(0, 200)}`);
}

describe('boundary geometry', () => {
  it('accepts Point, Polygon (with a hole) and MultiPolygon, keeping only type and coordinates', () => {
    expect(parseGeometry({ type: 'Point', coordinates: [74.8723, 31.634], bbox: [1, 2, 3, 4] })).toEqual({
      type: 'Point',
      coordinates: [74.8723, 31.634],
    });
    const withHole = { type: 'Polygon', coordinates: [square(74.8, 31.6, 0.1), square(74.82, 31.62, 0.01)] };
    expect(parseGeometry(withHole)).toEqual(withHole);
    const multi = { type: 'MultiPolygon', coordinates: [[square(74.8, 31.6)], [square(74.9, 31.7)]] };
    expect(parseGeometry(multi)).toEqual(multi);
    expect(parseGeometry(null)).toBeNull();
    expect(parseGeometry(undefined)).toBeNull();
  });

  it('refuses what is not GeoJSON, or not a supported type', () => {
    expect(refusal('POINT(74 31)')).toBe('INVALID_GEOJSON');
    expect(refusal([74.8, 31.6])).toBe('INVALID_GEOJSON');
    expect(refusal({ coordinates: [74.8, 31.6] })).toBe('INVALID_GEOJSON');
    expect(refusal({ type: 'Point', coordinates: '74.8,31.6' })).toBe('INVALID_GEOJSON');
    expect(
      refusal({
        type: 'LineString',
        coordinates: [
          [74.8, 31.6],
          [74.9, 31.7],
        ],
      }),
    ).toBe('INVALID_GEOMETRY_TYPE');
    expect(refusal({ type: 'point', coordinates: [74.8, 31.6] })).toBe('INVALID_GEOMETRY_TYPE');
  });

  it('refuses positions that are not two numbers in range', () => {
    expect(refusal({ type: 'Point', coordinates: [74.8] })).toBe('INVALID_POSITION');
    expect(refusal({ type: 'Point', coordinates: [74.8, 31.6, 200] })).toBe('INVALID_POSITION');
    expect(refusal({ type: 'Point', coordinates: ['74.8', 31.6] })).toBe('INVALID_POSITION');
    expect(refusal({ type: 'Point', coordinates: [74.8, null] })).toBe('INVALID_POSITION');
    expect(refusal({ type: 'Point', coordinates: [181, 31.6] })).toBe('INVALID_POSITION');
    expect(refusal({ type: 'Point', coordinates: [74.8, -90.5] })).toBe('INVALID_POSITION');
    const ring = square(74.8, 31.6);
    ring[2] = [74.81, 'x' as unknown as number];
    expect(refusal({ type: 'Polygon', coordinates: [ring] })).toBe('INVALID_POSITION');
  });

  it('refuses rings that are open, too short or enclose nothing, and empty polygons', () => {
    const open = square(74.8, 31.6)
      .slice(0, 4)
      .concat([[74.8, 31.7]]);
    expect(refusal({ type: 'Polygon', coordinates: [open] })).toBe('INVALID_POLYGON_DEFINITION');
    expect(
      refusal({
        type: 'Polygon',
        coordinates: [
          [
            [74.8, 31.6],
            [74.9, 31.6],
            [74.8, 31.6],
          ],
        ],
      }),
    ).toBe('INVALID_POLYGON_COORDINATES_DEFINITION');
    const flat = [
      [74.8, 31.6],
      [74.9, 31.6],
      [74.8, 31.6],
      [74.9, 31.6],
      [74.8, 31.6],
    ];
    expect(refusal({ type: 'Polygon', coordinates: [flat] })).toBe('INVALID_POLYGON');
    expect(refusal({ type: 'Polygon', coordinates: [] })).toBe('INVALID_POLYGON');
    expect(refusal({ type: 'Polygon', coordinates: [74.8, 31.6] })).toBe('INVALID_GEOJSON');
    expect(refusal({ type: 'MultiPolygon', coordinates: [] })).toBe('INVALID_POLYGON');
    expect(refusal({ type: 'MultiPolygon', coordinates: [[square(74.8, 31.6)], [open]] })).toBe('INVALID_POLYGON_DEFINITION');
  });

  it('names the offending position', () => {
    const ring = square(74.8, 31.6);
    ring[3] = [74.8, 95];
    try {
      parseGeometry({ type: 'MultiPolygon', coordinates: [[square(1, 1)], [ring]] }, 'Boundary[2].geometry');
      expect.unreachable();
    } catch (error) {
      expect((error as DomainError).details[0]!.message).toContain('Boundary[2].geometry.coordinates[1][0][3]');
    }
  });

  it('refuses shapes over the size limits', () => {
    const n = GEOMETRY_LIMITS.positions + 1;
    const big = Array.from({ length: n }, (_, i) => [74 + (i % 1000) / 1000, 31 + Math.floor(i / 1000) / 1000]);
    big[n - 1] = big[0]!;
    expect(refusal({ type: 'Polygon', coordinates: [big] })).toBe('GEOMETRY_TOO_LARGE');
    const manyRings = Array.from({ length: GEOMETRY_LIMITS.rings + 1 }, () => square(74.8, 31.6));
    expect(refusal({ type: 'Polygon', coordinates: manyRings })).toBe('GEOMETRY_TOO_LARGE');
    // The budget counts across polygons, not per ring.
    const ring = Array.from({ length: 1001 }, (_, i) => [74 + i / 10_000, 31 + (i % 2) / 1000]);
    ring[1000] = ring[0]!;
    const polygons = Array.from({ length: Math.ceil(GEOMETRY_LIMITS.positions / 1001) + 1 }, () => [ring]);
    expect(refusal({ type: 'MultiPolygon', coordinates: polygons })).toBe('GEOMETRY_TOO_LARGE');
  });

  it('accepts every closed ring of in-range positions and refuses it once opened', () => {
    const lon = fc.double({ min: -180, max: 180, noNaN: true });
    const lat = fc.double({ min: -90, max: 90, noNaN: true });
    const positions = fc.uniqueArray(fc.tuple(lon, lat), { minLength: 3, maxLength: 20, selector: ([x, y]) => `${x},${y}` });
    fc.assert(
      fc.property(positions, (points) => {
        const ring = [...points, points[0]!];
        expect(parseGeometry({ type: 'Polygon', coordinates: [ring] })).toEqual({ type: 'Polygon', coordinates: [ring] });
        expect(refusal({ type: 'Polygon', coordinates: [[...points, points[1]!]] })).toBe('INVALID_POLYGON_DEFINITION');
      }),
      { numRuns: 100 },
    );
  });
});
