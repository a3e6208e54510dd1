import { createHash } from 'node:crypto';
import { logger } from '../log.ts';
import type { TrustAnchor } from './anchor.ts';
import { children, elementHex, readTlv, serialHex, timeOf } from './der.ts';
import { crlBytes, pemBlocks } from './pem.ts';

/**
 * What an access token obtained with a certificate records of how it was verified (claim `x509`),
 * so that its standing (lib/auth/standing.ts, threat model I1/I8) follows the anchor as it is now.
 * This module reads stored anchors without pkijs: the functions that only judge access tokens
 * (token, admin API, vending) never bundle the certificate code (docs/x509.md, "Packaging").
 */
export interface CertificateBinding {
  /** Id of the trust anchor that verified the path. */
  readonly anchor: string;
  /** SHA-256 of the DER of the anchor CA the path ended at (base64url, 43 characters). */
  readonly ca: string;
  /**
   * Each certificate of the path below the anchor CA, leaf first: its serial (hex, as
   * `x509SerialNumber`) and the SHA-256 of its issuer name (DER, base64url), so that a CRL of the
   * anchor naming that issuer can revoke it later.
   */
  readonly serials: readonly (readonly [serial: string, issuer: string])[];
}

export const CA_FINGERPRINT = /^[A-Za-z0-9_-]{43}$/;
export const SERIAL_HEX = /^[0-9a-f]{2,128}$/;
/** Most entries of `serials`: the leaf and at most 5 intermediates (path.ts, MAX_INTERMEDIATES). */
export const MAX_BOUND_SERIALS = 6;

/** The fingerprint a binding names a CA by. */
export function caFingerprint(der: Uint8Array): string {
  return createHash('sha256').update(der).digest('base64url');
}

/** The hash a binding names an issuer by (`nameHex`: a Name's DER as hex, as ParsedCertificate holds it). */
export function nameHash(nameHex: string): string {
  return createHash('sha256').update(Buffer.from(nameHex, 'hex')).digest('base64url');
}

/**
 * One anchor's content, read for standing: its CAs by fingerprint, and per issuer name the serials
 * revoked by that issuer's newest CRL (highest `thisUpdate`), as sessions judge them (path.ts). A
 * CRL is attributed by its issuer name (its signature was verified when it was stored); when two
 * CAs of the bundle share a name, every CRL of that name counts (refuse more, never less).
 */
interface AnchorIndex {
  readonly cas: ReadonlySet<string>;
  /** Per issuer name: the newest `thisUpdate` of its CRLs here, and the serials they revoke. */
  readonly revoked: ReadonlyMap<string, { readonly at: number; readonly serials: ReadonlySet<string> }>;
}

function indexAnchor(certificates: string, crls: readonly string[]): AnchorIndex {
  const cas = pemBlocks(certificates, 'CERTIFICATE').map((der) => {
    const tbs = children(der, readTlv(der, 0))[0];
    if (tbs?.tag !== 0x30) throw new Error('not a certificate');
    const fields = children(der, tbs);
    const skip = fields[0]?.tag === 0xa0 ? 1 : 0;
    const subject = fields[skip + 4];
    if (subject?.tag !== 0x30) throw new Error('not a certificate');
    return { fingerprint: caFingerprint(der), subject: nameHash(elementHex(der, subject)) };
  });
  const lists = crls.map((text) => {
    const der = crlBytes(text);
    if (!der) throw new Error('not a CRL');
    const tbs = children(der, readTlv(der, 0))[0];
    if (tbs?.tag !== 0x30) throw new Error('not a CRL');
    const fields = children(der, tbs);
    let i = fields[0]?.tag === 0x02 ? 1 : 0;
    i++; // signature AlgorithmIdentifier
    const issuer = fields[i++];
    const thisUpdate = fields[i++];
    if (issuer?.tag !== 0x30 || !thisUpdate) throw new Error('not a CRL');
    if (fields[i]?.tag === 0x17 || fields[i]?.tag === 0x18) i++; // nextUpdate
    const list = fields[i];
    const entries = list?.tag === 0x30 ? children(der, list) : [];
    const revoked = new Set<string>();
    for (const entry of entries) {
      const serial = children(der, entry)[0];
      if (serial?.tag !== 0x02) throw new Error('not a CRL entry');
      revoked.add(serialHex(der, serial));
    }
    return { issuer: nameHash(elementHex(der, issuer)), thisUpdate: timeOf(der, thisUpdate), revoked };
  });
  const revoked = new Map<string, { at: number; serials: ReadonlySet<string> }>();
  for (const name of new Set(lists.map((l) => l.issuer))) {
    const mine = lists.filter((l) => l.issuer === name);
    const shared = cas.filter((c) => c.subject === name).length > 1;
    const at = Math.max(...mine.map((l) => l.thisUpdate));
    // Every CRL tied at the newest thisUpdate counts, whatever the upload order (path.ts does the same).
    const counted = shared ? mine : mine.filter((l) => l.thisUpdate === at);
    revoked.set(name, { at, serials: new Set(counted.flatMap((l) => [...l.revoked])) });
  }
  return { cas: new Set(cas.map((c) => c.fingerprint)), revoked };
}

/** Indexes by stored document (the tenant view keeps the same object while cached), then by content hash. */
const byDocument = new WeakMap<TrustAnchor, AnchorIndex | null>();
const byContent = new Map<string, AnchorIndex | null>();

function indexOf(tenant: string, anchor: TrustAnchor): AnchorIndex | null {
  const known = byDocument.get(anchor);
  if (known !== undefined) return known;
  const crls = anchor.crls ?? [];
  const key = createHash('sha256')
    .update(JSON.stringify([anchor.certificates, crls]))
    .digest('hex');
  let index = byContent.get(key);
  if (index === undefined) {
    try {
      index = indexAnchor(anchor.certificates, crls);
    } catch (e) {
      // Stored anchors passed validation; one that cannot be read now stands for nothing (fail closed).
      logger.error('stored trust anchor cannot be read for token standing; its tokens are refused', {
        tenant,
        anchor: anchor.id,
        error: e instanceof Error ? e.message : String(e),
      });
      index = null;
    }
    if (byContent.size >= 256) byContent.delete(byContent.keys().next().value as string);
    byContent.set(key, index);
  }
  byDocument.set(anchor, index);
  return index;
}

/**
 * Whether a certificate-bound token still stands under the tenant's anchors as they are now: the
 * anchor exists and is enabled, still holds the CA that verified the path, and no certificate of
 * the path has its serial listed in the newest CRL of its issuer among all the tenant's anchors
 * (enabled or not; every CRL tied at the newest thisUpdate), as sessions judge it (path.ts): a CRL
 * uploaded with another anchor holding the same CA ends the token too. Per use: a lookup per anchor
 * and set lookups once each anchor's content has been indexed (once per content per container).
 */
export function certificateStands(tenant: string, binding: CertificateBinding, anchors: readonly TrustAnchor[]): boolean {
  const anchor = anchors.find((a) => a.id === binding.anchor);
  if (!anchor?.enabled) return false;
  const index = indexOf(tenant, anchor);
  if (!index?.cas.has(binding.ca)) return false;
  const indexes = anchors.flatMap((a) => (a === anchor ? [index] : (indexOf(tenant, a) ?? [])));
  return binding.serials.every(([serial, issuer]) => {
    const lists = indexes.flatMap((i) => i.revoked.get(issuer) ?? []);
    if (lists.length === 0) return true;
    const at = Math.max(...lists.map((l) => l.at));
    return !lists.some((l) => l.at === at && l.serials.has(serial));
  });
}
