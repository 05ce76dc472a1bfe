import { randomInt } from 'node:crypto';
import { hash, verify } from '@node-rs/argon2';

// @node-rs/argon2's Algorithm is an ambient const enum; 2 is Argon2id.
const ARGON2ID = 2;

/**
 * argon2id with OWASP's first recommended setting (19 MiB, 2 passes, 1 lane): ≈ 30–60 ms a
 * hash on our 2-core machines, measured by `npm run bench`.
 */
export const ARGON2_PARAMS = { algorithm: ARGON2ID, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

/** DIGIT's policy (egov.user.pwd.pattern): 8–15 characters with a digit, a lower- and an upper-case letter and one of @#$%. */
export const PASSWORD_POLICY = /^(?=.*[0-9])(?=.*[a-z])(?=.*[A-Z])(?=.*[@#$%]).{8,15}$/;
export const PASSWORD_POLICY_TEXT = 'Passwords must be 8 to 15 characters with at least one digit, one lower-case letter, one upper-case letter and one of @ # $ %';

export function meetsPolicy(password: string): boolean {
  return PASSWORD_POLICY.test(password);
}

export function hashPassword(password: string): Promise<string> {
  return hash(password, ARGON2_PARAMS);
}

// Checked when the user does not exist, so a missing account costs the same time as a wrong password.
let decoy: Promise<string> | undefined;

export async function verifyPassword(passwordHash: string | null, password: string): Promise<boolean> {
  if (passwordHash === null) {
    decoy ??= hash('decoy-password-never-matches', ARGON2_PARAMS);
    await verify(await decoy, password).catch(() => false);
    return false;
  }
  return verify(passwordHash, password).catch(() => false);
}

/** 15 characters from a CSPRNG (≈ 85 bits), always meeting DIGIT's policy (whose maximum length is 15). */
export function generatedPassword(): string {
  const pick = (alphabet: string) => alphabet[randomInt(alphabet.length)]!;
  const any = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';
  const chars = [pick('ABCDEFGHJKLMNPQRSTUVWXYZ'), pick('abcdefghijkmnopqrstuvwxyz'), pick('23456789'), pick('@#$%')];
  while (chars.length < 15) chars.push(pick(any));
  // Shuffle, so the required classes do not sit at fixed positions.
  for (let i = chars.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [chars[i], chars[j]] = [chars[j]!, chars[i]!];
  }
  return chars.join('');
}
