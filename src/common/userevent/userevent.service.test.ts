import { describe, expect, it } from 'vitest';
import type { UserInfo } from '../../kernel/auth.js';
import { isSafeActionUrl, visibilityOf } from './userevent.service.js';

const user = (type: UserInfo['type'], roles: string[]): UserInfo => ({
  id: 1, uuid: 'u', userName: 'u', name: null, mobileNumber: null, emailId: null, type, tenantId: 'pb', roles: roles.map((code) => ({ code, tenantId: 'pb' })),
});

describe('user event rules', () => {
  it('lets action links stay in the app or go to http(s), never to script', () => {
    for (const ok of ['/digit-ui/citizen/pgr', 'https://pb.gov.in/x', 'http://localhost:8080/a']) expect(isSafeActionUrl(ok), ok).toBe(true);
    for (const bad of ['javascript:alert(1)', 'data:text/html,x', '//evil.example/x', '/\\evil.example', 'vbscript:x', 'evil']) expect(isSafeActionUrl(bad), bad).toBe(false);
  });

  it('gives citizens their own events, employees theirs and what they posted, SUPERUSER all', () => {
    expect(visibilityOf(user('CITIZEN', ['CITIZEN']))).toBe('addressed');
    expect(visibilityOf(user('CITIZEN', ['CITIZEN', 'SUPERUSER']))).toBe('addressed');
    expect(visibilityOf(user('EMPLOYEE', ['EMPLOYEE']))).toBe('addressedOrPosted');
    expect(visibilityOf(user('EMPLOYEE', ['EMPLOYEE', 'SUPERUSER']))).toBe('all');
  });
});
