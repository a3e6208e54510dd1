import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { InvalidRequest } from '../../../lib/errors.ts';
import { DynamoNonceStore } from '../../../lib/aws/dynamo-nonce-store.ts';
import { Table } from '../../../lib/aws/dynamo-table.ts';
import { startDynalite } from '../../../lib/local/dynalite.ts';
import { createTableFromServerlessYml } from '../../../lib/local/table.ts';
import { ANCHOR_LIMITS, validateAnchor } from '../../../lib/x509/anchor.ts';
import { type Issued, OpensslCa } from '../../support/openssl-ca.ts';

/** Threat model I10: an anchor is checked when stored; each refusal its own test. Plus the DynamoDB nonce store (I9). */

const ca = new OpensslCa();
let root: Issued;
const now = () => new Date();

beforeAll(() => {
  root = ca.issue({ subject: '/CN=Anchor Root', ca: true, key: 'p256' });
}, 60_000);

async function refusedWith(body: unknown, message: RegExp) {
  const e = await validateAnchor(body, now()).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(InvalidRequest);
  expect((e as InvalidRequest).code).toBe('ERR_INVALID_REQUEST');
  expect((e as InvalidRequest).message).toMatch(message);
}

describe('validateAnchor accepts', () => {
  it('a CA bundle with a CRL in PEM and one in base64 DER', async () => {
    const inter = ca.issue({ subject: '/CN=Anchor Issuing', ca: true, issuer: root, key: 'rsa2048' });
    const pem = ca.crl(root);
    const der = Buffer.from(pem.replace(/-----[A-Z0-9 ]+-----|\s/g, ''), 'base64').toString('base64');
    const spec = await validateAnchor({ id: 'corp', certificates: root.certPem + inter.certPem, crls: [pem, der] }, now());
    expect(spec).toMatchObject({ id: 'corp', enabled: true });
  });
});

describe('validateAnchor refuses', () => {
  it('a certificate that is not a CA (CA:FALSE)', async () => {
    const leaf = ca.issue({ subject: '/CN=leaf', issuer: root });
    await refusedWith({ certificates: leaf.certPem }, /not a CA/);
  });

  it('a CA without keyCertSign', async () => {
    const noSign = ca.issue({ subject: '/CN=No Sign CA', ca: true, keyUsage: 'critical, cRLSign' });
    await refusedWith({ certificates: noSign.certPem }, /keyCertSign/);
  });

  it('an RSA 1024 CA', async () => {
    const weak = ca.issue({ subject: '/CN=Weak CA', ca: true, key: 'rsa1024' });
    await refusedWith({ certificates: weak.certPem }, /RSA ≥ 2048/);
  });

  it('a CA signed with SHA-1', async () => {
    const sha1 = ca.issue({ subject: '/CN=SHA1 CA', ca: true, md: 'sha1' });
    await refusedWith({ certificates: sha1.certPem }, /SHA-256 or stronger/);
  });

  it('an expired CA', async () => {
    const old = ca.issue({ subject: '/CN=Old CA', ca: true, start: new Date(Date.now() - 9e8), end: new Date(Date.now() - 1e6) });
    await refusedWith({ certificates: old.certPem }, /expired/);
  });

  it('a CRL signed by the wrong key (same issuer name)', async () => {
    const impostor = ca.issue({ subject: '/CN=Anchor Root', ca: true, key: 'p256' });
    await refusedWith({ certificates: root.certPem, crls: [ca.crl(impostor)] }, /CRL 1 is not signed by a CA of this anchor/);
  });

  it('a CRL of a CA that is not in the anchor', async () => {
    const other = ca.issue({ subject: '/CN=Elsewhere CA', ca: true });
    await refusedWith({ certificates: root.certPem, crls: [ca.crl(other)] }, /CRL 1 is not signed by a CA of this anchor/);
  });

  it('text that is not PEM certificates', async () => {
    await refusedWith({ certificates: `${root.certPem}\nhello` }, /PEM "CERTIFICATE" blocks/);
    await refusedWith({ certificates: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n' }, /does not parse/);
  });

  it('bundles, CRL lists and CRLs over their caps', async () => {
    await refusedWith({ certificates: root.certPem.repeat(ANCHOR_LIMITS.certificatesPerBundle + 1) }, /at most 10 certificates/);
    await refusedWith({ certificates: 'x'.repeat(ANCHOR_LIMITS.bundleBytes + 1) }, /certificates/);
    await refusedWith({ certificates: root.certPem, crls: Array(ANCHOR_LIMITS.crlsPerAnchor + 1).fill('AAAA') }, /crls/);
    await refusedWith({ certificates: root.certPem, crls: ['A'.repeat(200_000), 'A'.repeat(100_000)] }, /together are over/);
  });

  it('unknown members', async () => {
    await refusedWith({ certificates: root.certPem, fetch_crls_from: 'http://crl.example' }, /fetch_crls_from|Unrecognized/i);
  });
});

describe('DynamoNonceStore (dynalite)', () => {
  let dynamo: Awaited<ReturnType<typeof startDynalite>>;
  let store: DynamoNonceStore;
  beforeAll(async () => {
    dynamo = await startDynalite();
    const client = new DynamoDBClient({
      region: 'us-east-1',
      endpoint: dynamo.endpoint,
      credentials: { accessKeyId: 't', secretAccessKey: 't' },
    });
    await createTableFromServerlessYml(client, 'nonces');
    store = new DynamoNonceStore(new Table('nonces', client));
  });
  afterAll(() => dynamo.close());

  it('claims a nonce once within its lifetime, and again only after it expired (checked by the write, no TTL)', async () => {
    expect(await store.claim('n1', 1600, 1000)).toBe(true);
    expect(await store.claim('n1', 1700, 1100)).toBe(false);
    expect(await store.claim('n1', 1700, 1600)).toBe(false);
    expect(await store.claim('n1', 2300, 1601)).toBe(true);
    expect(await store.claim('n2', 1600, 1000)).toBe(true);
  });

  it('lets exactly one of concurrent claims win', async () => {
    const results = await Promise.all(Array.from({ length: 8 }, () => store.claim('race', 2000, 1000)));
    expect(results.filter(Boolean)).toHaveLength(1);
  });
});
