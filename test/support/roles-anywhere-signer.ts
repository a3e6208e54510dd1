import { createHash, createPrivateKey, sign } from 'node:crypto';

/**
 * A client that signs requests the IAM Roles Anywhere way ("The IAM Roles Anywhere authentication
 * signing process"; the same steps as aws/rolesanywhere-credential-helper's signer.go), written
 * from the documentation, independently of lib/x509/sigv4.ts, so the two check each other.
 */

export interface SignOptions {
  url: string;
  body: string;
  certDer: Uint8Array;
  chainDers?: Uint8Array[];
  keyPem: string;
  /** Overrides, for negative tests. */
  date?: Date;
  serialDecimal?: string;
  algorithm?: string;
  region?: string;
  signedHeaders?: string[];
  extraHeaders?: Record<string, string>;
}

const b64 = (der: Uint8Array) => Buffer.from(der).toString('base64');

function amzDate(d: Date): string {
  return `${d.toISOString().replace(/[-:]/g, '').slice(0, 15)}Z`;
}

export function serialDecimalOf(serialHex: string): string {
  return BigInt(`0x${serialHex}`).toString(10);
}

/** Returns the headers to send (including Authorization) for a POST of `body` to `url`. */
export function signRolesAnywhere(o: SignOptions & { serialHex: string }): Record<string, string> {
  const url = new URL(o.url);
  const key = createPrivateKey(o.keyPem);
  const ec = key.asymmetricKeyType === 'ec';
  const when = amzDate(o.date ?? new Date());
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    host: url.host,
    'x-amz-date': when,
    'x-amz-x509': b64(o.certDer),
    ...(o.chainDers && o.chainDers.length > 0 ? { 'x-amz-x509-chain': o.chainDers.map(b64).join(',') } : {}),
    ...o.extraHeaders,
  };
  const signed = (o.signedHeaders ?? Object.keys(headers)).map((h) => h.toLowerCase()).sort();
  const canonical = [
    'POST',
    url.pathname,
    url.search.replace(/^\?/, ''),
    `${signed.map((h) => `${h}:${(headers[h] ?? '').trim()}`).join('\n')}\n`,
    signed.join(';'),
    createHash('sha256').update(o.body).digest('hex'),
  ].join('\n');
  const algorithm = o.algorithm ?? (ec ? 'AWS4-X509-ECDSA-SHA256' : 'AWS4-X509-RSA-SHA256');
  const scope = `${when.slice(0, 8)}/${o.region ?? 'us-east-1'}/rolesanywhere/aws4_request`;
  const toSign = [algorithm, when, scope, createHash('sha256').update(canonical).digest('hex')].join('\n');
  const signature = sign('sha256', Buffer.from(toSign), ec ? { key, dsaEncoding: 'der' } : key).toString('hex');
  const serial = o.serialDecimal ?? serialDecimalOf(o.serialHex);
  headers.authorization = `${algorithm} Credential=${serial}/${scope}, SignedHeaders=${signed.join(';')}, Signature=${signature}`;
  return headers;
}
