import type { ErrorDetail } from '../../kernel/errors.js';
import type { ProcessInstanceInput } from './workflow.schema.js';

/** Who owns a business service's applications, named in refusals: a module and the API it moves them with. */
export type OwnerOfService = { readonly owner: string; readonly via?: string };

/**
 * Business services whose applications are records of another module (PGR → pgr-services). Only
 * the owner moves them: anyone else (the `_transition` route included) is refused for every
 * caller, SUPERUSER too, so an application can never be started before its record exists
 * (squatting the next complaint id) nor moved behind the record's back (a REOPEN the complaint
 * never sees).
 *
 * The refusal is a 400 with code BUSINESSSERVICE_OWNED, as DIGIT's workflow answers every refused
 * transition (INVALID ROLE, INVALID ACTION, INVALID_USER) with 400: it is about where the
 * application is moved, the same for every caller, not about who the caller is (which would be 403).
 */
export function createOwnership() {
  const owners = new Map<string, OwnerOfService>();
  return {
    claim(businessService: string, claim: OwnerOfService): void {
      const existing = owners.get(businessService);
      if (existing && existing.owner !== claim.owner) throw new Error(`workflow ${businessService} is already owned by ${existing.owner}; ${claim.owner} cannot claim it`);
      owners.set(businessService, claim);
    },
    ownerOf: (businessService: string): OwnerOfService | undefined => owners.get(businessService),
    /** The refusals for `inputs` moved by `owner` (undefined: not by an owner). */
    refusals(inputs: readonly ProcessInstanceInput[], owner: string | undefined): ErrorDetail[] {
      const errors: ErrorDetail[] = [];
      for (const input of inputs) {
        const claimed = owners.get(input.businessService);
        if (!claimed || claimed.owner === owner) continue;
        errors.push({
          code: 'BUSINESSSERVICE_OWNED',
          message: `${input.businessService} applications (businessId ${input.businessId}) are moved only through ${claimed.owner}${claimed.via ? ` (${claimed.via})` : ''}, which keeps its record and the workflow together`,
          params: [input.businessService, input.businessId],
        });
      }
      return errors;
    },
  };
}

export type Ownership = ReturnType<typeof createOwnership>;
