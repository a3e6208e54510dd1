import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.ts';
import { epochSeconds } from '../clock.ts';
import type { KeyRing } from '../keys/keyring.ts';
import type { Signer } from '../keys/ports.ts';
import { signJwt } from '../jwt/sign.ts';
import { AWS_SOURCE_IDENTITY_CLAIM, AWS_TAGS_CLAIM, withTenantTag } from '../trust/session-tags.ts';
import { CERTIFICATE_CLAIM, type Principal } from './types.ts';

export interface MintDeps {
  issuer: string;
  keyRing: KeyRing;
  signer: Signer;
  clock: Clock;
}

export interface Minted {
  token: string;
  jti: string;
  expiresIn: number;
}

/**
 * A fedbroker access token (RFC 9068): `typ: at+jwt`, audience = the issuer itself, so it is
 * only ever accepted by fedbroker and never mistaken for an ID token.
 */
export async function mintAccessToken(deps: MintDeps, principal: Principal, ttlSeconds: number): Promise<Minted> {
  const iat = epochSeconds(deps.clock);
  const jti = randomUUID();
  const key = await deps.keyRing.activeKey();
  const token = await signJwt(deps.signer, key, 'at+jwt', {
    iss: deps.issuer,
    sub: principal.sub,
    aud: deps.issuer,
    client_id: `${principal.tenant}/${principal.trust}`,
    tenant_id: principal.tenant,
    trust: principal.trust,
    // Binds the token to the relationship's content when it was minted: see lib/auth/standing.ts.
    trust_gen: principal.generation,
    scope: principal.scopes.join(' '),
    jti,
    iat,
    exp: iat + ttlSeconds,
    ...(principal.tags ? { [AWS_TAGS_CLAIM]: principal.tags } : {}),
    ...(principal.sourceIdentity ? { [AWS_SOURCE_IDENTITY_CLAIM]: principal.sourceIdentity } : {}),
    // The anchor, CA and serial that verified a certificate: standing follows the anchor (lib/x509/binding.ts).
    ...(principal.certificate ? { [CERTIFICATE_CLAIM]: { ...principal.certificate } } : {}),
  });
  return { token, jti, expiresIn: ttlSeconds };
}

/** An OIDC ID token for `audience` (`typ: JWT`), e.g. for AWS STS AssumeRoleWithWebIdentity. */
export async function mintIdToken(deps: MintDeps, principal: Principal, audience: string, ttlSeconds: number): Promise<Minted> {
  const iat = epochSeconds(deps.clock);
  const jti = randomUUID();
  const key = await deps.keyRing.activeKey();
  const token = await signJwt(deps.signer, key, 'JWT', {
    iss: deps.issuer,
    sub: principal.sub,
    aud: audience,
    iat,
    nbf: iat,
    exp: iat + ttlSeconds,
    jti,
    tenant_id: principal.tenant,
    trust: principal.trust,
    [AWS_TAGS_CLAIM]: withTenantTag(principal.tenant, principal.tags),
    ...(principal.sourceIdentity ? { [AWS_SOURCE_IDENTITY_CLAIM]: principal.sourceIdentity } : {}),
  });
  return { token, jti, expiresIn: ttlSeconds };
}
