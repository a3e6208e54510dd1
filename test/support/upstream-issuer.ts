// A small upstream OIDC issuer for tests: discovery + JWKS served over real HTTP on 127.0.0.1,
// tokens signed with jose. Used where a test must shape claims or headers freely (refusal paths);
// the end-to-end tests also use panva's oidc-provider, which nobody here wrote.
import { exportJWK, generateKeyPair, SignJWT, type JWTPayload } from 'jose';
import { listen } from './http-server.ts';

export interface UpstreamIssuer {
  issuer: string;
  /** Signs a token; defaults: `iat` now, `exp` in 5 min, `aud` = 'fedbroker'. */
  token(claims?: JWTPayload, options?: { header?: Record<string, unknown>; now?: number }): Promise<string>;
  /** Replaces the signing key (the old kid disappears from the JWKS). */
  rotate(): Promise<void>;
  /** Requests served, per path. */
  hits: Record<string, number>;
  /** While true, every request answers 503. */
  down: boolean;
  close(): Promise<void>;
}

export async function startUpstreamIssuer(options: { alg?: 'RS256' | 'ES256' | 'PS256' } = {}): Promise<UpstreamIssuer> {
  const alg = options.alg ?? 'RS256';
  let key: { privateKey: CryptoKey; kid: string; jwk: Record<string, unknown> };
  let generation = 0;
  const newKey = async () => {
    const pair = await generateKeyPair(alg, { extractable: true });
    const kid = `k${++generation}`;
    key = { privateKey: pair.privateKey, kid, jwk: { ...(await exportJWK(pair.publicKey)), kid, alg, use: 'sig' } };
  };
  await newKey();
  const hits: Record<string, number> = {};
  let issuer = '';
  const state = { down: false };
  const server = await listen((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    hits[path] = (hits[path] ?? 0) + 1;
    if (state.down) return void res.writeHead(503).end();
    const body =
      path === '/.well-known/openid-configuration'
        ? {
            issuer,
            jwks_uri: `${issuer}/jwks`,
            response_types_supported: ['id_token'],
            subject_types_supported: ['public'],
            id_token_signing_alg_values_supported: [alg],
          }
        : path === '/jwks'
          ? { keys: [key.jwk] }
          : undefined;
    if (!body) return void res.writeHead(404).end();
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
  });
  issuer = server.url;
  return {
    issuer,
    hits,
    get down() {
      return state.down;
    },
    set down(value: boolean) {
      state.down = value;
    },
    async token(claims = {}, opts = {}) {
      const now = Math.floor((opts.now ?? Date.now()) / 1000);
      return new SignJWT({ iss: issuer, aud: 'fedbroker', iat: now, exp: now + 300, ...claims })
        .setProtectedHeader({ alg, kid: key.kid, typ: 'JWT', ...(opts.header ?? {}) })
        .sign(key.privateKey);
    },
    rotate: newKey,
    close: server.close,
  };
}
