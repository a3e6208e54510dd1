import { constants, createHash, verify } from 'node:crypto';
import { CertificateRefused } from '../errors.ts';
import type { ParsedCertificate } from './certificate.ts';

/**
 * The request signature of IAM Roles Anywhere ("The IAM Roles Anywhere authentication signing
 * process", which defers to AWS Signature Version 4 for everything it does not restate): a SigV4
 * canonical request and string to sign, signed with the certificate's private key instead of an
 * HMAC. Wire format for third parties: docs/x509.md.
 */

export const RSA_ALGORITHM = 'AWS4-X509-RSA-SHA256';
export const ECDSA_ALGORITHM = 'AWS4-X509-ECDSA-SHA256';
export const SIGNING_SERVICE = 'rolesanywhere';
/** ±5 minutes, as SigV4 (`RequestTimeTooSkewed`) and threat model I9. */
export const CLOCK_SKEW_SECONDS = 300;
/** Header bytes accepted in total: certificates travel in headers (I3). */
export const MAX_HEADER_BYTES = 48 * 1024;

export interface SignedRequest {
  readonly method: string;
  /** The request path exactly as received (not decoded): it is the canonical URI. */
  readonly path: string;
  readonly rawQueryString: string;
  /** Header names in any case; API Gateway HTTP APIs join repeated headers with commas. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: Uint8Array;
}

export interface ParsedSignature {
  readonly algorithm: typeof RSA_ALGORITHM | typeof ECDSA_ALGORITHM;
  readonly serialDecimal: string;
  readonly amzDate: string;
  readonly scope: string;
  readonly signedHeaders: readonly string[];
  readonly signature: Buffer;
  readonly leafDer: Uint8Array;
  readonly chainDers: readonly Uint8Array[];
  readonly stringToSign: string;
  /** SHA-256 of the string to sign: the replay key (the signed content, never the malleable signature). */
  readonly nonce: string;
}

const refuse = (reason: string) => new CertificateRefused(reason);

/** `<algorithm> Credential=<serial>/<date>/<region>/<service>/aws4_request, SignedHeaders=<a;b>, Signature=<hex>`. */
const AUTHORIZATION = new RegExp(
  [
    '^(AWS4-X509-RSA-SHA256|AWS4-X509-ECDSA-SHA256) ',
    'Credential=([0-9]{1,64})/([0-9]{8})/([a-z0-9-]{1,32})/([a-z0-9-]{1,32})/aws4_request, ?',
    'SignedHeaders=([a-z0-9-]+(?:;[a-z0-9-]+){0,31}), ?',
    'Signature=([0-9a-f]{2,2048})$',
  ].join(''),
);
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;
/** The only paths fedbroker signs: URI-encoding them (SigV4 canonical URI) is the identity. */
const SAFE_PATH = /^\/[A-Za-z0-9\-._~/]{0,512}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

function lowerHeaders(headers: SignedRequest['headers']): Map<string, string> {
  const out = new Map<string, string>();
  let bytes = 0;
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined) continue;
    bytes += k.length + v.length;
    const name = k.toLowerCase();
    out.set(name, out.has(name) ? `${out.get(name)},${v}` : v);
  }
  if (bytes > MAX_HEADER_BYTES) throw refuse('malformed_request');
  return out;
}

function der(b64: string): Uint8Array {
  const s = b64.trim();
  if (!BASE64.test(s)) throw refuse('malformed_certificate');
  return new Uint8Array(Buffer.from(s, 'base64'));
}

/** `YYYYMMDDTHHMMSSZ` → epoch ms, or undefined when not a real instant. */
function amzDateMs(value: string): number | undefined {
  const m = AMZ_DATE.exec(value);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  const back = new Date(ms);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || h > 23 || mi > 59 || s > 59)
    return undefined;
  return ms;
}

/**
 * Parses the Authorization header, checks the timestamp and rebuilds the string to sign (SigV4
 * "Create a canonical request", "Create a string to sign"). The signature itself is checked by
 * `verifyRequestSignature` once the leaf is parsed.
 */
export function parseSignedRequest(req: SignedRequest, now: Date): ParsedSignature {
  const headers = lowerHeaders(req.headers);
  const auth = AUTHORIZATION.exec(headers.get('authorization') ?? '');
  if (!auth) throw refuse('malformed_request');
  const [, algorithm, serialDecimal, date, region, service, signedList, signatureHex] = auth as unknown as [
    string,
    ParsedSignature['algorithm'],
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  if (service !== SIGNING_SERVICE) throw refuse('malformed_request');
  const amzDate = headers.get('x-amz-date') ?? '';
  const at = amzDateMs(amzDate);
  if (at === undefined || !amzDate.startsWith(date)) throw refuse('malformed_request');
  if (Math.abs(now.getTime() - at) > CLOCK_SKEW_SECONDS * 1000) throw refuse('stale_timestamp');

  const signedHeaders = signedList.split(';');
  // SigV4: header names sorted, no repeats. Our rule (I9): the host, the date and every certificate header are signed.
  for (let i = 1; i < signedHeaders.length; i++) {
    if ((signedHeaders[i - 1] as string) >= (signedHeaders[i] as string)) throw refuse('malformed_request');
  }
  const required = ['host', 'x-amz-date', 'x-amz-x509', ...(headers.has('x-amz-x509-chain') ? ['x-amz-x509-chain'] : [])];
  if (!required.every((h) => signedHeaders.includes(h))) throw refuse('unsigned_header');
  if (!signedHeaders.every((h) => headers.has(h)) || signedHeaders.includes('authorization')) throw refuse('malformed_request');

  if (req.rawQueryString !== '' || !SAFE_PATH.test(req.path)) throw refuse('malformed_request');
  // SigV4 canonical headers: lower-case name, value trimmed with runs of spaces collapsed.
  const canonicalHeaders = signedHeaders.map((h) => `${h}:${(headers.get(h) as string).trim().replace(/ +/g, ' ')}\n`).join('');
  const canonicalRequest = [
    req.method.toUpperCase(),
    req.path,
    '',
    canonicalHeaders,
    signedList,
    createHash('sha256').update(req.body).digest('hex'),
  ].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = [algorithm, amzDate, scope, createHash('sha256').update(canonicalRequest).digest('hex')].join('\n');

  const chainHeader = headers.get('x-amz-x509-chain');
  return {
    algorithm,
    serialDecimal,
    amzDate,
    scope,
    signedHeaders,
    signature: Buffer.from(signatureHex, 'hex'),
    leafDer: der(headers.get('x-amz-x509') as string),
    chainDers: chainHeader === undefined ? [] : chainHeader.split(',').map(der),
    stringToSign,
    nonce: createHash('sha256').update(stringToSign).digest('hex'),
  };
}

/**
 * Verifies the signature with the leaf's key: RSASSA-PKCS1-v1_5 with SHA-256 for RSA, ECDSA with
 * SHA-256 (DER `Ecdsa-Sig-Value`, RFC 3279 §2.2.3) for EC, as aws_signing_helper signs. The
 * algorithm must name the key's type and the credential's serial must be the leaf's.
 */
export function verifyRequestSignature(parsed: ParsedSignature, leaf: ParsedCertificate): void {
  if (parsed.serialDecimal !== leaf.serialDecimal) throw refuse('serial_mismatch');
  const expected = leaf.keyType === 'rsa' ? RSA_ALGORITHM : leaf.keyType === 'ec' ? ECDSA_ALGORITHM : undefined;
  if (parsed.algorithm !== expected) throw refuse('signature');
  let ok = false;
  try {
    ok =
      leaf.keyType === 'rsa'
        ? verify(
            'sha256',
            Buffer.from(parsed.stringToSign),
            { key: leaf.publicKey, padding: constants.RSA_PKCS1_PADDING },
            parsed.signature,
          )
        : verify('sha256', Buffer.from(parsed.stringToSign), { key: leaf.publicKey, dsaEncoding: 'der' }, parsed.signature);
  } catch {
    ok = false;
  }
  if (!ok) throw refuse('signature');
}
