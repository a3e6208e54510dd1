// `node bench/x509.ts`: what a certificate session costs (issue 13), as a ratio to the floor of
// its cryptography — one ECDSA P-256 verify (the request signature) plus one ES256 sign (the
// access token). The session side runs the real verification (lib/x509/session.ts: SigV4-X509
// signature, nonce claim, RFC 5280 path through one intermediate with pkijs, CRL lookup) on
// certificates made by the openssl CLI; minting is charged as one sign. Prints one markdown row;
// not a test, and timings are judged here only. BENCH_QUICK=1 shortens it.
import { createPrivateKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import { MemoryNonceStore } from '../lib/local/memory-nonce-store.ts';
import { parseAnchor } from '../lib/x509/anchor.ts';
import { verifyCertificateRequest } from '../lib/x509/session.ts';
import { OpensslCa } from '../test/support/openssl-ca.ts';
import { signRolesAnywhere } from '../test/support/roles-anywhere-signer.ts';

const QUICK = process.env.BENCH_QUICK === '1';
const N = QUICK ? 200 : 2000;

const ca = new OpensslCa();
const root = ca.issue({ subject: '/CN=Bench Root', ca: true, key: 'p256' });
const inter = ca.issue({ subject: '/CN=Bench Issuing', ca: true, issuer: root, key: 'p256' });
const leaf = ca.issue({ subject: '/OU=Bench/CN=bench-1', issuer: inter, key: 'p256' });
ca.revoke(root, ca.issue({ subject: '/CN=Revoked CA', ca: true, issuer: root, key: 'p256' }));
const anchors = [await parseAnchor({ id: 'corp', enabled: true, certificates: root.certPem, crls: [ca.crl(root)] }, new Date(), true)];
const url = 'https://broker.example.com/v1/tenants/acme/x509/sessions';

// Requests are signed up front (one nonce each) so the timed loop is the broker's side only.
const requests = Array.from({ length: N }, (_, i) => {
  const body = JSON.stringify({ nonce: String(i) });
  const headers = signRolesAnywhere({
    url,
    body,
    certDer: leaf.der,
    chainDers: [inter.der],
    keyPem: leaf.keyPem,
    serialHex: leaf.serialHex,
  });
  return { method: 'POST', path: '/v1/tenants/acme/x509/sessions', rawQueryString: '', headers, body: Buffer.from(body) };
});
const signer = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
const leafKey = createPrivateKey(leaf.keyPem);
const message = Buffer.from('x'.repeat(300));
const leafSignature = sign('sha256', message, { key: leafKey, dsaEncoding: 'der' });

async function session(nonces: MemoryNonceStore, i: number): Promise<void> {
  await verifyCertificateRequest(requests[i] as (typeof requests)[number], anchors, nonces, new Date());
  sign('sha256', message, { key: signer, dsaEncoding: 'ieee-p1363' });
}
function floor(): void {
  verify('sha256', message, { key: leafKey, dsaEncoding: 'der' }, leafSignature);
  sign('sha256', message, { key: signer, dsaEncoding: 'ieee-p1363' });
}

// Warm both (pkijs loads lazily; JIT), then time them interleaved in rounds.
const warm = new MemoryNonceStore();
for (let i = 0; i < Math.min(50, N); i++) {
  await session(warm, i);
  floor();
}
const sessionMs: number[] = [];
const floorMs: number[] = [];
const rounds = 5;
const per = Math.floor(N / rounds);
for (let r = 0; r < rounds; r++) {
  const nonces = new MemoryNonceStore();
  let t = performance.now();
  for (let i = r * per; i < (r + 1) * per; i++) await session(nonces, i);
  sessionMs.push((performance.now() - t) / per);
  t = performance.now();
  for (let i = 0; i < per; i++) floor();
  floorMs.push((performance.now() - t) / per);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const s = median(sessionMs);
const f = median(floorMs);
console.log('| measurement | per request | floor (P-256 verify + sign) | ratio |');
console.log('| --- | --- | --- | --- |');
console.log(`| X.509 session verification + token sign | ${s.toFixed(3)} ms | ${f.toFixed(3)} ms | ${(s / f).toFixed(1)}× |`);
