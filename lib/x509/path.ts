import { verify } from 'node:crypto';
import { CertificateRefused } from '../errors.ts';
import { anchorConstraints, type ParsedAnchor } from './anchor.ts';
import { type ParsedCertificate, parseCertificate, strongKey } from './certificate.ts';
import { loadPkijs } from './pkijs.ts';

/** Most intermediates a request may present (X-Amz-X509-Chain): bounds parse and verify cost (I3, I8). */
export const MAX_INTERMEDIATES = 5;

export interface VerifiedPath {
  readonly leaf: ParsedCertificate;
  readonly anchor: ParsedAnchor;
  /** Leaf first, anchor CA last. */
  readonly path: readonly ParsedCertificate[];
}

const refuse = (reason: string) => new CertificateRefused(reason);

function inValidity(cert: ParsedCertificate, now: Date, role: 'leaf' | 'intermediate' | 'anchor'): void {
  if (now.getTime() < cert.notBefore.getTime()) throw refuse(`${role}_not_yet_valid`);
  if (now.getTime() > cert.notAfter.getTime()) throw refuse(`${role}_expired`);
}

function profile(cert: ParsedCertificate): void {
  if (cert.unknownCritical.length > 0) throw refuse('unknown_critical_extension');
  if (!strongKey(cert)) throw refuse('weak_key');
  if (!cert.signatureAlgorithm) throw refuse('weak_signature_algorithm');
}

/**
 * RFC 5280 §6.1 path validation of `leaf` + `intermediates` (leaf's issuer first) to a CA of one of
 * `anchors` (the tenant's, threat model I8). fedbroker's profile is checked first, so each refusal
 * has its own reason; pkijs's `CertificateChainValidationEngine` then validates the same path and
 * has the last word. Throws `CertificateRefused`.
 */
export async function verifyPath(
  leafDer: Uint8Array,
  intermediateDers: readonly Uint8Array[],
  anchors: readonly ParsedAnchor[],
  now: Date,
): Promise<VerifiedPath> {
  if (intermediateDers.length > MAX_INTERMEDIATES) throw refuse('chain_too_long');
  const leaf = await parseCertificate(leafDer);
  const intermediates: ParsedCertificate[] = [];
  for (const der of intermediateDers) intermediates.push(await parseCertificate(der));
  // A chain that ends with the anchor CA itself (clients often send the whole bundle): the anchor is
  // the trust anchor, not part of the path (RFC 5280 §6.1: the path runs from the certificate the
  // anchor issued), so an exact copy of an anchor CA at the end is dropped before validation.
  const anchorDers = new Set(anchors.flatMap((a) => a.cas.map((c) => Buffer.from(c.der).toString('base64'))));
  while (intermediates.length > 0 && anchorDers.has(Buffer.from((intermediates.at(-1) as ParsedCertificate).der).toString('base64'))) {
    intermediates.pop();
  }

  inValidity(leaf, now, 'leaf');
  profile(leaf);
  // RFC 5280 §4.2.1.9: an end entity is not a CA; §4.2.1.3: its key must be allowed to sign requests.
  if (leaf.ca) throw refuse('leaf_is_ca');
  if (!leaf.keyUsage?.digitalSignature) throw refuse('leaf_key_usage');

  // The chain must be in order: each certificate is issued by the next (RFC 5280 §6.1 (a)(4)).
  const presented = [leaf, ...intermediates];
  for (let i = 1; i < presented.length; i++) {
    if ((presented[i - 1] as ParsedCertificate).issuerDer !== (presented[i] as ParsedCertificate).subjectDer) throw refuse('chain_order');
  }
  for (const ca of intermediates) {
    inValidity(ca, now, 'intermediate');
    profile(ca);
    if (!ca.ca) throw refuse('intermediate_not_ca');
    if (ca.keyUsage && !ca.keyUsage.keyCertSign) throw refuse('intermediate_key_usage');
  }

  const top = presented[presented.length - 1] as ParsedCertificate;
  const candidates = (enabled: boolean) =>
    anchors
      .filter((a) => a.enabled === enabled)
      .flatMap((a) => a.cas.filter((ca) => ca.subjectDer === top.issuerDer).map((ca) => ({ a, ca })));
  const trusted = candidates(true);
  if (trusted.length === 0) throw refuse(candidates(false).length > 0 ? 'anchor_disabled' : 'untrusted_issuer');

  const pkijs = await loadPkijs();
  const engine = new pkijs.CertificateChainValidationEngine({
    trustedCerts: trusted.map((t) => t.ca.pkijs),
    // pkijs takes the LAST element of trustedCerts + certs as the certificate to validate, so the leaf goes last.
    certs: [...intermediates.map((c) => c.pkijs), leaf.pkijs],
    checkDate: now,
  });
  let result: Awaited<ReturnType<typeof engine.verify>>;
  try {
    result = await engine.verify();
  } catch {
    throw refuse('path_invalid');
  }
  const built = result.certificatePath ?? [];
  // The path pkijs validated must be exactly the one presented, leaf first, plus one anchor CA.
  const same = built.length === presented.length + 1 && presented.every((c, i) => built[i] === c.pkijs);
  if (!result.result || !same) throw refuse(result.result ? 'path_invalid' : pathReason(result.resultMessage));
  const root = built[built.length - 1];
  const match = trusted.find((t) => t.ca.pkijs === root);
  if (!match) throw refuse('path_invalid');
  const path = [...presented, match.ca];
  inValidity(match.ca, now, 'anchor');
  // pkijs never applies the trust anchor's own name or policy constraints: a constrained anchor CA would
  // vouch for any name (policy) below it.
  const ignored = anchorConstraints(match.ca);
  if (ignored.includes('nameConstraints')) throw refuse('anchor_name_constraints');
  if (ignored.length > 0) throw refuse('anchor_policy_constraints');

  // Every signature of the path once more with OpenSSL (Node's crypto), which reads ECDSA
  // signatures as strict DER and refuses r, s out of range: pkijs's WebCrypto path takes the last
  // bytes of each integer, so a signature with a changed leading byte verified there (mutation property).
  for (let i = 0; i + 1 < path.length; i++) {
    const cert = path[i] as ParsedCertificate;
    const issuer = path[i + 1] as ParsedCertificate;
    if (!strictSignature(cert, issuer)) throw refuse('chain_signature');
  }

  // RFC 5280 §4.2.1.9 / §6.1.4 (l)-(m): a CA's pathLenConstraint bounds the non-self-issued
  // intermediates below it. pkijs checks it too; stated here so the refusal has its own reason.
  for (let i = 1; i < path.length; i++) {
    const ca = path[i] as ParsedCertificate;
    const below = path.slice(1, i).filter((c) => c.subjectDer !== c.issuerDer).length;
    if (ca.pathLen !== undefined && below > ca.pathLen) throw refuse('path_length');
  }

  // Revocation (RFC 5280 §6.3): the newest CRL that the issuing CA signed, among the CRLs of every
  // anchor of the tenant, enabled or not: a CRL is its CA's word on its serials wherever it was
  // uploaded, so a copy of the CA in another anchor never admits what it revoked (red team, I8).
  const allCrls = anchors.flatMap((a) => a.crls);
  for (let i = 0; i + 1 < path.length; i++) {
    const cert = path[i] as ParsedCertificate;
    const issuer = path[i + 1] as ParsedCertificate;
    // Several CRLs with the same newest thisUpdate: the serial is refused if any lists it (refuse
    // more, never less), whatever order they were uploaded in.
    let newest: ParsedAnchor['crls'][number][] = [];
    for (const crl of allCrls) {
      if (crl.issuerKey !== issuer.caKey) continue;
      const t = crl.thisUpdate.getTime();
      const top = newest[0]?.thisUpdate.getTime();
      if (top === undefined || t > top) newest = [crl];
      else if (t === top) newest.push(crl);
    }
    if (newest.some((crl) => crl.revoked.has(cert.serialHex))) throw refuse('revoked');
  }
  return { leaf, anchor: match.a, path };
}

/** pkijs's messages mapped to stable reasons where they say which RFC 5280 check failed. */
function pathReason(message: string): string {
  const m = message.toLowerCase();
  if (m.includes('path length') || m.includes('pathlen')) return 'path_length';
  if (m.includes('basic constraints') || m.includes('ca flag')) return 'intermediate_not_ca';
  if (m.includes('signature')) return 'chain_signature';
  return 'path_invalid';
}

const HASHES: Record<string, string> = {
  'RSA-SHA256': 'sha256',
  'RSA-SHA384': 'sha384',
  'RSA-SHA512': 'sha512',
  'ECDSA-SHA256': 'sha256',
  'ECDSA-SHA384': 'sha384',
  'ECDSA-SHA512': 'sha512',
};

/** `cert`'s signature over its TBSCertificate, by `issuer`'s key (RFC 5280 §6.1.3 (a)(1)), checked by OpenSSL. */
function strictSignature(cert: ParsedCertificate, issuer: ParsedCertificate): boolean {
  const hash = cert.signatureAlgorithm ? HASHES[cert.signatureAlgorithm] : undefined;
  if (!hash) return false;
  const ecdsa = cert.signatureAlgorithm?.startsWith('ECDSA') === true;
  if (ecdsa !== (issuer.keyType === 'ec')) return false;
  try {
    return verify(
      hash,
      cert.pkijs.tbsView,
      ecdsa ? { key: issuer.publicKey, dsaEncoding: 'der' } : issuer.publicKey,
      new Uint8Array(cert.pkijs.signatureValue.valueBlock.valueHexView),
    );
  } catch {
    return false;
  }
}
