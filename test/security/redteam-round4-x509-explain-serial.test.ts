// Red team, round 4. certificateSession refuses `malformed_certificate` AFTER the path verified
// when any certificate below the anchor has a serial outside SERIAL_HEX (lib/app/x509.ts:
// `if (below.some((c) => !SERIAL_HEX.test(c.serialHex))) throw refuse('malformed_certificate')`,
// SERIAL_HEX = 2..128 hex digits, i.e. at most 64 octets). explainCertificate has no such step,
// so an intermediate with a 65-octet serial verified, and x509:explain showed the relationship as
// matched although every session through that chain is refused. Fixed: both apply serialsUsable
// (lib/app/x509.ts); these tests hold it.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Issued, OpensslCa } from '../support/openssl-ca.ts';
import { signRolesAnywhere } from '../support/roles-anywhere-signer.ts';
import { adminAccessToken, startExchangeEnv, type ExchangeEnv } from '../support/security-env.ts';
import { startUpstreamIssuer, type UpstreamIssuer } from '../support/upstream-issuer.ts';

let env: ExchangeEnv;
let admin: UpstreamIssuer;
let adminToken = '';
const TENANT = 'acme';
const ca = new OpensslCa();
let root: Issued;
let inter: Issued;
let leaf: Issued;
let okInter: Issued;
let okLeaf: Issued;
let longLeaf: Issued;

const put = async (body: Record<string, unknown>) => expect(await env.admin.stored(TENANT, body)).toBe(true);

beforeAll(async () => {
  env = await startExchangeEnv();
  admin = await startUpstreamIssuer();
  await env.admin.tenant(TENANT, []);
  adminToken = await adminAccessToken(env, TENANT, admin);
  root = ca.issue({ subject: '/O=Red Team/CN=R4 Root', ca: true, key: 'p256' });
  // 65 octets: parses and verifies, but is outside SERIAL_HEX.
  inter = ca.issue({ subject: '/O=Red Team/CN=R4 Intermediate', ca: true, key: 'p256', issuer: root, serialHex: `7f${'ab'.repeat(64)}` });
  leaf = ca.issue({ subject: '/CN=r4-workload', issuer: inter });
  // Control: the same chain with an ordinary intermediate serial.
  okInter = ca.issue({ subject: '/O=Red Team/CN=R4 Intermediate OK', ca: true, key: 'p256', issuer: root });
  okLeaf = ca.issue({ subject: '/CN=r4-workload', issuer: okInter });
  // A leaf whose 30-octet serial is within SERIAL_HEX but is 72 decimal digits: the SigV4
  // Credential accepts at most 64 (lib/x509/sigv4.ts AUTHORIZATION), so no session can carry it.
  longLeaf = ca.issue({ subject: '/CN=r4-workload', issuer: okInter, serialHex: `7f${'cd'.repeat(29)}` });
  const anchor = await env.api('POST', `/v1/tenants/${TENANT}/trust-anchors`, adminToken, { id: 'corp', certificates: root.certPem });
  expect(anchor.status, anchor.text).toBeLessThan(300);
  await put({
    kind: 'x509',
    id: 'only',
    trust_anchors: ['corp'],
    scopes: ['id-token:issue'],
    max_duration_seconds: 900,
    conditions: { StringEquals: { 'x509Subject/CN': 'r4-workload' } },
  });
}, 120_000);
afterAll(async () => {
  await admin?.close();
  await env?.close();
});

async function session(l: Issued, i: Issued) {
  const url = `${env.gateway.url}/v1/tenants/${TENANT}/x509/sessions`;
  const text = JSON.stringify({ nonce: randomUUID() });
  const headers = signRolesAnywhere({ url, body: text, certDer: l.der, keyPem: l.keyPem, serialHex: l.serialHex, chainDers: [i.der] });
  const res = await fetch(url, { method: 'POST', headers, body: text });
  return { status: res.status, text: await res.text() };
}

async function explained(l: Issued, i: Issued) {
  const res = await env.api('POST', `/v1/tenants/${TENANT}/x509:explain`, adminToken, {
    certificate: l.certPem,
    intermediates: [i.certPem],
  });
  expect(res.status, res.text).toBe(200);
  return {
    matched: (res.body.relationships as { id: string; matched: boolean }[]).filter((r) => r.matched).map((r) => r.id),
    body: res.body,
  };
}

describe('x509:explain vs a session', () => {
  it('control: an ordinary chain is granted, and explained as matched', async () => {
    const res = await session(okLeaf, okInter);
    expect(res.status, res.text).toBe(200);
    expect((await explained(okLeaf, okInter)).matched).toEqual(['only']);
  });

  it('intermediate serial outside SERIAL_HEX: the session is refused (malformed_certificate after the path)', async () => {
    const res = await session(leaf, inter);
    expect(res.status, res.text).toBe(403);
  });

  it('intermediate serial outside SERIAL_HEX: x509:explain shows no relationship as matched', async () => {
    const { matched, body } = await explained(leaf, inter);
    expect(matched, JSON.stringify(body)).toEqual([]);
    expect(body.reason).toBe('malformed_certificate');
  });

  it('leaf serial longer than a SigV4 Credential can carry: the session is refused', async () => {
    const res = await session(longLeaf, okInter);
    expect(res.status, res.text).toBe(403);
  });

  it('leaf serial longer than a SigV4 Credential can carry: x509:explain shows no relationship as matched', async () => {
    const { matched, body } = await explained(longLeaf, okInter);
    expect(matched, JSON.stringify(body)).toEqual([]);
    expect(body.reason).toBe('malformed_certificate');
  });
});
