import { v7 } from 'uuid';

/** Time-ordered UUID v7: inserts into SQLite's B-trees ≈ 2.6× faster than random v4 (ARCHITECTURE.md). */
export function newId(): string {
  return v7();
}
