import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from 'react';
import { postForm, useTokens } from './api';

/** The two apps of the shell: what a citizen sees, and what an employee (or official) sees. */
export type AppName = 'citizen' | 'employee';

export type SessionUser = {
  uuid: string;
  userName: string;
  name: string;
  mobileNumber?: string | null;
  emailId?: string | null;
  type: 'CITIZEN' | 'EMPLOYEE';
  tenantId: string;
  locale?: string | null;
  roles: { code: string; tenantId: string }[];
};

export type Session = { accessToken: string; refreshToken?: string; expiresAt: number; user: SessionUser };

type TokenAnswer = { access_token: string; refresh_token?: string; expires_in?: number; UserRequest: SessionUser };

type SessionContext = {
  app: AppName;
  /** The state tenant the apps serve (`pb` in the demo): citizens and master data live there. */
  stateTenant: string;
  session: Session | undefined;
  /** Set when the last sign-in ended because the server refused the token (shown on the sign-in page). */
  expired: boolean;
  signIn(username: string, password: string, tenantId: string): Promise<SessionUser>;
  signOut(): void;
  hasRole(...codes: string[]): boolean;
};

const Context = createContext<SessionContext | undefined>(undefined);
const storageKey = (app: AppName) => `plinth.${app}.session`;

function stored(app: AppName): Session | undefined {
  try {
    const value = JSON.parse(localStorage.getItem(storageKey(app)) ?? 'null') as Session | null;
    return value && value.expiresAt > Date.now() ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The signed-in person of one app, kept in this browser's storage until it expires or the server
 * refuses it; a citizen's sign-in and an employee's are separate.
 */
export function SessionProvider({ app, stateTenant, children }: { app: AppName; stateTenant: string; children: ReactNode }) {
  const [session, setSession] = useState<Session | undefined>(() => stored(app));
  const [expired, setExpired] = useState(false);

  const end = useCallback(
    (becauseExpired: boolean) => {
      localStorage.removeItem(storageKey(app));
      setSession(undefined);
      setExpired(becauseExpired);
    },
    [app],
  );

  // Every API call carries this app's token; a 401 ends the session (the router then asks to sign in).
  useTokens({ token: () => stored(app)?.accessToken, expired: () => end(true) });

  const signIn = useCallback(
    async (username: string, password: string, tenantId: string) => {
      const answer = await postForm<TokenAnswer>('/user/oauth/token', {
        username,
        password,
        tenantId,
        userType: app === 'citizen' ? 'CITIZEN' : 'EMPLOYEE',
        grant_type: 'password',
        scope: 'read',
      });
      const next: Session = {
        accessToken: answer.access_token,
        ...(answer.refresh_token ? { refreshToken: answer.refresh_token } : {}),
        expiresAt: Date.now() + (answer.expires_in ?? 3600) * 1000,
        user: answer.UserRequest,
      };
      localStorage.setItem(storageKey(app), JSON.stringify(next));
      setSession(next);
      setExpired(false);
      return next.user;
    },
    [app],
  );

  const value = useMemo<SessionContext>(
    () => ({
      app,
      stateTenant,
      session,
      expired,
      signIn,
      signOut: () => end(false),
      hasRole: (...codes) => (session?.user.roles ?? []).some((r) => codes.includes(r.code)),
    }),
    [app, stateTenant, session, expired, signIn, end],
  );
  return <Context.Provider value={value}>{children}</Context.Provider>;
}

export function useSession(): SessionContext {
  const value = useContext(Context);
  if (!value) throw new Error('useSession outside SessionProvider');
  return value;
}
