import { sql, type Expression, type SqlBool } from 'kysely';
import type { Scope } from './scope.js';
import { tenantCovers } from './tenancy.js';

/** The scope's roots without those another root already covers (`pb` makes `pb.amritsar` redundant). */
export function scopeRoots(scope: Scope): string[] {
  const roots = [...new Set(scope.tenants)].filter((t) => t !== '');
  return roots.filter((root) => !roots.some((other) => other !== root && tenantCovers(other, root)));
}

/** `pb_x%` → `pb\_x\%`: the root is matched literally, whatever characters it holds. */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/**
 * A where-condition keeping the rows whose `column` (a tenant id column, e.g. `tenant_id` or
 * `i.tenant_id`) lies inside the scope: for each root, the tenant itself or one below it. Works on
 * SQLite and PostgreSQL alike: the LIKE prefix (metacharacters escaped) lets an index help, the
 * substr comparison makes the match exact where SQLite's LIKE would ignore case. A scope with no
 * tenants matches nothing; the system scope matches everything. Stores' search functions take a
 * Scope and put this in every query, so no caller can leave it out:
 *
 *     db.selectFrom('individual').selectAll().where(tenantInScope(scope, 'tenant_id'))
 */
export function tenantInScope(scope: Scope, column: string): Expression<SqlBool> {
  if (scope.system) return sql<SqlBool>`1 = 1`;
  const roots = scopeRoots(scope);
  if (roots.length === 0) return sql<SqlBool>`1 = 0`;
  const ref = sql.ref(column);
  const each = roots.map((root) => {
    const prefix = `${root}.`;
    return sql<SqlBool>`(${ref} = ${root} or (${ref} like ${`${escapeLike(prefix)}%`} escape '\\' and substr(${ref}, 1, ${sql.lit(prefix.length)}) = ${prefix}))`;
  });
  return sql<SqlBool>`(${sql.join(each, sql` or `)})`;
}

/**
 * For citizens, a where-condition keeping only their own rows (`column` holds the owner's uuid);
 * for everyone else, no condition. Put it next to tenantInScope on tables with an owner.
 */
export function ownedInScope(scope: Scope, column: string): Expression<SqlBool> {
  if (!scope.citizen) return sql<SqlBool>`1 = 1`;
  const uuid = scope.user?.uuid;
  if (!uuid) return sql<SqlBool>`1 = 0`;
  return sql<SqlBool>`${sql.ref(column)} = ${uuid}`;
}
