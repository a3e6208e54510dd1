// A stand-in for the Microsoft Entra ID token endpoint, for the one flow workload identity uses:
// client credentials with a federated credential as client assertion (Microsoft identity platform,
// "OAuth 2.0 client credentials flow", third case: access token request with a federated credential;
// "Workload identity federation": issuer, subject and audience must match a federated identity
// credential of the application). It also serves the tenant's OpenID configuration, which MSAL
// reads first. HTTPS only, as MSAL refuses any other authority: a self-signed certificate made
// with openssl, which the test hands to the client as its trusted CA.
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRemoteJWKSet, decodeJwt, errors, jwtVerify } from 'jose';
import { readBody } from './http-server.ts';

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

interface FederatedIdentityCredential {
  issuer: string;
  subject: string;
  audiences: string[];
}

interface EntraGrant {
  clientId: string;
  scope: string;
  /** SHA-256 of the assertion that was accepted, to tell which file content the client sent. */
  assertionSha256: string;
  accessToken: string;
}

export interface EntraStandIn {
  /** `https://127.0.0.1:<port>/`, for AZURE_AUTHORITY_HOST. */
  authorityHost: string;
  tenantId: string;
  /** PEM of the self-signed certificate the client must trust. */
  caPem: string;
  addApplication(clientId: string, credential: FederatedIdentityCredential): void;
  grants: EntraGrant[];
  /** Refusals, as `AADSTS<code>`. */
  refusals: string[];
  close(): Promise<void>;
}

export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

class EntraError extends Error {
  readonly status: number;
  readonly error: string;
  readonly code: number;
  constructor(status: number, error: string, code: number, description: string) {
    super(`AADSTS${code}: ${description}`);
    this.status = status;
    this.error = error;
    this.code = code;
  }
}

function selfSignedCertificate(): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'entra-tls-'));
  const [key, cert] = [join(dir, 'key.pem'), join(dir, 'cert.pem')];
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      key,
      '-out',
      cert,
    ],
    { stdio: 'ignore' },
  );
  return { key: readFileSync(key, 'utf8'), cert: readFileSync(cert, 'utf8') };
}

export async function startEntraStandIn(tenantId = randomUUID()): Promise<EntraStandIn> {
  const tls = selfSignedCertificate();
  const applications = new Map<string, FederatedIdentityCredential[]>();
  const grants: EntraGrant[] = [];
  const refusals: string[] = [];
  const jwks = new Map<string, ReturnType<typeof createRemoteJWKSet>>();
  let base = '';

  const send = (res: ServerResponse, status: number, body: unknown) =>
    res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' }).end(JSON.stringify(body));

  /** The upstream issuer's keys, from its discovery document, as Entra fetches them. */
  async function keysOf(issuer: string) {
    let set = jwks.get(issuer);
    if (!set) {
      const discovery = (await (await fetch(`${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`)).json()) as {
        jwks_uri: string;
      };
      set = createRemoteJWKSet(new URL(discovery.jwks_uri));
      jwks.set(issuer, set);
    }
    return set;
  }

  async function token(form: URLSearchParams): Promise<EntraGrant> {
    for (const name of ['client_id', 'scope', 'grant_type', 'client_assertion_type', 'client_assertion']) {
      if (!form.get(name))
        throw new EntraError(400, 'invalid_request', 900144, `The request body must contain the following parameter: '${name}'.`);
    }
    if (form.get('grant_type') !== 'client_credentials')
      throw new EntraError(400, 'unsupported_grant_type', 70003, 'The app requested an unsupported grant type.');
    if (form.get('client_assertion_type') !== ASSERTION_TYPE)
      throw new EntraError(400, 'invalid_request', 50027, 'Invalid client_assertion_type.');
    const scope = form.get('scope') ?? '';
    if (!/\/\.default$/.test(scope)) throw new EntraError(400, 'invalid_scope', 1002012, 'The provided value for scope is not valid.');
    const clientId = form.get('client_id') ?? '';
    const credentials = applications.get(clientId);
    if (!credentials) throw new EntraError(400, 'unauthorized_client', 700016, `Application with identifier '${clientId}' was not found.`);
    const assertion = form.get('client_assertion') ?? '';
    let claims: ReturnType<typeof decodeJwt>;
    try {
      claims = decodeJwt(assertion);
    } catch {
      throw new EntraError(400, 'invalid_client', 50027, 'JWT token is invalid or malformed.');
    }
    const sameIssuer = credentials.filter((c) => c.issuer === claims.iss);
    if (!sameIssuer.length)
      throw new EntraError(
        400,
        'invalid_request',
        700211,
        `No matching federated identity record found for presented assertion issuer '${claims.iss}'.`,
      );
    let verified: Awaited<ReturnType<typeof jwtVerify>>['payload'];
    try {
      ({ payload: verified } = await jwtVerify(assertion, await keysOf(String(claims.iss)), {
        issuer: String(claims.iss),
        audience: [...new Set(sameIssuer.flatMap((c) => c.audiences))],
        algorithms: ['RS256', 'ES256'],
      }));
    } catch (e) {
      if (e instanceof errors.JWTExpired)
        throw new EntraError(400, 'invalid_client', 700024, 'Client assertion is not within its valid time range.');
      if (e instanceof errors.JWTClaimValidationFailed)
        throw new EntraError(
          400,
          'invalid_request',
          700212,
          `No matching federated identity record found for presented assertion audience.`,
        );
      throw new EntraError(401, 'invalid_client', 5002738, 'Invalid JWT token. The token signature could not be validated.');
    }
    if (!sameIssuer.some((c) => c.subject === verified.sub && c.audiences.some((a) => [verified.aud].flat().includes(a))))
      throw new EntraError(
        400,
        'invalid_request',
        70021,
        `No matching federated identity record found for presented assertion. Assertion Subject: '${verified.sub}'.`,
      );
    return { clientId, scope, assertionSha256: sha256(assertion), accessToken: randomBytes(24).toString('base64url') };
  }

  const server = createServer({ key: tls.key, cert: tls.cert }, async (req, res) => {
    const path = new URL(req.url ?? '/', base).pathname;
    const body = await readBody(req);
    if (req.method === 'GET' && path === `/${tenantId}/v2.0/.well-known/openid-configuration`) {
      const root = `${base}${tenantId}`;
      return send(res, 200, {
        issuer: `${root}/v2.0`,
        authorization_endpoint: `${root}/oauth2/v2.0/authorize`,
        token_endpoint: `${root}/oauth2/v2.0/token`,
        jwks_uri: `${base}${tenantId}/discovery/v2.0/keys`,
        end_session_endpoint: `${root}/oauth2/v2.0/logout`,
        response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
        token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      });
    }
    if (req.method === 'POST' && path === `/${tenantId}/oauth2/v2.0/token`) {
      try {
        const grant = await token(new URLSearchParams(body));
        grants.push(grant);
        return send(res, 200, { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: grant.accessToken });
      } catch (e) {
        if (!(e instanceof EntraError)) throw e;
        refusals.push(`AADSTS${e.code}`);
        return send(res, e.status, {
          error: e.error,
          error_description: e.message,
          error_codes: [e.code],
          timestamp: new Date()
            .toISOString()
            .replace('T', ' ')
            .replace(/\.\d+Z$/, 'Z'),
          trace_id: randomUUID(),
          correlation_id: randomUUID(),
        });
      }
    }
    send(res, 404, { error: 'not_found' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `https://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return {
    authorityHost: base,
    tenantId,
    caPem: tls.cert,
    addApplication: (clientId, credential) => applications.set(clientId, [...(applications.get(clientId) ?? []), credential]),
    grants,
    refusals,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
