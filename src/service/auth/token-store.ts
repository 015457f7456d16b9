import { createHash, randomBytes, randomUUID } from 'node:crypto';

/** What a token allows: `read` the API, `operate` (post runs, act on jobs) too, `admin` everything. */
export const TOKEN_SCOPES = ['read', 'operate', 'admin'] as const;
export type TokenScope = (typeof TOKEN_SCOPES)[number];

/** A token as stored: never the token itself, only what identifies and limits it. */
export interface TokenInfo {
  readonly id: string;
  readonly scope: TokenScope;
  readonly label: string;
  readonly createdAt: number;
  readonly revokedAt: number | null;
}

/** A token just made: `token` is shown this once and stored only as a hash. */
export interface CreatedToken extends TokenInfo {
  readonly token: string;
}

/**
 * Where the service's bearer tokens live: a table in the run store's database, holding the
 * SHA-256 hash of each token (a token is 32 random bytes, so a hash is as good as a slow one).
 *
 * @example
 * const tokens = await openTokenStore('sqlite://.taskflow/runs.db');
 * const { token } = await tokens.create('operate', 'deploy bot'); // print it once
 */
export interface TokenStore {
  create(scope: TokenScope, label: string): Promise<CreatedToken>;
  /** The token's record when it exists and is not revoked; undefined otherwise. */
  verify(token: string): Promise<TokenInfo | undefined>;
  list(): Promise<TokenInfo[]>;
  /** Revokes the token with that id; false when there is none. */
  revoke(id: string): Promise<boolean>;
  close(): Promise<void>;
}

/** The row a backend stores for a token. */
export interface TokenRow {
  readonly id: string;
  readonly hash: string;
  readonly scope: TokenScope;
  readonly label: string;
  readonly createdAt: number;
}

const TOKEN_PREFIX = 'tfs_';

/** A new random token and the row that stores it. */
export function newToken(
  scope: TokenScope,
  label: string,
  now: number,
): { token: string; row: TokenRow } {
  const token = `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
  return { token, row: { id: randomUUID(), hash: hashToken(token), scope, label, createdAt: now } };
}

/** The stored form of a token. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** True when `scope` allows what `needed` does: admin ⊇ operate ⊇ read. */
export function scopeAllows(scope: TokenScope, needed: TokenScope): boolean {
  return TOKEN_SCOPES.indexOf(scope) >= TOKEN_SCOPES.indexOf(needed);
}

export function isTokenScope(value: string): value is TokenScope {
  return (TOKEN_SCOPES as readonly string[]).includes(value);
}
