import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { CertificateRefused } from '../errors.ts';
import { loadPkijs, type Pkijs } from './pkijs.ts';

/**
 * One parsed certificate and the facts fedbroker's profile (threat model I8, docs/x509.md) checks.
 * ASN.1 and X.509 parsing come from pkijs; key sizes come from Node's KeyObject (OpenSSL).
 */

/** Largest certificate accepted anywhere (request headers, anchor bundles): bounds parse cost (I3). */
export const MAX_CERTIFICATE_BYTES = 8 * 1024;

/** RFC 5280 §4.1.2.4 attribute types, named as IAM Roles Anywhere names them in x509Subject/…, x509Issuer/…. */
const DN_NAMES: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.11': 'OU',
  '2.5.4.10': 'O',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.5': 'serialNumber',
  '0.9.2342.19200300.100.1.25': 'DC',
  '0.9.2342.19200300.100.1.1': 'UID',
  '1.2.840.113549.1.9.1': 'emailAddress',
};

/** Signature algorithms accepted in a path: SHA-256 or stronger (RFC 4055 §5, RFC 5758 §3.2). SHA-1, MD5 and PSS refused. */
const SIGNATURE_ALGORITHMS: Record<string, string> = {
  '1.2.840.113549.1.1.11': 'RSA-SHA256',
  '1.2.840.113549.1.1.12': 'RSA-SHA384',
  '1.2.840.113549.1.1.13': 'RSA-SHA512',
  '1.2.840.10045.4.3.2': 'ECDSA-SHA256',
  '1.2.840.10045.4.3.3': 'ECDSA-SHA384',
  '1.2.840.10045.4.3.4': 'ECDSA-SHA512',
};

/**
 * Extensions fedbroker or pkijs's RFC 5280 §6.1 engine processes. A critical extension outside this
 * set refuses the certificate (RFC 5280 §4.2: "A certificate-using system MUST reject the
 * certificate if it encounters a critical extension it does not recognize").
 */
const KNOWN_EXTENSIONS = new Set([
  '2.5.29.14', // subjectKeyIdentifier
  '2.5.29.35', // authorityKeyIdentifier
  '2.5.29.15', // keyUsage
  '2.5.29.19', // basicConstraints
  '2.5.29.17', // subjectAltName
  '2.5.29.18', // issuerAltName
  '2.5.29.37', // extKeyUsage
  '2.5.29.30', // nameConstraints (pkijs)
  '2.5.29.32', // certificatePolicies (pkijs)
  '2.5.29.33', // policyMappings (pkijs)
  '2.5.29.36', // policyConstraints (pkijs)
  '2.5.29.54', // inhibitAnyPolicy (pkijs)
  '2.5.29.31', // cRLDistributionPoints (never fetched)
  '1.3.6.1.5.5.7.1.1', // authorityInfoAccess (never fetched)
]);

export type Attributes = Record<string, string | string[]>;

export interface ParsedCertificate {
  readonly der: Uint8Array;
  readonly pkijs: Pkijs.Certificate;
  readonly subjectDer: string;
  readonly issuerDer: string;
  /** Lower-case hex of the serial's DER content octets, leading zero octets stripped. */
  readonly serialHex: string;
  readonly serialDecimal: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly publicKey: KeyObject;
  readonly keyType: 'rsa' | 'ec' | 'other';
  /** Bits for RSA; 256/384 for the accepted curves; 0 for anything else. */
  readonly keyStrength: number;
  readonly signatureAlgorithm: string | undefined;
  readonly ca: boolean;
  readonly pathLen: number | undefined;
  /** RFC 5280 §4.2.1.3 bits; undefined when the extension is absent. */
  readonly keyUsage: { digitalSignature: boolean; keyCertSign: boolean; cRLSign: boolean } | undefined;
  readonly unknownCritical: readonly string[];
  readonly subject: Attributes;
  readonly issuer: Attributes;
  /** RFC 4514-style strings, for the audit record. */
  readonly subjectDn: string;
  readonly issuerDn: string;
  readonly san: { DNS: string[]; URI: string[]; IP: string[]; Name: string[]; Email: string[] };
  /** SHA-256 over subject DN and SPKI: names a CA across re-issued copies of the same key. */
  readonly caKey: string;
}

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

function stringValue(value: unknown): string | undefined {
  const block = (value as { valueBlock?: { value?: unknown } } | undefined)?.valueBlock;
  return typeof block?.value === 'string' ? block.value : undefined;
}

function distinguishedName(rdn: Pkijs.RelativeDistinguishedNames): Attributes {
  const out: Record<string, string[]> = {};
  for (const tv of rdn.typesAndValues) {
    const name = DN_NAMES[tv.type];
    const value = stringValue(tv.value);
    if (!name || value === undefined) continue;
    const values = out[name] ?? [];
    values.push(value);
    out[name] = values;
  }
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.length === 1 ? (v[0] as string) : v]));
}

/** A DN as one string for `x509SAN/Name`, RFC 4514 order (most specific first), no escaping beyond `,` `+`. */
function dnString(rdn: Pkijs.RelativeDistinguishedNames): string {
  return rdn.typesAndValues
    .map((tv) => `${DN_NAMES[tv.type] ?? tv.type}=${(stringValue(tv.value) ?? '').replace(/([,+\\])/g, '\\$1')}`)
    .reverse()
    .join(',');
}

function ipString(bytes: Uint8Array): string {
  if (bytes.length === 4) return Array.from(bytes).join('.');
  if (bytes.length === 16) {
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) groups.push((((bytes[i] as number) << 8) | (bytes[i + 1] as number)).toString(16));
    return groups.join(':');
  }
  return hex(bytes);
}

function refusal(reason: string, cause?: unknown): CertificateRefused {
  return new CertificateRefused(reason, cause === undefined ? undefined : { cause });
}

/**
 * Parsed certificates by the SHA-256 of their exact DER: a parse is a pure function of the bytes,
 * and intermediates (and a workload's own leaf) come back on every request. Bounded (oldest out past
 * {@link PARSED_CACHE_SIZE}); only successes are kept, and a result is never trusted for more than
 * what the bytes say — validity, chain and revocation are checked on every request.
 */
const PARSED_CACHE_SIZE = 500;
const parsed = new Map<string, ParsedCertificate>();

/** Parses DER; anything pkijs cannot read as one certificate is `malformed_certificate`. */
export async function parseCertificate(der: Uint8Array): Promise<ParsedCertificate> {
  if (der.length === 0 || der.length > MAX_CERTIFICATE_BYTES) throw refusal('malformed_certificate');
  const key = createHash('sha256').update(der).digest('hex');
  const hit = parsed.get(key);
  if (hit) return hit;
  const fresh = await parseUncached(der);
  if (parsed.size >= PARSED_CACHE_SIZE) parsed.delete(parsed.keys().next().value as string);
  parsed.set(key, fresh);
  return fresh;
}

async function parseUncached(der: Uint8Array): Promise<ParsedCertificate> {
  const pkijs = await loadPkijs();
  let cert: Pkijs.Certificate;
  try {
    cert = pkijs.Certificate.fromBER(der);
  } catch (e) {
    throw refusal('malformed_certificate', e);
  }
  // DER only (RFC 5280 §4.1; X.690 §10): a BER reading accepts other encodings of the same
  // certificate (a longer outer length, trailing bytes), which the property test found verifying.
  // The certificate must re-encode to exactly the bytes presented.
  let again: Uint8Array;
  try {
    again = new Uint8Array(cert.toSchema().toBER());
  } catch (e) {
    throw refusal('malformed_certificate', e);
  }
  if (!Buffer.from(again).equals(Buffer.from(der))) throw refusal('malformed_certificate');
  try {
    return describe(pkijs, cert, der);
  } catch (e) {
    if (e instanceof CertificateRefused) throw e;
    throw refusal('malformed_certificate', e);
  }
}

function describe(pkijs: typeof Pkijs, cert: Pkijs.Certificate, der: Uint8Array): ParsedCertificate {
  const spki = new Uint8Array(cert.subjectPublicKeyInfo.toSchema().toBER());
  const publicKey = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
  const details = publicKey.asymmetricKeyDetails ?? {};
  const keyType = publicKey.asymmetricKeyType === 'rsa' ? 'rsa' : publicKey.asymmetricKeyType === 'ec' ? 'ec' : 'other';
  const keyStrength =
    keyType === 'rsa'
      ? (details.modulusLength ?? 0)
      : keyType === 'ec'
        ? details.namedCurve === 'prime256v1'
          ? 256
          : details.namedCurve === 'secp384r1'
            ? 384
            : 0
        : 0;
  let ca = false;
  let pathLen: number | undefined;
  let keyUsage: ParsedCertificate['keyUsage'];
  const unknownCritical: string[] = [];
  const san: ParsedCertificate['san'] = { DNS: [], URI: [], IP: [], Name: [], Email: [] };
  const seen = new Set<string>();
  for (const ext of cert.extensions ?? []) {
    // RFC 5280 §4.2: "A certificate MUST NOT include more than one instance of a particular extension."
    if (seen.has(ext.extnID)) throw refusal('malformed_certificate');
    seen.add(ext.extnID);
    if (ext.critical && !KNOWN_EXTENSIONS.has(ext.extnID)) unknownCritical.push(ext.extnID);
    const parsed = ext.parsedValue as unknown;
    if (ext.extnID === '2.5.29.19') {
      if (!(parsed instanceof pkijs.BasicConstraints)) throw refusal('malformed_certificate');
      ca = parsed.cA === true;
      const len = parsed.pathLenConstraint;
      if (typeof len === 'number') pathLen = len;
      else if (len !== undefined) pathLen = len.valueBlock.valueDec;
    } else if (ext.extnID === '2.5.29.15') {
      const bits = (parsed as { valueBlock?: { valueHexView?: Uint8Array } } | undefined)?.valueBlock?.valueHexView;
      if (!bits) throw refusal('malformed_certificate');
      const first = bits[0] ?? 0;
      keyUsage = { digitalSignature: (first & 0x80) !== 0, keyCertSign: (first & 0x04) !== 0, cRLSign: (first & 0x02) !== 0 };
    } else if (ext.extnID === '2.5.29.17') {
      if (!(parsed instanceof pkijs.AltName)) throw refusal('malformed_certificate');
      for (const name of parsed.altNames) {
        // RFC 5280 §4.2.1.6 GeneralName tags.
        if (name.type === 1 && typeof name.value === 'string') san.Email.push(name.value);
        else if (name.type === 2 && typeof name.value === 'string') san.DNS.push(name.value);
        else if (name.type === 6 && typeof name.value === 'string') san.URI.push(name.value);
        else if (name.type === 7) san.IP.push(ipString(new Uint8Array(name.value.valueBlock.valueHexView)));
        else if (name.type === 4 && name.value instanceof pkijs.RelativeDistinguishedNames) san.Name.push(dnString(name.value));
      }
    }
  }
  // The signature value is outside what the signature covers: it must be strict too, or other
  // encodings of one certificate verify (the mutation property found unused bits, the inner
  // SEQUENCE tag and length of an ECDSA signature changed and still verifying).
  const signatureBits = cert.signatureValue.valueBlock;
  if (signatureBits.unusedBits !== 0) throw refusal('malformed_certificate');
  const algorithm = SIGNATURE_ALGORITHMS[cert.signatureAlgorithm.algorithmId];
  if (algorithm?.startsWith('ECDSA') && !strictEcdsaSignature(new Uint8Array(signatureBits.valueHexView))) {
    throw refusal('malformed_certificate');
  }
  const serialBytes = new Uint8Array(cert.serialNumber.valueBlock.valueHexView);
  let start = 0;
  while (start < serialBytes.length - 1 && serialBytes[start] === 0) start++;
  const serialHex = hex(serialBytes.subarray(start)) || '00';
  const subjectDer = hex(new Uint8Array(cert.subject.toSchema().toBER()));
  return {
    der,
    pkijs: cert,
    subjectDer,
    issuerDer: hex(new Uint8Array(cert.issuer.toSchema().toBER())),
    serialHex,
    serialDecimal: BigInt(`0x${serialHex}`).toString(10),
    notBefore: cert.notBefore.value,
    notAfter: cert.notAfter.value,
    publicKey,
    keyType,
    keyStrength,
    signatureAlgorithm: SIGNATURE_ALGORITHMS[cert.signatureAlgorithm.algorithmId],
    ca,
    pathLen,
    keyUsage,
    unknownCritical,
    subject: distinguishedName(cert.subject),
    issuer: distinguishedName(cert.issuer),
    subjectDn: dnString(cert.subject),
    issuerDn: dnString(cert.issuer),
    san,
    caKey: createHash('sha256').update(subjectDer).update(spki).digest('hex'),
  };
}

/** A DER `Ecdsa-Sig-Value` (RFC 3279 §2.2.3): SEQUENCE of two positive, minimally encoded INTEGERs, nothing after. */
function strictEcdsaSignature(b: Uint8Array): boolean {
  if (b[0] !== 0x30) return false;
  let off = 2;
  let len = b[1] ?? 0;
  if (len === 0x81) {
    len = b[2] ?? 0;
    off = 3;
    if (len < 0x80) return false;
  } else if (len > 0x7f) return false;
  if (off + len !== b.length) return false;
  for (let k = 0; k < 2; k++) {
    if (b[off] !== 0x02) return false;
    const l = b[off + 1] ?? 0;
    off += 2;
    if (l === 0 || l > 0x7f || off + l > b.length) return false;
    const first = b[off] as number;
    if (first & 0x80) return false;
    if (l > 1 && first === 0 && !((b[off + 1] as number) & 0x80)) return false;
    off += l;
  }
  return off === b.length;
}

/** RSA ≥ 2048 bits or EC P-256/P-384 (threat model I8; the key types IAM Roles Anywhere accepts). */
export function strongKey(cert: ParsedCertificate): boolean {
  return (
    (cert.keyType === 'rsa' && cert.keyStrength >= 2048 && cert.keyStrength <= 16384) || (cert.keyType === 'ec' && cert.keyStrength > 0)
  );
}

/**
 * The claims trust-relationship conditions see for a certificate, named as IAM Roles Anywhere
 * names its session tags ("Trust model: … x509Subject/CN, x509Issuer/…, x509SAN/DNS …").
 * Multi-valued SAN entries are always arrays so `ForAnyValue:` works; a DN attribute is a string,
 * or an array when the DN repeats it.
 */
export function certificateClaims(leaf: ParsedCertificate): Record<string, string | string[]> {
  const claims: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(leaf.subject)) claims[`x509Subject/${k}`] = v;
  for (const [k, v] of Object.entries(leaf.issuer)) claims[`x509Issuer/${k}`] = v;
  for (const [k, v] of Object.entries(leaf.san)) if (v.length > 0) claims[`x509SAN/${k}`] = v;
  claims.x509SerialNumber = leaf.serialHex;
  return claims;
}
