import { describe, expect, it } from 'vitest';
import { Compile } from 'typebox/compile';
import { TaskInput } from './task.schema.js';
import { taskProblem } from './task.service.js';

const base = { tenantId: 'pb.amritsar', clientReferenceId: 'task-1', projectId: 'PJT-1', projectBeneficiaryClientReferenceId: 'child-1' };

describe('task rules', () => {
  it('needs a beneficiary link, by server id or client reference id', () => {
    expect(taskProblem(base)).toBeUndefined();
    expect(taskProblem({ ...base, projectBeneficiaryClientReferenceId: null, projectBeneficiaryId: 'PB-1' })).toBeUndefined();
    expect(taskProblem({ ...base, projectBeneficiaryClientReferenceId: null })?.code).toBe('REQUIRED_LINK_MISSING');
  });

  it('refuses date ranges that run backwards, planned or actual; open ends are fine', () => {
    expect(taskProblem({ ...base, plannedStartDate: 10, plannedEndDate: 10 })).toBeUndefined();
    expect(taskProblem({ ...base, plannedStartDate: 10, plannedEndDate: null })).toBeUndefined();
    expect(taskProblem({ ...base, plannedStartDate: 10, plannedEndDate: 9 })?.code).toBe('INVALID_DATE_RANGE');
    expect(taskProblem({ ...base, actualStartDate: 10, actualEndDate: 9 })?.code).toBe('INVALID_DATE_RANGE');
  });

  it("takes null for optional numbers (they are declared as type lists, which the HTTP layer's coercion leaves alone)", () => {
    const check = Compile(TaskInput);
    expect(
      check.Check({ ...base, plannedStartDate: null, rowVersion: null, resources: [{ productVariantId: 'PV', quantity: null }] }),
    ).toBe(true);
    expect(check.Check({ ...base, plannedStartDate: -1 })).toBe(false);
    expect(check.Check({ ...base, plannedStartDate: 1.5 })).toBe(false);
    expect(check.Check({ ...base, status: 'DONE' })).toBe(false);
    expect(check.Check({ ...base, projectId: undefined })).toBe(false);
  });
});
