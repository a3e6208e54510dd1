import { explainedRelationships, standingChecks } from '../tenants/evaluated-relationships.ts';
import { byId } from '../code-unit-order.ts';
import type { Clock } from '../clock.ts';
import type { Config } from '../config.ts';
import type { TenantDirectory } from '../directory/directory.ts';
import type { TrustStore } from '../directory/ports.ts';
import { CertificateRefused, InvalidRequest, InvalidScope, SubjectTokenInvalid } from '../errors.ts';
import { describeError, logger } from '../log.ts';
import { MAX_RELATIONSHIPS, SCOPES, type Scope, TENANT_ID } from '../tenants/tenant.ts';
import { mintAccessToken, type MintDeps } from '../tokens/mint.ts';
import { TOKEN_TYPE, type Principal } from '../tokens/types.ts';
import { requestBudget } from '../trust/limits.ts';
import { RELATIONSHIP_ID } from '../trust/relationship-id.ts';
import { type Check, type CompiledTrust, compileRelationship, type TrustContext, X509_ANCHOR_CLAIM } from '../trust/policy.ts';
import { renderIdentity } from '../trust/identity.ts';
import { contextValues, withRequestContext } from '../trust/context.ts';
import { ANCHOR_LIMITS, loadAnchor, type ParsedAnchor, type TrustAnchor } from '../x509/anchor.ts';
import { caFingerprint, nameHash, SERIAL_HEX } from '../x509/binding.ts';
import { certificateClaims, parseCertificate } from '../x509/certificate.ts';
import { pemBlocks } from '../x509/pem.ts';
import { verifyPath } from '../x509/path.ts';
import { type NonceStore, verifyCertificateRequest } from '../x509/session.ts';
import type { SignedRequest } from '../x509/sigv4.ts';
import type { ExchangeResponse } from './exchange.ts';
import { exchangeVerdict, tenantStanding, verdictFor } from './explain-verdict.ts';

/**
 * Certificates in (docs/x509.md): a request signed the IAM Roles Anywhere way, verified against
 * the tenant's trust anchors (threat model I8, I9), then matched against the tenant's `x509`
 * trust relationships exactly as a token's claims are, and answered with the same fedbroker
 * access token `/v1/token` issues, so every output (ID tokens, Cognito, AWS) works unchanged.
 */

export interface X509Deps extends MintDeps {
  config: Pick<Config, 'tokens'>;
  directory: TenantDirectory;
  nonces: NonceStore;
  clock: Clock;
}

/** The JSON body of a session request (signed, through its SHA-256 in the canonical request). */
interface SessionBody {
  durationSeconds?: number;
  scope?: string;
  /** A relationship id to use rather than the first that matches in id order. */
  trust?: string;
}

export interface X509Outcome {
  response: ExchangeResponse;
  principal: Principal;
  jti: string;
  certificate: { subject: string; issuer: string; serial: string; anchor: string };
}

const MAX_SESSION_BODY = 4 * 1024;

function parseBody(body: Uint8Array): SessionBody {
  if (body.length > MAX_SESSION_BODY) throw new InvalidRequest('request body is too large');
  if (body.length === 0) return {};
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(body).toString('utf8'));
  } catch {
    throw new InvalidRequest('the body must be a JSON object');
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new InvalidRequest('the body must be a JSON object');
  const o = raw as Record<string, unknown>;
  const known = new Set(['durationSeconds', 'scope', 'trust', 'nonce']);
  const unknown = Object.keys(o).find((k) => !known.has(k));
  if (unknown !== undefined) throw new InvalidRequest(`unknown body member ${JSON.stringify(unknown.slice(0, 64))}`);
  const { durationSeconds, scope, trust, nonce } = o;
  if (durationSeconds !== undefined && (!Number.isInteger(durationSeconds) || (durationSeconds as number) < 60)) {
    throw new InvalidRequest('durationSeconds must be a whole number of seconds, at least 60');
  }
  if (scope !== undefined && (typeof scope !== 'string' || scope.length > 256)) throw new InvalidRequest('scope must be a string');
  if (trust !== undefined && (typeof trust !== 'string' || !/^[a-z0-9][a-z0-9-]{0,62}$/.test(trust))) {
    throw new InvalidRequest('trust must be a trust relationship id');
  }
  if (nonce !== undefined && (typeof nonce !== 'string' || nonce.length > 128)) throw new InvalidRequest('nonce must be a string');
  return {
    ...(durationSeconds !== undefined ? { durationSeconds: durationSeconds as number } : {}),
    ...(scope !== undefined ? { scope: scope as string } : {}),
    ...(trust !== undefined ? { trust: trust as string } : {}),
  };
}

function parseScopes(raw: string | undefined): Scope[] | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  const scopes = raw.split(' ').filter(Boolean);
  const unknown = scopes.find((s) => !(SCOPES as readonly string[]).includes(s));
  if (unknown !== undefined) throw new InvalidScope(`unknown scope ${JSON.stringify(unknown.slice(0, 64))}`);
  return [...new Set(scopes as Scope[])];
}

/**
 * The tenant's anchors, parsed (cached by content); one that no longer parses is skipped, never trusted.
 * The cap is checked by a read before the write, so concurrent creates can overshoot it (40 at once
 * stored 21): as for relationships, only the first `anchorsPerTenant` by id are ever used (I10).
 */
async function tenantAnchors(tenant: string, stored: readonly TrustAnchor[], now: Date): Promise<ParsedAnchor[]> {
  const out: ParsedAnchor[] = [];
  const usable = [...stored].sort(byId).slice(0, ANCHOR_LIMITS.anchorsPerTenant);
  for (const a of usable) {
    try {
      out.push(await loadAnchor({ id: a.id, enabled: a.enabled, certificates: a.certificates, crls: a.crls ?? [] }, now));
    } catch (e) {
      logger.error('stored trust anchor does not parse; it can never verify a certificate', {
        tenant,
        anchor: a.id,
        error: describeError(e),
      });
    }
  }
  return out;
}

/**
 * Whether a session can carry these serials: every certificate below the anchor within
 * `SERIAL_HEX` (what the access token's binding records, lib/x509/binding.ts), and the leaf's in at
 * most 64 decimal digits (the SigV4 credential scope, lib/x509/sigv4.ts). Sessions and
 * `x509:explain` refuse the same certificates (threat model I3).
 */
function serialsUsable(leaf: { serialDecimal: string }, below: readonly { serialHex: string }[]): boolean {
  return leaf.serialDecimal.length <= 64 && below.every((c) => SERIAL_HEX.test(c.serialHex));
}

/** `x509` relationships naming `anchor`, in id order, capped as the exchange path caps relationships. */
function candidatesFor(trusts: readonly CompiledTrust[], anchor: string): CompiledTrust[] {
  return trusts.filter((t) => t.relationship.kind === 'x509' && t.relationship.trust_anchors.includes(anchor)).slice(0, MAX_RELATIONSHIPS);
}

/**
 * Verifies a signed certificate request for `tenant` and issues a fedbroker access token. Throws
 * CertificateRefused for every refusal of the certificate.
 */
export async function certificateSession(deps: X509Deps, tenant: string, req: SignedRequest, sourceIp?: string): Promise<X509Outcome> {
  if (!TENANT_ID.test(tenant)) throw new CertificateRefused('unknown_tenant');
  deps.keyRing.warm();
  const body = parseBody(req.body);
  const requestedScopes = parseScopes(body.scope);
  const view = await deps.directory.get(tenant);
  if (!view.tenant) throw new CertificateRefused('unknown_tenant');
  if (view.tenant.status !== 'active') throw new CertificateRefused('tenant');
  const now = new Date(deps.clock.now());
  const anchors = await tenantAnchors(tenant, view.anchors ?? [], now);
  let verified: Awaited<ReturnType<typeof verifyCertificateRequest>>;
  try {
    verified = await verifyCertificateRequest(req, anchors, deps.nonces, now);
  } catch (e) {
    if (e instanceof CertificateRefused) throw new CertificateRefused(e.reason, { cause: e, certificate: await presented(req) });
    throw e;
  }
  const leaf = verified.leaf;
  const certificate = { subject: leaf.subjectDn, issuer: leaf.issuerDn, serial: leaf.serialHex, anchor: verified.anchor.id };
  const refuse = (reason: string, cause?: unknown) => new CertificateRefused(reason, { cause, certificate });
  // What the access token records of the path, so its standing follows the anchor (lib/x509/binding.ts):
  // the anchor CA the path ended at, and each certificate below it by serial and issuer name.
  const below = verified.path.slice(0, -1);
  const binding = {
    anchor: verified.anchor.id,
    ca: caFingerprint((verified.path.at(-1) as (typeof verified.path)[number]).der),
    serials: below.map((c) => [c.serialHex, nameHash(c.issuerDer)] as const),
  };
  if (!serialsUsable(verified.leaf, below)) throw refuse('malformed_certificate');
  const claims: Record<string, unknown> = { ...verified.claims, [X509_ANCHOR_CLAIM]: verified.anchor.id };
  const seen = withRequestContext(claims, { now: deps.clock.now(), sourceIp });
  const candidates = candidatesFor(view.trusts, verified.anchor.id).filter(
    (t) => body.trust === undefined || t.relationship.id === body.trust,
  );
  const budget = requestBudget();
  const trust = candidates.find((t) => t.evaluate(seen, budget, 'first-failure').matched);
  if (!trust) throw refuse(budget.remaining <= 0 ? 'evaluation_budget' : 'no_matching_trust');
  const relationship = trust.relationship;
  let sub: string;
  let tags: Principal['tags'];
  let sourceIdentity: string | undefined;
  try {
    ({ sub, tags, sourceIdentity } = renderIdentity(relationship, tenant, claims));
  } catch (e) {
    if (e instanceof SubjectTokenInvalid) throw refuse(e.reason, e);
    throw e;
  }
  if (requestedScopes?.some((s) => !relationship.scopes.includes(s)))
    throw new InvalidScope('a requested scope is not granted to this principal');
  const scopes = requestedScopes ?? relationship.scopes;
  const cap = Math.min(relationship.max_duration_seconds, deps.config.tokens.accessTokenMaxTtl);
  if (body.durationSeconds !== undefined && body.durationSeconds > cap) {
    throw new InvalidRequest(`durationSeconds exceeds the maximum of ${cap} allowed here`);
  }
  const ttl = body.durationSeconds ?? Math.min(deps.config.tokens.accessTokenTtl, cap);
  const principal: Principal = {
    tenant,
    trust: relationship.id,
    generation: relationship.generation,
    sub,
    scopes,
    tags,
    ...(sourceIdentity ? { sourceIdentity } : {}),
    certificate: binding,
  };
  const minted = await mintAccessToken(deps, principal, ttl);
  return {
    principal,
    jti: minted.jti,
    certificate,
    response: {
      access_token: minted.token,
      issued_token_type: TOKEN_TYPE.accessToken,
      token_type: 'Bearer',
      expires_in: ttl,
      scope: scopes.join(' '),
    },
  };
}

/** Best effort: what the request's leaf says about itself, unverified, for a refusal's audit record. */
async function presented(req: SignedRequest): Promise<{ subject?: string; issuer?: string; serial?: string } | undefined> {
  const header = Object.entries(req.headers).find(([k]) => k.toLowerCase() === 'x-amz-x509')?.[1];
  if (!header || header.length > 16 * 1024) return undefined;
  try {
    const leaf = await parseCertificate(new Uint8Array(Buffer.from(header, 'base64')));
    return { subject: leaf.subjectDn, issuer: leaf.issuerDn, serial: leaf.serialHex };
  } catch {
    return undefined;
  }
}

/**
 * `:explain` for a certificate (tenant admins): verifies `certificate` (PEM or base64 DER) and
 * optional `intermediates` against the tenant's anchors as a session would (no signature or nonce:
 * the admin is authenticated, nothing is issued), then evaluates every relationship and says which
 * attribute failed which condition. Conditions run only over a certificate whose path verified (I3).
 */
export async function explainCertificate(
  deps: { store: TrustStore; clock: Clock; context: TrustContext },
  tenant: string,
  body: { certificate?: unknown; intermediates?: unknown; source_ip?: unknown; trust?: unknown },
) {
  const der = (v: unknown): Uint8Array => {
    if (typeof v !== 'string' || v.length === 0 || v.length > 16 * 1024) throw new InvalidRequest('certificate must be PEM or base64 DER');
    try {
      const blocks = v.includes('-----BEGIN') ? pemBlocks(v, 'CERTIFICATE') : [new Uint8Array(Buffer.from(v.trim(), 'base64'))];
      if (blocks.length !== 1) throw new Error('one certificate');
      return blocks[0] as Uint8Array;
    } catch {
      throw new InvalidRequest('certificate must be one PEM CERTIFICATE block or base64 DER');
    }
  };
  const leafDer = der(body.certificate);
  // What-if: the relationship a session names in its `trust` member (certificateSession).
  if (body.trust !== undefined && (typeof body.trust !== 'string' || !RELATIONSHIP_ID.test(body.trust))) {
    throw new InvalidRequest('trust must be a trust relationship id');
  }
  const trust = body.trust as string | undefined;
  if (body.intermediates !== undefined && (!Array.isArray(body.intermediates) || body.intermediates.length > 5)) {
    throw new InvalidRequest('intermediates must be an array of at most 5 certificates');
  }
  const chain = ((body.intermediates as unknown[] | undefined) ?? []).map(der);
  const record = await deps.store.readTenant(tenant);
  const now = new Date(deps.clock.now());
  const anchors = await tenantAnchors(tenant, record.anchors ?? [], now);
  let claims: Record<string, unknown> | undefined;
  let anchor: string | undefined;
  let reason: string | undefined;
  try {
    const path = await verifyPath(leafDer, chain, anchors, now);
    if (!serialsUsable(path.leaf, path.path.slice(0, -1))) throw new CertificateRefused('malformed_certificate');
    anchor = path.anchor.id;
    claims = { ...certificateClaims(path.leaf), [X509_ANCHOR_CLAIM]: anchor };
  } catch (e) {
    if (!(e instanceof CertificateRefused)) throw e;
    reason = e.reason;
  }
  // Exactly the x509 relationships a session evaluates: the cap applies across all kinds first,
  // as in the tenant view sessions read (threat model I3).
  const trusts = explainedRelationships(record.relationships)
    .filter((entry) => entry.relationship.kind === 'x509')
    .flatMap((entry) => {
      try {
        return [
          { ...compileRelationship(entry.relationship, deps.context), standing: standingChecks(entry), unevaluated: entry.unevaluated },
        ];
      } catch {
        return [];
      }
    });
  // What-if: the admin may name the source address to explain; the clock is the broker's.
  const ctx = { now: deps.clock.now(), sourceIp: typeof body.source_ip === 'string' ? body.source_ip.slice(0, 64) : undefined };
  const seen = claims ? withRequestContext(claims, ctx) : undefined;
  // The session's candidates (candidatesFor): evaluated x509 relationships naming the anchor. Their
  // `matched` is the session's verdict, reached its way (id order, first failed check, one budget);
  // the checks shown are evaluated again for them with a second budget, and no other
  // relationship's conditions are evaluated (threat model I3).
  const anchorsOf = (t: CompiledTrust) => (t.relationship.kind === 'x509' ? t.relationship.trust_anchors : []);
  // As the session: a tenant that is not active admits nothing, and `trust` narrows the candidates.
  const standing = tenantStanding(record);
  const candidates =
    !standing && seen && anchor
      ? trusts.filter((t) => !t.unevaluated && anchorsOf(t).includes(anchor) && (trust === undefined || t.relationship.id === trust))
      : [];
  const verdict = seen && claims ? exchangeVerdict(candidates, seen, claims, tenant) : {};
  const shown = requestBudget();
  return {
    verified: claims !== undefined,
    context: contextValues(ctx),
    // The session refuses an inactive tenant before it looks at the certificate.
    ...((standing ?? reason) ? { reason: standing ?? reason } : {}),
    ...(anchor ? { anchor } : {}),
    ...(claims ? { attributes: claims } : {}),
    relationships: trusts.map((t) => {
      const considered = seen !== undefined && candidates.includes(t);
      // One the session would not consider: the check that keeps it out, and none of its conditions.
      const elsewhere: Check[] = !anchor
        ? []
        : !anchorsOf(t).includes(anchor)
          ? [{ check: 'trust_anchor', matched: false, expected: anchorsOf(t), seen: anchor }]
          : trust !== undefined && t.relationship.id !== trust
            ? [{ check: 'trust', matched: false, expected: trust, seen: t.relationship.id }]
            : [];
      const own = considered && seen ? t.evaluate(seen, shown).checks : [];
      const { matched, extra } = verdictFor(t, own, verdict);
      const checks: Check[] = [...t.standing, ...(considered ? own : t.unevaluated ? [] : elsewhere), ...extra];
      return { id: t.relationship.id, matched, checks };
    }),
  };
}
