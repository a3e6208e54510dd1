// panva's oidc-provider as a real upstream issuer nobody here wrote: it serves discovery and JWKS
// and issues RFC 9068 JWT access tokens through the client_credentials grant.
import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';
import { listen } from './http-server.ts';

export interface OidcProviderIssuer {
  issuer: string;
  /** A JWT access token (`typ: at+jwt`, `sub` = `client_id` = `client`) for `audience`. */
  token(client: string): Promise<string>;
  close(): Promise<void>;
}

/** `alg` (default RS256) signs every token the provider issues; it holds no key of another type. */
export async function startOidcProvider(options: {
  audience: string;
  clients: string[];
  alg?: 'RS256' | 'ES256';
}): Promise<OidcProviderIssuer> {
  const alg = options.alg ?? 'RS256';
  const { privateKey } = await generateKeyPair(alg, { extractable: true });
  let handler: ReturnType<Provider['callback']> | undefined;
  const server = await listen((req, res) => (handler ? handler(req, res) : res.writeHead(503).end()));
  const provider = new Provider(server.url, {
    clients: options.clients.map((id) => ({
      client_id: id,
      client_secret: `${id}-secret`,
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
      // oidc-provider checks a client's ID token algorithm against the keys it holds, even for
      // clients that never get an ID token; its default (RS256) has no key when alg is ES256.
      id_token_signed_response_alg: alg,
    })),
    features: {
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => options.audience,
        getResourceServerInfo: () => ({ scope: 'api', audience: options.audience, accessTokenFormat: 'jwt', jwt: { sign: { alg } } }),
      },
    },
    jwks: { keys: [{ ...(await exportJWK(privateKey)), kid: 'op-1', alg, use: 'sig' }] },
  });
  handler = provider.callback();
  return {
    issuer: server.url,
    async token(client) {
      const res = await fetch(`${server.url}/token`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${client}:${client}-secret`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: 'grant_type=client_credentials&scope=api',
      });
      if (res.status !== 200) throw new Error(`oidc-provider refused: ${res.status} ${await res.text()}`);
      return ((await res.json()) as { access_token: string }).access_token;
    },
    close: server.close,
  };
}
