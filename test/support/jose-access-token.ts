// fedbroker's access-token JWS check as it was with jose (lib/tokens/access-token.ts before
// issue #15): the reference the in-thread verifier is compared with. The options, the key lookup
// and the mapping of jose's errors to reasons are copied unchanged; only the deny-list cache and
// the principal checks after the signature are left out (both are the same code either way).
import { errors, importJWK, jwtVerify, type JWTPayload } from 'jose';
import type { Clock } from '../../lib/clock.ts';
import { SubjectTokenInvalid } from '../../lib/errors.ts';
import type { KeyRing } from '../../lib/keys/keyring.ts';
import { MAX_TOKEN_BYTES } from '../../lib/limits.ts';
import { CLOCK_TOLERANCE } from '../../lib/tokens/access-token.ts';

const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** The payload and kid jose's jwtVerify accepted, or the SubjectTokenInvalid the old code threw. */
export async function joseVerifyAccessToken(
  token: string,
  deps: { issuer: string; keyRing: KeyRing; clock: Clock },
): Promise<{ payload: JWTPayload; kid: string | undefined }> {
  if (token.length > MAX_TOKEN_BYTES) throw new SubjectTokenInvalid('too_large', 'token is too large');
  if (!COMPACT_JWS.test(token)) throw new SubjectTokenInvalid('malformed', 'token is not a compact JWS');
  try {
    const result = await jwtVerify(token, (header) => keyFor(deps.keyRing, header.kid, header.alg), {
      issuer: deps.issuer,
      audience: deps.issuer,
      typ: 'at+jwt',
      algorithms: ['RS256', 'ES256'],
      requiredClaims: ['exp', 'iat', 'jti', 'sub'],
      currentDate: new Date(deps.clock.now()),
      clockTolerance: CLOCK_TOLERANCE,
    });
    return { payload: result.payload, kid: result.protectedHeader.kid };
  } catch (e) {
    if (e instanceof SubjectTokenInvalid) throw e;
    if (e instanceof errors.JWTExpired) throw new SubjectTokenInvalid('expired', 'fedbroker access token has expired');
    if (e instanceof errors.JOSEError) throw new SubjectTokenInvalid('invalid', 'not a valid fedbroker access token');
    throw e;
  }
}

const imported = new Map<string, ReturnType<typeof importJWK>>();

async function keyFor(keyRing: KeyRing, kid: string | undefined, alg: string | undefined) {
  const key = (await keyRing.publishedKeys()).find((k) => k.kid === kid);
  if (!key || key.alg !== alg) throw new SubjectTokenInvalid('unknown_key', 'token was not signed by a current fedbroker key');
  // By kid and key material: a test's key ring may publish another key under a kid it used before.
  const id = `${key.kid}.${key.n ?? key.x}`;
  let pending = imported.get(id);
  if (!pending) {
    pending = importJWK(key, key.alg);
    imported.set(id, pending);
  }
  return pending;
}
