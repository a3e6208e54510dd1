import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Issued, OpensslCa } from '../support/openssl-ca.ts';
import { startLocalRun } from '../support/local-run.ts';
import { signRolesAnywhere } from '../support/roles-anywhere-signer.ts';

/** Red team against the local run as `npm start` starts it (its dev tenant and dev issuer). */

let localRun: Awaited<ReturnType<typeof startLocalRun>>;
let BROKER = '';
let DEV = '';
const ca = new OpensslCa();
let admin = '';
let root: Issued;
let leaf: Issued;
const run = randomUUID().slice(0, 8);

async function api(method: string, path: string, body?: unknown, token = admin) {
  const res = await fetch(`${BROKER}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json().catch(() => undefined)) as Record<string, unknown> };
}

async function session(o: { cert: Issued; body?: string; headers?: Record<string, string>; tenant?: string; path?: string }) {
  const url = `${BROKER}${o.path ?? `/v1/tenants/${o.tenant ?? 'dev'}/x509/sessions`}`;
  const body = o.body ?? JSON.stringify({ nonce: randomUUID() });
  const headers = signRolesAnywhere({ url, body, certDer: o.cert.der, keyPem: o.cert.keyPem, serialHex: o.cert.serialHex });
  const res = await fetch(url, { method: 'POST', headers: { ...headers, ...o.headers }, body });
  return { status: res.status, text: await res.text(), headers, body, url };
}

describe('red team: x509 sessions against the local run', () => {
  beforeAll(async () => {
    localRun = await startLocalRun();
    BROKER = localRun.issuer;
    DEV = localRun.devIssuer;
    const dev = (await (await fetch(`${DEV}/token`, { method: 'POST', body: 'sub=dev:redteam' })).text()).trim();
    const form = new URLSearchParams({
      grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
      subject_token_type: 'urn:ietf:params:oauth:token-type:id_token',
      tenant: 'dev',
      subject_token: dev,
    });
    admin = ((await (await fetch(`${BROKER}/v1/token`, { method: 'POST', body: form })).json()) as { access_token: string }).access_token;
    root = ca.issue({ subject: `/O=Red Team/CN=Live Root ${run}`, ca: true, key: 'p256' });
    leaf = ca.issue({ subject: '/CN=live-workload', issuer: root, san: 'URI:spiffe://redteam/w' });
    const anchor = await api('POST', '/v1/tenants/dev/trust-anchors', { id: `rt-${run}`, certificates: root.certPem });
    expect(anchor.status, JSON.stringify(anchor.body)).toBeLessThan(300);
    const rel = await api('POST', '/v1/tenants/dev/trust-relationships', {
      kind: 'x509',
      id: `rt-${run}`,
      trust_anchors: [`rt-${run}`],
      scopes: ['id-token:issue'],
      max_duration_seconds: 900,
      conditions: { IpAddress: { 'fedbroker:SourceIp': '10.9.8.0/24' } },
    });
    expect(rel.status, JSON.stringify(rel.body)).toBeLessThan(300);
    const rel2 = await api('POST', '/v1/tenants/dev/trust-relationships', {
      kind: 'x509',
      id: `rt-open-${run}`,
      trust_anchors: [`rt-${run}`],
      scopes: ['id-token:issue'],
      max_duration_seconds: 900,
      conditions: { StringEquals: { 'x509Subject/CN': 'live-workload' } },
    });
    expect(rel2.status, JSON.stringify(rel2.body)).toBeLessThan(300);
  }, 90_000);

  afterAll(async () => localRun?.stop());

  it('the admin API refuses a name-constrained anchor CA and a delta CRL', async () => {
    const constrained = ca.issue({
      subject: `/O=Red Team/CN=Live NC ${run}`,
      ca: true,
      issuer: root,
      extra: ['nameConstraints = critical, permitted;DNS:.corp.example'],
    });
    const nc = await api('POST', '/v1/tenants/dev/trust-anchors', { id: `rt-nc-${run}`, certificates: root.certPem + constrained.certPem });
    expect(nc.status, JSON.stringify(nc.body)).toBe(400);
    const delta = ca.crl(root, { crlExtensions: ['2.5.29.27 = critical, DER:020101'] });
    const withDelta = await api('POST', '/v1/tenants/dev/trust-anchors', {
      id: `rt-delta-${run}`,
      certificates: root.certPem,
      crls: [delta],
    });
    expect(withDelta.status, JSON.stringify(withDelta.body)).toBe(400);
  });

  it('a signed request gets a token; the same request again is refused (replay)', async () => {
    const first = await session({ cert: leaf, body: JSON.stringify({ trust: `rt-open-${run}`, nonce: run }) });
    expect(first.status, first.text).toBe(200);
    const again = await fetch(first.url, { method: 'POST', headers: first.headers, body: first.body });
    expect(again.status).toBe(403);
    // Saved for the restart check (scripts run it after restarting the broker).
    if (process.env.FEDBROKER_REDTEAM_SAVE) {
      const { writeFileSync } = await import('node:fs');
      writeFileSync(process.env.FEDBROKER_REDTEAM_SAVE, JSON.stringify({ url: first.url, headers: first.headers, body: first.body }));
    }
  });

  it('X-Forwarded-For never supplies fedbroker:SourceIp', async () => {
    const res = await session({
      cert: leaf,
      body: JSON.stringify({ trust: `rt-${run}`, nonce: randomUUID() }),
      headers: { 'x-forwarded-for': '10.9.8.7', forwarded: 'for=10.9.8.7', 'x-real-ip': '10.9.8.7' },
    });
    expect(res.status, res.text).toBe(403);
  });
  it('malformed headers, bodies and paths are refused, never a 500', async () => {
    const url = `${BROKER}/v1/tenants/dev/x509/sessions`;
    const d = `${new Date().toISOString().replace(/[-:]/g, '').slice(0, 15)}Z`;
    const auth =
      'AWS4-X509-ECDSA-SHA256 Credential=1/20261207/us-east-1/rolesanywhere/aws4_request, ' +
      'SignedHeaders=host;x-amz-date;x-amz-x509, Signature=00';
    const base = { authorization: auth, 'x-amz-date': d, 'x-amz-x509': 'MAA=' };
    const cases: [string, Record<string, string>, string | Uint8Array][] = [
      [url, {}, ''],
      [url, { ...base, 'x-amz-x509': 'MIIBAA==' }, '{}'],
      [url, base, '{"__proto__":{"a":1}}'],
      [url, base, '{"durationSeconds":1e400}'],
      [url, base, '\u00ff'],
      [url, { ...base, 'x-amz-x509-chain': ',,,' }, ''],
      [url, { ...base, 'x-amz-date': '20261331T000000Z' }, ''],
      [`${url}?x=1`, base, ''],
      [`${BROKER}/v1/tenants/DEV/x509/sessions`, base, ''],
      [url, { ...base, 'content-type': 'application/octet-stream' }, new Uint8Array([0xff, 0, 1])],
    ];
    for (const [u, headers, body] of cases) {
      const res = await fetch(u, { method: 'POST', headers, body });
      expect(res.status, `${u} ${JSON.stringify(headers)}`).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
    }
  });
});
