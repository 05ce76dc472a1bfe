import { invalid } from '../../kernel/errors.js';

/** GeoJSON position: longitude, then latitude (RFC 7946), in degrees. */
export type Position = [number, number];

export type Geometry =
  | { type: 'Point'; coordinates: Position }
  | { type: 'Polygon'; coordinates: Position[][] }
  | { type: 'MultiPolygon'; coordinates: Position[][][] };

export const GEOMETRY_TYPES = ['Point', 'Polygon', 'MultiPolygon'] as const;

/**
 * A locality's outline needs hundreds of points, a district's a few thousand; these caps keep one
 * request from holding a whole country's shapefile (the body limit stops the rest).
 */
export const GEOMETRY_LIMITS = { positions: 50_000, rings: 500, polygons: 500 } as const;

type Budget = { left: number };

const isRecord = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

function tooLarge(field: string) {
  return invalid(
    'GEOMETRY_TOO_LARGE',
    `${field} has more than ${GEOMETRY_LIMITS.positions} positions, ${GEOMETRY_LIMITS.rings} rings per polygon or ${GEOMETRY_LIMITS.polygons} polygons: simplify the shape`,
    [field],
  );
}

function position(value: unknown, field: string, budget: Budget): Position {
  if (!Array.isArray(value) || value.length !== 2) {
    throw invalid('INVALID_POSITION', `${field}: a position must be [longitude, latitude], two numbers`, [field]);
  }
  const [longitude, latitude] = value as unknown[];
  if (typeof longitude !== 'number' || typeof latitude !== 'number' || !Number.isFinite(longitude) || !Number.isFinite(latitude)) {
    throw invalid('INVALID_POSITION', `${field}: longitude and latitude must be numbers`, [field]);
  }
  if (longitude < -180 || longitude > 180 || latitude < -90 || latitude > 90) {
    throw invalid('INVALID_POSITION', `${field}: [${longitude}, ${latitude}] is outside longitude -180..180, latitude -90..90`, [field]);
  }
  if (--budget.left < 0) throw tooLarge(field);
  return [longitude, latitude];
}

function ring(value: unknown, field: string, budget: Budget): Position[] {
  if (!Array.isArray(value)) throw invalid('INVALID_GEOJSON', `${field}: a ring must be a list of positions`, [field]);
  if (value.length > budget.left) throw tooLarge(field);
  if (value.length < 4) {
    throw invalid('INVALID_POLYGON_COORDINATES_DEFINITION', `${field}: a polygon ring must be defined with at least 4 positions`, [field]);
  }
  const positions = value.map((p, i) => position(p, `${field}[${i}]`, budget));
  const first = positions[0]!;
  const last = positions[positions.length - 1]!;
  if (first[0] !== last[0] || first[1] !== last[1]) {
    throw invalid('INVALID_POLYGON_DEFINITION', `${field}: a ring must begin and end with the same position (RFC 7946)`, [field]);
  }
  if (new Set(positions.map(([x, y]) => `${x},${y}`)).size < 3) {
    throw invalid('INVALID_POLYGON', `${field}: a ring needs at least 3 distinct positions to enclose an area`, [field]);
  }
  return positions;
}

function polygon(value: unknown, field: string, budget: Budget): Position[][] {
  if (!Array.isArray(value) || value.length === 0) {
    throw invalid('INVALID_POLYGON', `${field}: a polygon must hold at least one ring (its outline; further rings are holes)`, [field]);
  }
  if (value.length > GEOMETRY_LIMITS.rings) throw tooLarge(field);
  return value.map((r, i) => ring(r, `${field}[${i}]`, budget));
}

/**
 * Checks a boundary's GeoJSON geometry (Point, Polygon or MultiPolygon; closed rings; positions in
 * range) and answers it reduced to `type` and `coordinates`; null when there is none. Refuses with
 * DIGIT's boundary-service codes, naming the offending position.
 */
export function parseGeometry(value: unknown, field = 'geometry'): Geometry | null {
  if (value === null || value === undefined) return null;
  if (!isRecord(value) || typeof value['type'] !== 'string') {
    throw invalid('INVALID_GEOJSON', `${field} must be a GeoJSON geometry object with "type" and "coordinates"`, [field]);
  }
  const type = value['type'];
  if (!(GEOMETRY_TYPES as readonly string[]).includes(type)) {
    throw invalid('INVALID_GEOMETRY_TYPE', `${field}.type "${type}" is not supported: use ${GEOMETRY_TYPES.join(', ')}`, [field]);
  }
  const coordinates = value['coordinates'];
  if (!Array.isArray(coordinates)) throw invalid('INVALID_GEOJSON', `${field}.coordinates must be an array`, [field]);
  const budget: Budget = { left: GEOMETRY_LIMITS.positions };
  const at = `${field}.coordinates`;
  switch (type) {
    case 'Point':
      return { type, coordinates: position(coordinates, at, budget) };
    case 'Polygon':
      return { type, coordinates: polygon(coordinates, at, budget) };
    default: {
      if (coordinates.length === 0) throw invalid('INVALID_POLYGON', `${at}: a MultiPolygon must hold at least one polygon`, [field]);
      if (coordinates.length > GEOMETRY_LIMITS.polygons) throw tooLarge(field);
      return { type: 'MultiPolygon', coordinates: coordinates.map((p, i) => polygon(p, `${at}[${i}]`, budget)) };
    }
  }
}
