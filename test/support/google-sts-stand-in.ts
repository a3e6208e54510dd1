// A stand-in for Google's Security Token Service `v1/token` (Security Token Service API reference,
// method `token`; RFC 8693 token exchange): it takes the request as Google's client libraries send
// it (form-encoded snake_case) and as the REST reference writes it (JSON camelCase), checks the
// grant, the requested and subject token types, and the workload identity provider named by
// `audience`, then verifies the OIDC ID token as a provider does: the issuer's discovery document
// and JWKS, the provider's allowed audiences (by default `https:` + the provider's resource name),
// expiry. Answers `{access_token, issued_token_type, token_type, expires_in}`, or an OAuth error.
import { randomBytes } from 'node:crypto';
import { createRemoteJWKSet, decodeJwt, errors, jwtVerify } from 'jose';
import { listen, readBody } from './http-server.ts';

const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token';
const SUBJECT_TYPES = new Set(['urn:ietf:params:oauth:token-type:id_token', 'urn:ietf:params:oauth:token-type:jwt']);

interface WorkloadIdentityProvider {
  /** `//iam.googleapis.com/projects/<n>/locations/global/workloadIdentityPools/<pool>/providers/<p>`. */
  name: string;
  issuer: string;
  /** Allowed audiences; empty means Google's default, `https:` + `name`. */
  allowedAudiences?: string[];
}

interface GoogleExchange {
  provider: string;
  subject: string;
  accessToken: string;
  scope: string;
}

export interface GoogleStsStandIn {
  /** The `token_url` for a credential configuration. */
  tokenUrl: string;
  addProvider(p: WorkloadIdentityProvider): void;
  /** Lifetime of the access tokens it issues from now on. */
  expiresIn: number;
  exchanges: GoogleExchange[];
  refusals: string[];
  close(): Promise<void>;
}

class StsError extends Error {
  readonly status: number;
  readonly error: string;
  constructor(status: number, error: string, description: string) {
    super(description);
    this.status = status;
    this.error = error;
  }
}

/** One parameter from either body form: snake_case form fields or the REST reference's camelCase JSON. */
function parameters(body: string, contentType: string): (name: string) => string | undefined {
  if (contentType.startsWith('application/json')) {
    const json = JSON.parse(body) as Record<string, unknown>;
    return (name) => {
      const camel = name.replace(/_(\w)/g, (_, c: string) => c.toUpperCase());
      const v = json[camel] ?? json[name];
      return typeof v === 'string' ? v : undefined;
    };
  }
  const form = new URLSearchParams(body);
  return (name) => form.get(name) ?? undefined;
}

export async function startGoogleStsStandIn(): Promise<GoogleStsStandIn> {
  const providers = new Map<string, WorkloadIdentityProvider>();
  const exchanges: GoogleExchange[] = [];
  const refusals: string[] = [];
  const jwks = new Map<string, ReturnType<typeof createRemoteJWKSet>>();
  const state = { expiresIn: 3600 };

  async function keysOf(issuer: string) {
    let set = jwks.get(issuer);
    if (!set) {
      const res = await fetch(`${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`);
      const discovery = (await res.json()) as { jwks_uri: string };
      set = createRemoteJWKSet(new URL(discovery.jwks_uri));
      jwks.set(issuer, set);
    }
    return set;
  }

  async function exchange(get: (name: string) => string | undefined): Promise<GoogleExchange> {
    if (get('grant_type') !== TOKEN_EXCHANGE)
      throw new StsError(400, 'unsupported_grant_type', `Unsupported grant type: ${get('grant_type')}`);
    if (get('requested_token_type') !== ACCESS_TOKEN)
      throw new StsError(400, 'invalid_request', 'The requested token type must be urn:ietf:params:oauth:token-type:access_token.');
    const subjectType = get('subject_token_type') ?? '';
    if (!SUBJECT_TYPES.has(subjectType)) throw new StsError(400, 'invalid_request', `Unsupported subject token type: ${subjectType}`);
    const subjectToken = get('subject_token');
    if (!subjectToken) throw new StsError(400, 'invalid_request', 'subject_token is required.');
    const provider = providers.get(get('audience') ?? '');
    if (!provider) throw new StsError(400, 'invalid_target', 'The target service indicated by the "audience" parameters is invalid.');
    let iss: unknown;
    try {
      iss = decodeJwt(subjectToken).iss;
    } catch {
      throw new StsError(400, 'invalid_grant', 'Invalid value for "subject_token": not a JWT.');
    }
    if (iss !== provider.issuer)
      throw new StsError(400, 'invalid_grant', `The issuer in ID Token ${String(iss)} does not match the expected ones.`);
    const audiences = provider.allowedAudiences?.length ? provider.allowedAudiences : [`https:${provider.name}`];
    try {
      const { payload } = await jwtVerify(subjectToken, await keysOf(provider.issuer), {
        issuer: provider.issuer,
        audience: audiences,
        algorithms: ['RS256', 'ES256'],
      });
      return {
        provider: provider.name,
        subject: String(payload.sub),
        accessToken: `ya29.${randomBytes(24).toString('base64url')}`,
        scope: get('scope') ?? '',
      };
    } catch (e) {
      if (e instanceof errors.JWTExpired) throw new StsError(400, 'invalid_grant', 'ID Token has expired.');
      if (e instanceof errors.JWTClaimValidationFailed && e.claim === 'aud')
        throw new StsError(400, 'invalid_grant', 'The audience in ID Token does not match the expected audience.');
      throw new StsError(400, 'invalid_grant', 'Invalid ID Token: the signature could not be verified.');
    }
  }

  const server = await listen(async (req, res) => {
    const body = await readBody(req);
    const send = (status: number, payload: unknown) =>
      res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8' }).end(JSON.stringify(payload));
    if (req.method !== 'POST' || new URL(req.url ?? '/', 'http://x').pathname !== '/v1/token') return send(404, { error: 'not_found' });
    try {
      // The reference: "do not send the Authorization HTTP header in the request".
      if (req.headers.authorization) throw new StsError(400, 'invalid_request', 'The Authorization header must not be set.');
      const granted = await exchange(parameters(body, req.headers['content-type'] ?? ''));
      exchanges.push(granted);
      send(200, { access_token: granted.accessToken, issued_token_type: ACCESS_TOKEN, token_type: 'Bearer', expires_in: state.expiresIn });
    } catch (e) {
      if (!(e instanceof StsError)) throw e;
      refusals.push(e.error);
      send(e.status, { error: e.error, error_description: e.message });
    }
  });
  return {
    tokenUrl: `${server.url}/v1/token`,
    addProvider: (p) => providers.set(p.name, p),
    get expiresIn() {
      return state.expiresIn;
    },
    set expiresIn(v: number) {
      state.expiresIn = v;
    },
    exchanges,
    refusals,
    close: server.close,
  };
}
