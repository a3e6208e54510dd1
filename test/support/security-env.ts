// Shared wiring of the security and fault suites: a broker (dynalite + KMS stand-in) served over
// HTTP, a tenant admin, and small clients for the token endpoint and the admin API.
import type { TrustRelationshipInput } from '../../lib/trust/schema.ts';
import { startBroker, type TestBroker } from './broker.ts';
import { postExchange, TOKEN_TYPE } from './exchange-client.ts';
import { startGateway } from './gateway.ts';
import type { Reply } from './refusal.ts';
import { startScriptedIssuer, type ScriptedIssuer } from './scripted-issuer.ts';
import { tenantAdmin } from './tenants.ts';
import type { JsonBody } from './json-body.ts';

export { TOKEN_TYPE };

export interface ExchangeEnv {
  broker: TestBroker;
  gateway: { url: string; close(): Promise<void> };
  admin: ReturnType<typeof tenantAdmin>;
  /** POST /v1/token with the token-exchange grant and these parameters. */
  exchange(params: Record<string, string | undefined>): Promise<Reply>;
  /** Calls the admin API with an optional bearer token and JSON body. */
  api(method: string, path: string, token: string | undefined, body?: unknown, headers?: Record<string, string>): Promise<Reply>;
  /**
   * A new scripted issuer and a new tenant trusting it (`ciRelationship`), so a case shares no
   * key-cache state or refetch cooldown with any other; closed with the env.
   */
  freshUpstream(): Promise<{ upstream: ScriptedIssuer; tenant: string }>;
  close(): Promise<void>;
}

/** Starts a broker (local mode unless `local: false`; `kms` signer unless `signer`) and its HTTP front. */
export async function startExchangeEnv(
  options: { local?: boolean; alg?: 'RS256' | 'ES256'; signer?: 'kms' | 'kms-data-key'; env?: Record<string, string> } = {},
): Promise<ExchangeEnv> {
  const broker = await startBroker({
    ...(options.alg ? { alg: options.alg } : {}),
    ...(options.signer ? { signer: options.signer } : {}),
    env: { ...(options.local === false ? {} : { FEDBROKER_LOCAL: 'true' }), ...(options.env ?? {}) },
  });
  const gateway = await startGateway((m) => broker.load(m));
  const admin = tenantAdmin(broker.tableName);
  const upstreams: ScriptedIssuer[] = [];
  return {
    broker,
    gateway,
    admin,
    exchange: (params) => postExchange(gateway.url, params),
    async api(method, path, token, body, headers = {}) {
      const res = await fetch(`${gateway.url}${path}`, {
        method,
        headers: {
          ...(token ? { Authorization: `Bearer ${token}` } : {}),
          ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
          ...headers,
        },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, headers: res.headers, text, body: text ? (JSON.parse(text) as JsonBody) : {} };
    },
    async freshUpstream() {
      const upstream = await startScriptedIssuer();
      upstreams.push(upstream);
      const tenant = `fresh-${upstreams.length}`;
      await admin.tenant(tenant, [ciRelationship(upstream.issuer)]);
      return { upstream, tenant };
    },
    async close() {
      await Promise.all(upstreams.map((u) => u.close()));
      await gateway.close();
      await broker.close();
    },
  };
}

/** A CI-style relationship trusting `issuer` for `repo:acme/*` subjects. */
export function ciRelationship(issuer: string, overrides: Partial<TrustRelationshipInput> = {}): Partial<TrustRelationshipInput> {
  return {
    kind: 'oidc',
    id: 'ci',
    issuer,
    audiences: ['fedbroker'],
    conditions: { StringLike: { sub: 'repo:acme/*' } },
    scopes: ['id-token:issue', 'trust:admin'],
    id_token_audiences: ['sts.amazonaws.com'],
    ...overrides,
  };
}

/** Exchange parameters for an external subject token. */
export const external = (token: string, tenant = 'acme', extra: Record<string, string> = {}) => ({
  subject_token: token,
  subject_token_type: TOKEN_TYPE.idToken,
  tenant,
  ...extra,
});

/**
 * An access token with scope `trust:admin` of `tenant`, through a relationship `admin` that admits
 * only `issuer`'s subject "root". Give it an issuer the relationships under test do not trust, so
 * it never competes with them in an exchange or an explanation.
 */
export async function adminAccessToken(
  env: ExchangeEnv,
  tenant: string,
  issuer: { issuer: string; token(claims: Record<string, unknown>): Promise<string> },
): Promise<string> {
  const admin = ciRelationship(issuer.issuer, { id: 'admin', conditions: { StringEquals: { sub: 'root' } }, scopes: ['trust:admin'] });
  if (!(await env.admin.stored(tenant, admin))) throw new Error(`tenant ${tenant} already has a relationship "admin"`);
  const res = await env.exchange(external(await issuer.token({ sub: 'root' }), tenant));
  if (res.status !== 200) throw new Error(`admin exchange failed: ${res.text}`);
  return res.body.access_token as string;
}
