import { TOKEN_TYPE } from '../../lib/tokens/types.ts';
import { exchangeToken } from '../http.ts';
import { decodeUnverified } from '../output.ts';
import type { Lifetime } from '../refresh.ts';
import type { StoredToken } from '../token-file.ts';

/** An ID token for one audience, with its lifetime as read (unverified) from its own claims. */
interface AudienceIdToken extends Lifetime {
  token: string;
}

/**
 * Issues an ID token for `audience` with the stored access token (scope id-token:issue), the same
 * RFC 8693 request as `auth issue-id-token`. The lifetime comes from the token's `iat`/`exp`, so a
 * refresh loop schedules on what the broker actually granted, not on what was asked.
 */
export async function issueIdTokenFor(stored: StoredToken, audience: string, durationSeconds?: number): Promise<AudienceIdToken> {
  const response = await exchangeToken(stored.endpoint, {
    subject_token: stored.access_token,
    subject_token_type: TOKEN_TYPE.accessToken,
    requested_token_type: TOKEN_TYPE.idToken,
    audience,
    duration_seconds: durationSeconds?.toString(),
  });
  const claims = decodeUnverified(response.access_token).payload;
  const now = Date.now();
  return {
    token: response.access_token,
    issuedAt: typeof claims.iat === 'number' ? claims.iat * 1000 : now,
    expiresAt: typeof claims.exp === 'number' ? claims.exp * 1000 : now + response.expires_in * 1000,
  };
}
