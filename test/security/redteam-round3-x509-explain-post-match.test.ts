// Red team, round 3, x509 side. A certificate session takes the FIRST candidate whose checks hold
// (lib/app/x509.ts certificateSession: `candidates.find(...)`), then renders its subject template;
// a claim the template names that the certificate lacks refuses the session (`subject`), with no
// fall-through. `x509:explain` stops at the conditions and shows that relationship as matched.
// Also: the session body's `trust` member narrows the candidates to one relationship; x509:explain
// had no such what-if. Fixed: the explanation renders its pick as the session does (lib/app/explain-verdict.ts)
// and takes the same `trust` what-if; these tests hold it.
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
let leaf: Issued;

const put = async (body: Record<string, unknown>) => expect(await env.admin.stored(TENANT, body)).toBe(true);

async function session(body: Record<string, unknown>) {
  const url = `${env.gateway.url}/v1/tenants/${TENANT}/x509/sessions`;
  const text = JSON.stringify({ ...body, nonce: randomUUID() });
  const headers = signRolesAnywhere({ url, body: text, certDer: leaf.der, keyPem: leaf.keyPem, serialHex: leaf.serialHex });
  const res = await fetch(url, { method: 'POST', headers, body: text });
  const out = await res.text();
  return { status: res.status, text: out };
}

beforeAll(async () => {
  env = await startExchangeEnv();
  admin = await startUpstreamIssuer();
  await env.admin.tenant(TENANT, []);
  adminToken = await adminAccessToken(env, TENANT, admin);
  root = ca.issue({ subject: '/O=Red Team/CN=R3 Root', ca: true, key: 'p256' });
  leaf = ca.issue({ subject: '/CN=r3-workload', issuer: root });
  const anchor = await env.api('POST', `/v1/tenants/${TENANT}/trust-anchors`, adminToken, { id: 'corp', certificates: root.certPem });
  expect(anchor.status, anchor.text).toBeLessThan(300);
  const x509 = (id: string, extra: Record<string, unknown> = {}) => ({
    kind: 'x509',
    id,
    trust_anchors: ['corp'],
    scopes: ['id-token:issue'],
    max_duration_seconds: 900,
    conditions: { StringEquals: { 'x509Subject/CN': 'r3-workload' } },
    ...extra,
  });
  // The leaf has no OU: a-tmpl's conditions hold but its subject cannot be rendered.
  await put(x509('a-tmpl', { subject_template: '{claims.x509Subject/OU}' }));
  await put(x509('b-open'));
}, 120_000);
afterAll(async () => {
  await admin?.close();
  await env?.close();
});

const explain = async (whatIf: { trust?: string } = {}) => {
  const res = await env.api('POST', `/v1/tenants/${TENANT}/x509:explain`, adminToken, { certificate: leaf.certPem, ...whatIf });
  expect(res.status, res.text).toBe(200);
  return (res.body.relationships as { id: string; matched: boolean }[]).filter((r) => r.matched).map((r) => r.id);
};

describe('x509:explain vs a certificate session', () => {
  it('the session refuses (a-tmpl is picked first and cannot render its subject; no fall-through)', async () => {
    const res = await session({});
    expect(res.status, res.text).toBe(403);
  });

  it('x509:explain shows none as matched', async () => {
    expect(await explain()).toEqual([]);
  });

  it('with body.trust=b-open the session grants through b-open, and x509:explain with the same trust what-if says so', async () => {
    const res = await session({ trust: 'b-open' });
    expect(res.status, res.text).toBe(200);
    expect(await explain({ trust: 'b-open' })).toEqual(['b-open']);
  });

  it('refuses a trust what-if that is not a relationship id (400 invalid_request)', async () => {
    const res = await env.api('POST', `/v1/tenants/${TENANT}/x509:explain`, adminToken, { certificate: leaf.certPem, trust: '../x' });
    expect(res.status, res.text).toBe(400);
    expect(res.body.error).toBe('invalid_request');
  });
});
