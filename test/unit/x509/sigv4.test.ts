import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { CertificateRefused } from '../../../lib/errors.ts';
import { MemoryNonceStore } from '../../../lib/local/memory-nonce-store.ts';
import { type ParsedAnchor, parseAnchor } from '../../../lib/x509/anchor.ts';
import { verifyCertificateRequest } from '../../../lib/x509/session.ts';
import type { SignedRequest } from '../../../lib/x509/sigv4.ts';
import { type Issued, OpensslCa } from '../../support/openssl-ca.ts';
import { type SignOptions, signRolesAnywhere } from '../../support/roles-anywhere-signer.ts';

/** Threat model I9: proof of possession, ±5 min, one use. Each refusal its own test with its reason. */

const URL_ = 'https://broker.example.com/v1/tenants/acme/x509/sessions';
const ca = new OpensslCa();
let root: Issued;
let inter: Issued;
let ecLeaf: Issued;
let rsaLeaf: Issued;
let anchors: ParsedAnchor[];

beforeAll(async () => {
  root = ca.issue({ subject: '/CN=Sig Root', ca: true, key: 'p256' });
  inter = ca.issue({ subject: '/CN=Sig Issuing', ca: true, issuer: root, key: 'p256' });
  ecLeaf = ca.issue({ subject: '/CN=ec-workload', issuer: inter, key: 'p256' });
  rsaLeaf = ca.issue({ subject: '/CN=rsa-workload', issuer: inter, key: 'rsa2048' });
  anchors = [await parseAnchor({ id: 'corp', enabled: true, certificates: root.certPem, crls: [] }, new Date(), true)];
}, 60_000);

function request(leaf: Issued, over: Partial<SignOptions> = {}, body = '{"durationSeconds":900}'): SignedRequest {
  const headers = signRolesAnywhere({
    url: URL_,
    body,
    certDer: leaf.der,
    chainDers: [inter.der],
    keyPem: leaf.keyPem,
    serialHex: leaf.serialHex,
    ...over,
  });
  return { method: 'POST', path: new URL(URL_).pathname, rawQueryString: '', headers, body: Buffer.from(body) };
}

async function refusedWith(p: Promise<unknown>, reason: string) {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(CertificateRefused);
  expect((e as CertificateRefused).code).toBe('ERR_CERTIFICATE_REFUSED');
  expect((e as CertificateRefused).reason).toBe(reason);
}

const verify = (req: SignedRequest, nonces = new MemoryNonceStore(), now = new Date()) =>
  verifyCertificateRequest(req, anchors, nonces, now);

describe('a Roles-Anywhere-signed request', () => {
  it('verifies for an EC key (AWS4-X509-ECDSA-SHA256)', async () => {
    const ok = await verify(request(ecLeaf));
    expect(ok.claims['x509Subject/CN']).toBe('ec-workload');
  });

  it('verifies for an RSA key (AWS4-X509-RSA-SHA256)', async () => {
    const ok = await verify(request(rsaLeaf));
    expect(ok.claims['x509Subject/CN']).toBe('rsa-workload');
  });

  it('is refused when replayed (replayed nonce)', async () => {
    const nonces = new MemoryNonceStore();
    const req = request(ecLeaf);
    await verify(req, nonces);
    await refusedWith(verify(req, nonces), 'replayed');
  });

  it('is refused when replayed with a malleated ECDSA signature (r, n − s)', async () => {
    const nonces = new MemoryNonceStore();
    const req = request(ecLeaf);
    await verify(req, nonces);
    const auth = req.headers.authorization as string;
    const sig = Buffer.from(/Signature=([0-9a-f]+)$/.exec(auth)?.[1] as string, 'hex');
    const malleated = malleate(sig);
    const headers = { ...req.headers, authorization: auth.replace(/Signature=[0-9a-f]+$/, `Signature=${malleated.toString('hex')}`) };
    await refusedWith(verify({ ...req, headers }, nonces), 'replayed');
  });

  it('is accepted again once the nonce has expired (11 minutes later, with a fresh date)', async () => {
    const nonces = new MemoryNonceStore();
    await verify(request(ecLeaf), nonces);
    const later = new Date(Date.now() + 11 * 60_000);
    await expect(verify(request(ecLeaf, { date: later }), nonces, later)).resolves.toBeDefined();
  });

  it('is refused with a stale timestamp (6 minutes old)', async () => {
    await refusedWith(verify(request(ecLeaf, { date: new Date(Date.now() - 6 * 60_000) })), 'stale_timestamp');
  });

  it('is refused with a timestamp 6 minutes ahead', async () => {
    await refusedWith(verify(request(ecLeaf, { date: new Date(Date.now() + 6 * 60_000) })), 'stale_timestamp');
  });

  it('is refused when signed by another key over the same certificate', async () => {
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
    await refusedWith(verify(request(ecLeaf, { keyPem: other })), 'signature');
  });

  it('is refused with a bad signature (body changed after signing)', async () => {
    const req = request(ecLeaf);
    await refusedWith(verify({ ...req, body: Buffer.from('{"durationSeconds":43200}') }), 'signature');
  });

  it('is refused when another leaf is swapped into X-Amz-X509', async () => {
    const req = request(ecLeaf);
    const headers = { ...req.headers, 'x-amz-x509': Buffer.from(rsaLeaf.der).toString('base64') };
    await refusedWith(verify({ ...req, headers }), 'serial_mismatch');
  });

  it('is refused when the algorithm does not name the key type', async () => {
    await refusedWith(verify(request(ecLeaf, { algorithm: 'AWS4-X509-RSA-SHA256' })), 'signature');
  });

  it('is refused when the certificate header is not signed', async () => {
    await refusedWith(verify(request(ecLeaf, { signedHeaders: ['host', 'x-amz-date', 'x-amz-x509'] })), 'unsigned_header');
  });

  it('is refused when the credential names another serial', async () => {
    await refusedWith(verify(request(ecLeaf, { serialDecimal: '12345' })), 'serial_mismatch');
  });

  it('is refused when the path is not the one signed', async () => {
    const req = request(ecLeaf);
    await refusedWith(verify({ ...req, path: '/v1/tenants/other/x509/sessions' }), 'signature');
  });

  it('is refused with a query string', async () => {
    await refusedWith(verify({ ...request(ecLeaf), rawQueryString: 'a=b' }), 'malformed_request');
  });

  it('is refused without an Authorization header', async () => {
    const req = request(ecLeaf);
    const { authorization: _, ...headers } = req.headers;
    await refusedWith(verify({ ...req, headers }), 'malformed_request');
  });

  it('is refused when the chain is not trusted even if the signature is good', async () => {
    const stranger = ca.issue({ subject: '/CN=Stranger Root', ca: true });
    const leaf = ca.issue({ subject: '/CN=stranger', issuer: stranger });
    await refusedWith(verify(request(leaf, { chainDers: [] })), 'untrusted_issuer');
  });

  it('reads PKCS#8 and SEC1 keys alike (the signer accepts both)', () => {
    expect(createPrivateKey(ecLeaf.keyPem).asymmetricKeyType).toBe('ec');
  });
});

/** ECDSA P-256 signature malleability: (r, s) → (r, n − s), both valid (SEC 1 §4.1.4). */
function malleate(derSig: Buffer): Buffer {
  const n = BigInt('0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551');
  const readInt = (buf: Buffer, at: number): [bigint, number] => {
    const len = buf[at + 1] as number;
    return [BigInt(`0x${buf.subarray(at + 2, at + 2 + len).toString('hex')}`), at + 2 + len];
  };
  const [r, next] = readInt(derSig, 2);
  const [s] = readInt(derSig, next);
  const enc = (x: bigint) => {
    let h = x.toString(16);
    if (h.length % 2) h = `0${h}`;
    if (Number.parseInt(h.slice(0, 2), 16) >= 0x80) h = `00${h}`;
    const b = Buffer.from(h, 'hex');
    return Buffer.concat([Buffer.from([0x02, b.length]), b]);
  };
  const body = Buffer.concat([enc(r), enc(n - s)]);
  return Buffer.concat([Buffer.from([0x30, body.length]), body]);
}

describe('the nonce store', () => {
  it('is written only after the path verified: a self-made certificate with a good signature writes nothing', async () => {
    const writes: string[] = [];
    const counting = {
      claim: async (nonce: string) => {
        writes.push(nonce);
        return true;
      },
    };
    const stranger = ca.issue({ subject: '/CN=Self Made Root', ca: true });
    const leaf = ca.issue({ subject: '/CN=self-made', issuer: stranger });
    await refusedWith(verifyCertificateRequest(request(leaf, { chainDers: [] }), anchors, counting, new Date()), 'untrusted_issuer');
    expect(writes).toEqual([]);
    await verifyCertificateRequest(request(ecLeaf), anchors, counting, new Date());
    expect(writes).toHaveLength(1);
  });
});
