import { createHash, createPrivateKey, sign, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { API_ROUTES, apiPath } from '../lib/api-paths.ts';
import type { ExchangeResponse } from '../lib/app/exchange.ts';
import { callBroker } from './http.ts';
import { decodeUnverified } from './output.ts';
import type { StoredToken } from './token-file.ts';
import { CliError, usageError } from './errors.ts';

/**
 * The client side of certificates in (docs/x509.md): a session request signed the IAM Roles
 * Anywhere way ("The IAM Roles Anywhere authentication signing process") with the certificate's
 * private key. The key is read from a file or standard input (`-`), PKCS#8 or SEC1/PKCS#1 PEM,
 * and never logged or put on argv. PKCS#11 and TPM keys are out of scope.
 */

export interface CertificateFiles {
  certificate?: string | undefined;
  privateKey?: string | undefined;
  intermediates?: string | undefined;
}

/** `--certificate`, `--private-key` (a file or `-` for standard input) and `--intermediates`. */
export const certificateOptions = (c: Command): Command =>
  c
    .option('--certificate <file>', 'PEM file of the certificate (further certificates in it are taken as intermediates)')
    .option('--private-key <file>', "PEM file of the certificate's private key (PKCS#8, SEC1 or PKCS#1), or - for standard input")
    .option('--intermediates <file>', "PEM file of the intermediate CA certificates, the leaf's issuer first");

/** The stored-token record for a certificate session's answer (what `exchange-oidc-token` stores). */
export function storedFrom(
  endpoint: string,
  tenant: string,
  response: { access_token: string; expires_in: number; scope?: string },
): StoredToken {
  const claims = decodeUnverified(response.access_token).payload;
  const exp = typeof claims.exp === 'number' ? claims.exp * 1000 : Date.now() + response.expires_in * 1000;
  return {
    endpoint,
    tenant,
    access_token: response.access_token,
    expires_at: new Date(exp).toISOString(),
    scope: response.scope ?? '',
    sub: typeof claims.sub === 'string' ? claims.sub : '',
  };
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]+?-----END CERTIFICATE-----/g;

async function readText(path: string, what: string): Promise<string> {
  try {
    if (path === '-') {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    }
    return await readFile(path, 'utf8');
  } catch {
    throw usageError(`cannot read the ${what} from ${path === '-' ? 'standard input' : path}`);
  }
}

function certificates(pem: string, what: string): X509Certificate[] {
  const blocks = pem.match(PEM_CERT) ?? [];
  try {
    return blocks.map((b) => new X509Certificate(b));
  } catch {
    throw usageError(`the ${what} is not PEM certificates`);
  }
}

const amzDate = (d: Date) => `${d.toISOString().replace(/[-:]/g, '').slice(0, 15)}Z`;

/** Signs and sends `POST /v1/tenants/{tenant}/x509/sessions`; returns the fedbroker access token response. */
export async function certificateSession(
  endpoint: string,
  tenant: string,
  files: CertificateFiles,
  body: { durationSeconds?: number | undefined; scope?: string | undefined },
): Promise<ExchangeResponse> {
  if (!files.certificate || !files.privateKey) throw usageError('--certificate and --private-key are required');
  if (files.certificate === '-' && files.privateKey === '-') throw usageError('only one of --certificate and --private-key can be -');
  const certs = certificates(await readText(files.certificate, 'certificate'), 'certificate');
  const [leaf, ...bundled] = certs;
  if (!leaf) throw usageError(`${files.certificate} holds no PEM certificate`);
  const chain = files.intermediates ? certificates(await readText(files.intermediates, 'intermediates'), 'intermediates') : bundled;
  let key: ReturnType<typeof createPrivateKey>;
  try {
    key = createPrivateKey(await readText(files.privateKey, 'private key'));
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw usageError('the private key is not a PEM private key (PKCS#8, SEC1 or PKCS#1, unencrypted)');
  }
  if (!leaf.checkPrivateKey(key)) throw usageError('the private key does not belong to the certificate');
  const ec = key.asymmetricKeyType === 'ec';
  if (!ec && key.asymmetricKeyType !== 'rsa') throw usageError('the key must be RSA or EC');
  const path = apiPath(API_ROUTES.x509Sessions, { tenant });
  const url = new URL(`${endpoint}${path}`);
  const text = JSON.stringify({ ...body, nonce: createHash('sha256').update(`${Date.now()}${Math.random()}`).digest('hex').slice(0, 16) });
  const now = amzDate(new Date());
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    host: url.host,
    'x-amz-date': now,
    'x-amz-x509': leaf.raw.toString('base64'),
    ...(chain.length ? { 'x-amz-x509-chain': chain.map((c) => c.raw.toString('base64')).join(',') } : {}),
  };
  const signed = Object.keys(headers).sort();
  const canonical = [
    'POST',
    url.pathname,
    '',
    `${signed.map((h) => `${h}:${headers[h]}`).join('\n')}\n`,
    signed.join(';'),
    createHash('sha256').update(text).digest('hex'),
  ].join('\n');
  const algorithm = ec ? 'AWS4-X509-ECDSA-SHA256' : 'AWS4-X509-RSA-SHA256';
  const scope = `${now.slice(0, 8)}/${process.env.AWS_REGION || 'us-east-1'}/rolesanywhere/aws4_request`;
  const toSign = [algorithm, now, scope, createHash('sha256').update(canonical).digest('hex')].join('\n');
  const signature = sign('sha256', Buffer.from(toSign), ec ? { key, dsaEncoding: 'der' } : key).toString('hex');
  const serial = BigInt(`0x${leaf.serialNumber}`).toString(10);
  // fetch sets Host from the URL itself (it is a forbidden request header); it was signed as url.host.
  const { host: _host, ...sent } = headers;
  const res = await callBroker(endpoint, path, {
    method: 'POST',
    headers: {
      ...sent,
      authorization: `${algorithm} Credential=${serial}/${scope}, SignedHeaders=${signed.join(';')}, Signature=${signature}`,
    },
    body: text,
  });
  const answer = res.body as Partial<ExchangeResponse> | undefined;
  if (typeof answer?.access_token !== 'string' || typeof answer.expires_in !== 'number') {
    throw new CliError('invalid_response', `${endpoint} answered the certificate session without a token`);
  }
  return answer as ExchangeResponse;
}
