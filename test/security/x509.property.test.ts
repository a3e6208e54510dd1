import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { CertificateRefused } from '../../lib/errors.ts';
import { MemoryNonceStore } from '../../lib/local/memory-nonce-store.ts';
import { type ParsedAnchor, parseAnchor } from '../../lib/x509/anchor.ts';
import { verifyPath } from '../../lib/x509/path.ts';
import { verifyCertificateRequest } from '../../lib/x509/session.ts';
import type { SignedRequest } from '../../lib/x509/sigv4.ts';
import { type Issued, OpensslCa } from '../support/openssl-ca.ts';
import { signRolesAnywhere } from '../support/roles-anywhere-signer.ts';

/**
 * Threat model I8, I9, tried: random byte strings, mutated certificates, and mutated signed
 * requests never yield an identity and never throw anything but a `CertificateRefused`. A mutated
 * certificate that still parses fails its issuer's signature (pkijs) or fedbroker's profile; a
 * mutated request fails the SigV4-X509 signature.
 */

const ca = new OpensslCa();
let root: Issued;
let inter: Issued;
let leaf: Issued;
let anchors: ParsedAnchor[];
const URL_ = 'https://broker.example.com/v1/tenants/acme/x509/sessions';

beforeAll(async () => {
  root = ca.issue({ subject: '/CN=Prop Root', ca: true, key: 'p256' });
  inter = ca.issue({ subject: '/CN=Prop Issuing', ca: true, issuer: root, key: 'p256' });
  leaf = ca.issue({ subject: '/OU=Platform/CN=prop-leaf', issuer: inter, san: 'URI:spiffe://example.org/a' });
  anchors = [await parseAnchor({ id: 'corp', enabled: true, certificates: root.certPem, crls: [] }, new Date(), true)];
}, 60_000);

async function outcome(p: Promise<unknown>): Promise<'granted' | 'refused'> {
  try {
    await p;
    return 'granted';
  } catch (e) {
    if (e instanceof CertificateRefused) return 'refused';
    throw e;
  }
}

describe('X.509 verification under hostile input', () => {
  it('the unmutated chain verifies (the properties below are not vacuous)', async () => {
    expect(await outcome(verifyPath(leaf.der, [inter.der], anchors, new Date()))).toBe('granted');
  });

  it('random byte strings as leaf or intermediate never verify and never throw uncaught', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 0, maxLength: 3000 }), fc.boolean(), async (bytes, asLeaf) => {
        const got = await outcome(
          asLeaf ? verifyPath(bytes, [inter.der], anchors, new Date()) : verifyPath(leaf.der, [bytes], anchors, new Date()),
        );
        expect(got).toBe('refused');
      }),
      { numRuns: 300 },
    );
  });

  it('a leaf or intermediate with any byte changed never verifies', async () => {
    await fc.assert(
      fc.asyncProperty(fc.boolean(), fc.nat(), fc.integer({ min: 1, max: 255 }), async (mutateLeaf, at, xor) => {
        const target = mutateLeaf ? leaf.der : inter.der;
        const mutated = Uint8Array.from(target);
        const i = at % mutated.length;
        mutated[i] = (mutated[i] as number) ^ xor;
        const got = await outcome(
          mutateLeaf ? verifyPath(mutated, [inter.der], anchors, new Date()) : verifyPath(leaf.der, [mutated], anchors, new Date()),
        );
        expect(got).toBe('refused');
      }),
      { numRuns: 400 },
    );
  });

  it('a signed request with any header or body byte changed never verifies', async () => {
    const body = '{"durationSeconds":900}';
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('authorization', 'x-amz-date', 'x-amz-x509', 'x-amz-x509-chain', 'host', '(body)'),
        fc.nat(),
        fc.integer({ min: 1, max: 127 }),
        async (field, at, xor) => {
          const headers = signRolesAnywhere({
            url: URL_,
            body,
            certDer: leaf.der,
            chainDers: [inter.der],
            keyPem: leaf.keyPem,
            serialHex: leaf.serialHex,
          });
          const flip = (s: string) => {
            const i = at % s.length;
            const c = String.fromCharCode((s.charCodeAt(i) ^ xor) & 0x7f || 1);
            return s.slice(0, i) + c + s.slice(i + 1);
          };
          const flipped = field === '(body)' ? flip(body) : body;
          const changed = field === '(body)' ? headers : { ...headers, [field]: flip(headers[field] as string) };
          // A flip that leaves the value equal (same character) is not a mutation.
          fc.pre(field === '(body)' ? flipped !== body : changed[field] !== headers[field]);
          const req: SignedRequest = {
            method: 'POST',
            path: '/v1/tenants/acme/x509/sessions',
            rawQueryString: '',
            headers: changed,
            body: Buffer.from(flipped),
          };
          expect(await outcome(verifyCertificateRequest(req, anchors, new MemoryNonceStore(), new Date()))).toBe('refused');
        },
      ),
      { numRuns: 400 },
    );
  });
});
