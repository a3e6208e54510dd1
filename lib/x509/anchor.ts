import { createHash } from 'node:crypto';
import { InvalidRequest } from '../errors.ts';
import { RELATIONSHIP_ID } from '../trust/relationship-id.ts';
import * as z from '../zod.ts';
import { type ParsedCertificate, parseCertificate, strongKey } from './certificate.ts';
import { crlBytes, pemBlocks } from './pem.ts';
import { loadPkijs } from './pkijs.ts';

/**
 * Trust anchors (threat model I10, docs/x509.md): a tenant's CA bundle plus optional CRLs. Checked
 * when stored, so a request only ever meets anchors that passed; parsed once per container per
 * content (the cache key is the content hash, as for every tenant document, I1).
 */

/**
 * Caps (threat model I10). An anchor is one DynamoDB item in the tenant's partition (400 KB at
 * most, and read with the tenant on every exchange), hence the bundle and CRL text caps.
 */
export const ANCHOR_LIMITS = {
  anchorsPerTenant: 10,
  certificatesPerBundle: 10,
  bundleBytes: 64 * 1024,
  crlsPerAnchor: 5,
  /** All CRLs of one anchor together, as stored text (PEM or base64). */
  crlBytes: 256 * 1024,
  revokedEntries: 20_000,
} as const;

/** The anchor document the admin API and CLI validate. */
export const trustAnchorInputSchema = z.lazySchema(() =>
  z.strictObject({
    id: z
      .optional(z.string().check(z.regex(RELATIONSHIP_ID, 'lower-case letters, digits and dashes, at most 63')))
      .check(z.describe('Assigned by the server when omitted')),
    description: z.optional(z.string().check(z.maxLength(512))),
    certificates: z
      .string()
      .check(z.minLength(1), z.maxLength(ANCHOR_LIMITS.bundleBytes), z.describe('PEM bundle of one or more CA certificates')),
    crls: z
      ._default(
        z.array(z.string().check(z.minLength(1), z.maxLength(ANCHOR_LIMITS.crlBytes))).check(z.maxLength(ANCHOR_LIMITS.crlsPerAnchor)),
        [],
      )
      .check(z.describe('CRLs (PEM "X509 CRL" or base64 DER), each signed by a CA of this bundle; the newest per CA wins')),
    enabled: z._default(z.boolean(), true),
  }),
);
export type TrustAnchorSpec = z.output<ReturnType<typeof trustAnchorInputSchema>>;
/** A stored anchor: the spec plus the server-managed fields every tenant document has. */
export type TrustAnchor = TrustAnchorSpec & {
  id: string;
  tenant: string;
  version: number;
  generation: string;
  created_at: string;
  updated_at: string;
};

/** Validates an anchor document when it is stored (I10): schema, then every certificate and CRL. */
export async function validateAnchor(raw: unknown, now: Date): Promise<TrustAnchorSpec> {
  const parsed = trustAnchorInputSchema().safeParse(raw);
  if (!parsed.success) {
    throw invalid(parsed.error.issues.map((i) => `${i.path.map(String).join('.') || '(document)'}: ${i.message}`).join('; '));
  }
  if (parsed.data.crls.reduce((n, c) => n + c.length, 0) > ANCHOR_LIMITS.crlBytes) {
    throw invalid(`the CRLs together are over ${ANCHOR_LIMITS.crlBytes} bytes`);
  }
  await parseAnchor({ id: parsed.data.id ?? 'new', ...parsed.data }, now, true);
  return parsed.data;
}

/** The stored content of an anchor (the document the admin API validates). */
export interface TrustAnchorContent {
  id: string;
  enabled: boolean;
  /** PEM, one or more `CERTIFICATE` blocks. */
  certificates: string;
  /** Each a PEM `X509 CRL` block or base64 DER. */
  crls: readonly string[];
}

export interface ParsedCrl {
  /** `caKey` of the anchor CA whose key verified the CRL. */
  readonly issuerKey: string;
  readonly thisUpdate: Date;
  readonly revoked: ReadonlySet<string>;
}

export interface ParsedAnchor {
  readonly id: string;
  readonly enabled: boolean;
  readonly cas: readonly ParsedCertificate[];
  readonly crls: readonly ParsedCrl[];
}

/**
 * Constraint extensions that bind the certificates below a CA: nameConstraints (RFC 5280 §4.2.1.10)
 * and policyConstraints (§4.2.1.11). pkijs's engine applies them for the certificates below the
 * trust anchor only, so an anchor CA's would be silently dropped (red team, I8): such a CA is refused
 * when stored, and a path ending at one is refused (path.ts). The extension names found, or [].
 */
const ANCHOR_IGNORED = { '2.5.29.30': 'nameConstraints', '2.5.29.36': 'policyConstraints' } as Record<string, string>;
export function anchorConstraints(ca: ParsedCertificate): string[] {
  return (ca.pkijs.extensions ?? []).flatMap((e) => (ANCHOR_IGNORED[e.extnID] ? [ANCHOR_IGNORED[e.extnID] as string] : []));
}

function invalid(message: string): InvalidRequest {
  return new InvalidRequest(`invalid trust anchor: ${message}`);
}

function crlDer(text: string): Uint8Array {
  const der = crlBytes(text);
  if (!der) throw invalid('each CRL must be one PEM "X509 CRL" block or base64 DER');
  return der;
}

/**
 * Parses and checks an anchor. `now` decides expiry; `strict` is true when the anchor is being
 * stored (refuse expired CAs, I10) and false when a stored anchor is loaded for a request (an
 * expired CA then simply fails path validation, RFC 5280 §6.1.3 (a)(2)).
 */
export async function parseAnchor(content: TrustAnchorContent, now: Date, strict: boolean): Promise<ParsedAnchor> {
  if (content.certificates.length > ANCHOR_LIMITS.bundleBytes) throw invalid(`the bundle is over ${ANCHOR_LIMITS.bundleBytes} bytes`);
  if (content.crls.length > ANCHOR_LIMITS.crlsPerAnchor) throw invalid(`at most ${ANCHOR_LIMITS.crlsPerAnchor} CRLs`);
  if (content.crls.some((c) => c.length > ANCHOR_LIMITS.crlBytes)) throw invalid(`a CRL is over ${ANCHOR_LIMITS.crlBytes} bytes`);
  let ders: Uint8Array[];
  try {
    ders = pemBlocks(content.certificates, 'CERTIFICATE');
  } catch {
    throw invalid('certificates must be PEM "CERTIFICATE" blocks and nothing else');
  }
  if (ders.length === 0) throw invalid('the bundle holds no certificate');
  if (ders.length > ANCHOR_LIMITS.certificatesPerBundle) throw invalid(`at most ${ANCHOR_LIMITS.certificatesPerBundle} certificates`);
  const cas: ParsedCertificate[] = [];
  for (const [i, der] of ders.entries()) {
    let ca: ParsedCertificate;
    try {
      ca = await parseCertificate(der);
    } catch {
      throw invalid(`certificate ${i + 1} does not parse`);
    }
    if (!ca.ca) throw invalid(`certificate ${i + 1} is not a CA (basicConstraints CA:TRUE)`);
    if (!ca.keyUsage?.keyCertSign) throw invalid(`certificate ${i + 1} lacks keyUsage keyCertSign`);
    if (!strongKey(ca)) throw invalid(`certificate ${i + 1} key must be RSA ≥ 2048 bits or EC P-256/P-384`);
    if (!ca.signatureAlgorithm) throw invalid(`certificate ${i + 1} must be signed with SHA-256 or stronger (RSA PKCS#1 v1.5 or ECDSA)`);
    if (ca.unknownCritical.length > 0) throw invalid(`certificate ${i + 1} has an unsupported critical extension`);
    const ignored = anchorConstraints(ca);
    if (strict && ignored.length > 0) {
      throw invalid(
        `certificate ${i + 1} has ${ignored.join(' and ')}, which path validation never applies to a trust anchor: ` +
          'put its issuer in the bundle and send it in X-Amz-X509-Chain',
      );
    }
    if (strict && ca.notAfter.getTime() < now.getTime()) throw invalid(`certificate ${i + 1} has expired`);
    cas.push(ca);
  }
  const pkijs = await loadPkijs();
  const crls: ParsedCrl[] = [];
  for (const [i, text] of content.crls.entries()) {
    const der = crlDer(text);
    if (der.length === 0 || der.length > ANCHOR_LIMITS.crlBytes)
      throw invalid(`CRL ${i + 1} is empty or over ${ANCHOR_LIMITS.crlBytes} bytes`);
    let crl: InstanceType<typeof pkijs.CertificateRevocationList>;
    try {
      crl = pkijs.CertificateRevocationList.fromBER(der);
    } catch {
      throw invalid(`CRL ${i + 1} does not parse`);
    }
    const issuerDer = Buffer.from(crl.issuer.toSchema().toBER()).toString('hex');
    // RFC 5280 §6.3.3 (f): the CRL issuer is the certificate's issuer and its signature verifies with that CA's key.
    let issuer: ParsedCertificate | undefined;
    for (const ca of cas) {
      if (ca.subjectDer !== issuerDer) continue;
      if (ca.keyUsage && !ca.keyUsage.cRLSign) continue;
      const ok = await crl.verify({ issuerCertificate: ca.pkijs }).catch(() => false);
      if (ok) {
        issuer = ca;
        break;
      }
    }
    if (!issuer) throw invalid(`CRL ${i + 1} is not signed by a CA of this anchor`);
    // RFC 5280 §5.2, §5.3: fedbroker reads only complete CRLs. A delta CRL (deltaCRLIndicator) or one
    // scoped by an issuingDistributionPoint lists part of the issuer's revocations, and would shadow
    // the full CRL as the newest; an indirect CRL's entries (certificateIssuer) are another CA's.
    // Those extensions are critical, and a CRL with a critical extension fedbroker does not process
    // MUST NOT be used: refused, whether critical or not for the three named.
    const partial = new Set(['2.5.29.27', '2.5.29.28', '2.5.29.29']);
    const refusedExtension = (exts: { extnID: string; critical: boolean }[] | undefined) =>
      (exts ?? []).some((x) => x.critical || partial.has(x.extnID));
    if (
      refusedExtension(crl.crlExtensions?.extensions) ||
      (crl.revokedCertificates ?? []).some((r) => refusedExtension(r.crlEntryExtensions?.extensions))
    ) {
      throw invalid(`CRL ${i + 1} is a delta, partitioned or indirect CRL, or has a critical extension: only complete CRLs are accepted`);
    }
    const entries = crl.revokedCertificates ?? [];
    if (entries.length > ANCHOR_LIMITS.revokedEntries) throw invalid(`CRL ${i + 1} has over ${ANCHOR_LIMITS.revokedEntries} entries`);
    const revoked = new Set<string>();
    for (const entry of entries) {
      const bytes = new Uint8Array(entry.userCertificate.valueBlock.valueHexView);
      let start = 0;
      while (start < bytes.length - 1 && bytes[start] === 0) start++;
      revoked.add(Buffer.from(bytes.subarray(start)).toString('hex') || '00');
    }
    crls.push({ issuerKey: issuer.caKey, thisUpdate: crl.thisUpdate.value, revoked });
  }
  return { id: content.id, enabled: content.enabled, cas, crls };
}

/**
 * Parsed anchors by content hash, so a warm container parses and verifies a bundle and its CRLs
 * once. Bounded: the oldest entry goes first past 256.
 */
const cache = new Map<string, Promise<ParsedAnchor>>();

export function loadAnchor(content: TrustAnchorContent, now: Date): Promise<ParsedAnchor> {
  const key = createHash('sha256')
    .update(JSON.stringify([content.id, content.enabled, content.certificates, content.crls]))
    .digest('hex');
  let hit = cache.get(key);
  if (!hit) {
    hit = parseAnchor(content, now, false);
    // A failure is kept too: loading (strict=false) depends on the content alone, and a stored anchor
    // that no longer loads (e.g. a delta CRL stored before those were refused) must not be re-parsed,
    // CRL signatures and all, on every unauthenticated session request of its tenant.
    hit.catch(() => undefined);
    cache.set(key, hit);
    if (cache.size > 256) cache.delete(cache.keys().next().value as string);
  }
  return hit;
}
