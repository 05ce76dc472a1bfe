// Who the caller is, as DIGIT's gateway puts it into every request (kept apart from auth.ts so
// that the scope, which auth.ts computes, can name it without an import cycle).

export type UserType = 'CITIZEN' | 'EMPLOYEE' | 'SYSTEM' | 'BUSINESS';

export type RoleGrant = { code: string; name?: string | null; tenantId: string };

/** DIGIT's `RequestInfo.userInfo`, as the gateway puts it into every request. */
export type UserInfo = {
  id: number;
  uuid: string;
  userName: string;
  name: string | null;
  mobileNumber: string | null;
  emailId: string | null;
  type: UserType;
  tenantId: string;
  roles: RoleGrant[];
};
