import { memberChange } from './member.change.js';
import { memberCreate } from './member.create.js';
import { memberLinks } from './member.links.js';
import { memberSearch } from './member.search.js';
import type { MemberDeps } from './member.shared.js';

export type { MemberDeps as MemberServiceDeps } from './member.shared.js';

/**
 * DIGIT's household members, one file per operation: create (member.create.ts), update and delete
 * (member.change.ts), search and downsync pages (member.search.ts), and the links to parents that
 * arrive later (member.links.ts), all on the kernel's offline write protocol.
 */
export function createMemberService(deps: MemberDeps) {
  const links = memberLinks(deps);
  const { update, remove } = memberChange(deps);
  return {
    ...links,
    ...memberSearch(deps, links),
    create: memberCreate(deps),
    update,
    remove,
  };
}

export type MemberService = ReturnType<typeof createMemberService>;
