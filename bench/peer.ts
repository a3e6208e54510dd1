// The peer for the HTTP comparison, in its own process like fedbroker's servers: panva's
// oidc-provider issuing JWT access tokens (RS256, or the algorithm given as the first argument) from its client_credentials token endpoint
// (test/support/oidc-provider.ts: features.clientCredentials + resourceIndicators, 'jwt' format).
// Prints one JSON line with its URL and a ready request; exits on SIGTERM or after 10 minutes.
import { startOidcProvider } from '../test/support/oidc-provider.ts';
import { report } from './support.ts';

const MAX_LIFETIME_MS = 10 * 60_000;
const alg = process.argv[2] === 'ES256' ? 'ES256' : 'RS256';
const op = await startOidcProvider({ audience: 'https://api.bench.test', clients: ['bench'], alg });
// One real token first: a misconfigured peer must fail here, not be "fast" at answering errors.
await op.token('bench');
const stop = async () => {
  await op.close();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
setTimeout(() => void stop(), MAX_LIFETIME_MS);
await report({
  url: op.issuer,
  path: '/token',
  authorization: `Basic ${Buffer.from('bench:bench-secret').toString('base64')}`,
  body: 'grant_type=client_credentials&scope=api',
});
