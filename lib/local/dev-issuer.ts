// DEV ONLY. A tiny OIDC issuer for `npm start`, so the whole loop (token → exchange → ID token)
// can be tried in a minute with curl. Anyone who can reach it can mint tokens for any subject:
// it listens on loopback only and exists only in the local run.
import { createServer } from 'node:http';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';

export const DEV_AUDIENCE = 'fedbroker-dev';

/** Starts the dev issuer on 127.0.0.1:`port`; its issuer URL uses `localhost`. */
export async function startDevIssuer(port: number): Promise<{ issuer: string; close(): Promise<void> }> {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'dev-1', alg: 'ES256', use: 'sig' };
  const issuer = `http://localhost:${port}`;
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', issuer);
    const send = (status: number, body: string, type = 'application/json') => res.writeHead(status, { 'Content-Type': type }).end(body);
    if (req.method === 'GET' && url.pathname === '/.well-known/openid-configuration') {
      return send(
        200,
        JSON.stringify({
          issuer,
          jwks_uri: `${issuer}/jwks`,
          token_endpoint: `${issuer}/token`,
          id_token_signing_alg_values_supported: ['ES256'],
          response_types_supported: ['id_token'],
          subject_types_supported: ['public'],
        }),
      );
    }
    if (req.method === 'GET' && url.pathname === '/jwks') return send(200, JSON.stringify({ keys: [jwk] }));
    if (req.method === 'POST' && url.pathname === '/token') {
      let body = '';
      for await (const chunk of req) body += chunk;
      const form = new URLSearchParams(body);
      const sub = form.get('sub') ?? 'dev:anonymous';
      const token = await new SignJWT({ email: form.get('email') ?? undefined })
        .setProtectedHeader({ alg: 'ES256', kid: 'dev-1', typ: 'JWT' })
        .setIssuer(issuer)
        .setSubject(sub)
        .setAudience(form.get('aud') ?? DEV_AUDIENCE)
        .setIssuedAt()
        .setExpirationTime('10m')
        .sign(privateKey);
      return send(200, `${token}\n`, 'text/plain');
    }
    send(404, JSON.stringify({ error: 'not_found' }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return { issuer, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
