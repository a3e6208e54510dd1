// The ceiling for the HTTP comparison: a node:http server that reads the request body and answers
// with a freshly signed JWT, signed the way `npm start` signs (in libuv's thread pool,
// lib/keys/sign-with-key.ts), and does nothing else: no routing, no form parsing,
// no token verification, no policy, no audit, no metrics. No server doing the same work, in this
// language on this machine, can answer faster, so its ratio to the peer bounds what any
// implementation's ratio could be. In its own process; prints its address like bench/peer.ts.
//   node bench/ceiling.ts <RS256|ES256>
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { signWithKey } from '../lib/keys/sign-with-key.ts';
import { report } from './support.ts';

const MAX_LIFETIME_MS = 10 * 60_000;
const alg = process.argv[2] === 'ES256' ? 'ES256' : 'RS256';
const { privateKey } =
  alg === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('rsa', { modulusLength: 2048 });
const header = Buffer.from(JSON.stringify({ alg, kid: 'ceiling', typ: 'JWT' })).toString('base64url');

const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    const iat = Math.floor(Date.now() / 1000);
    // The claims fedbroker's ID tokens carry (lib/tokens/mint.ts), so the signing input is as long.
    const claims = {
      iss: 'http://localhost:8787',
      sub: 'dev/dev/dev:bench',
      aud: 'sts.amazonaws.com',
      iat,
      nbf: iat,
      exp: iat + 900,
      jti: randomUUID(),
      tenant_id: 'dev',
      trust: 'dev',
    };
    const input = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
    signWithKey(alg, privateKey, Buffer.from(input, 'latin1'), true).then(
      (signature) => {
        const body = JSON.stringify({
          access_token: `${input}.${Buffer.from(signature).toString('base64url')}`,
          issued_token_type: 'urn:ietf:params:oauth:token-type:id_token',
          token_type: 'N_A',
          expires_in: 900,
        });
        res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      },
      () => res.writeHead(500).end(),
    );
  });
});
server.listen(0, '127.0.0.1', () => {
  void report({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, path: '/v1/token' });
});
const stop = () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
};
process.on('SIGTERM', stop);
setTimeout(stop, MAX_LIFETIME_MS).unref();
