import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type TestBroker } from '../support/broker.ts';
import { postExchange, TOKEN_TYPE } from '../support/exchange-client.ts';
import { startGateway } from '../support/gateway.ts';
import { type Issued, OpensslCa } from '../support/openssl-ca.ts';
import { signRolesAnywhere } from '../support/roles-anywhere-signer.ts';
import { tenantAdmin } from '../support/tenants.ts';
import { startUpstreamIssuer, type UpstreamIssuer } from '../support/upstream-issuer.ts';
import type { JsonBody } from '../support/json-body.ts';

/**
 * Threat model I8/I10, stateful: random sequences of anchor changes (enable, disable, a new CRL,
 * a CRL dropped, the bundle narrowed to another CA) and certificate sessions, through the admin API
 * and the session endpoint against dynalite, checked against a model: a session is granted iff the
 * anchor is enabled, holds the certificate's root, and the newest CRL does not list its serial.
 * The admin API drops the tenant's cached view in this container, so the model needs no clock.
 */

let broker: TestBroker;
let gateway: Awaited<ReturnType<typeof startGateway>>;
let upstream: UpstreamIssuer;
let admin: string;
const ca = new OpensslCa();
let root: Issued;
let otherRoot: Issued;
let leaves: Issued[];
/** crls[i]: the root's CRL listing leaves[0..i-1], made in that order (thisUpdate increasing). */
let crls: string[];

interface Model {
  enabled: boolean;
  /** Indexes into crls uploaded, in upload order (the newest, the highest index, decides). */
  crls: number[];
  /** Which CA the bundle holds. */
  bundle: 'root' | 'other';
  version: number;
}

async function api(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${gateway.url}${path}`, {
    method,
    headers: { Authorization: `Bearer ${admin}`, ...(body ? { 'Content-Type': 'application/json' } : {}), ...headers },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: (await res.json().catch(() => undefined)) as JsonBody };
}

async function putAnchor(m: Model): Promise<void> {
  const res = await api(
    'PUT',
    '/v1/tenants/acme/trust-anchors/corp',
    {
      certificates: (m.bundle === 'root' ? root : otherRoot).certPem,
      crls: m.bundle === 'root' ? m.crls.map((i) => crls[i]) : [],
      enabled: m.enabled,
    },
    { 'If-Match': `"${m.version}"` },
  );
  expect(res.status).toBe(200);
  m.version = res.body.version;
}

async function session(leaf: Issued): Promise<number> {
  const url = `${gateway.url}/v1/tenants/acme/x509/sessions`;
  const body = JSON.stringify({ nonce: randomUUID() });
  const headers = signRolesAnywhere({ url, body, certDer: leaf.der, keyPem: leaf.keyPem, serialHex: leaf.serialHex });
  return (await fetch(url, { method: 'POST', headers, body })).status;
}

beforeAll(async () => {
  broker = await startBroker({ env: { FEDBROKER_LOCAL: 'true' } });
  gateway = await startGateway((m) => broker.load(m));
  upstream = await startUpstreamIssuer();
  await tenantAdmin(broker.tableName).tenant('acme', [
    {
      kind: 'oidc',
      id: 'admin',
      issuer: upstream.issuer,
      audiences: ['fedbroker'],
      conditions: { StringEquals: { sub: 'admin' } },
      scopes: ['trust:admin'],
    },
    { kind: 'x509', id: 'servers', trust_anchors: ['corp'], scopes: ['id-token:issue'] },
  ]);
  const res = await postExchange(gateway.url, {
    subject_token: await upstream.token({ sub: 'admin' }),
    subject_token_type: TOKEN_TYPE.idToken,
    tenant: 'acme',
  });
  admin = res.body.access_token as string;
  root = ca.issue({ subject: '/CN=Model Root', ca: true, key: 'p256' });
  otherRoot = ca.issue({ subject: '/CN=Model Other Root', ca: true, key: 'p256' });
  leaves = [0, 1, 2].map((i) => ca.issue({ subject: `/CN=model-${i}`, issuer: root }));
  crls = [ca.crl(root, { lastUpdate: new Date(Date.now() - 4 * 3600_000) })];
  for (const [i, leaf] of leaves.entries()) {
    ca.revoke(root, leaf);
    crls.push(ca.crl(root, { lastUpdate: new Date(Date.now() - (3 - i) * 3600_000) }));
  }
  const created = await api('POST', '/v1/tenants/acme/trust-anchors', { id: 'corp', certificates: root.certPem });
  expect(created.status).toBe(201);
}, 180_000);

afterAll(async () => {
  await Promise.all([gateway?.close(), upstream?.close()]);
  await broker?.close();
});

type Step =
  | { kind: 'enable'; on: boolean }
  | { kind: 'crl'; indexes: number[] }
  | { kind: 'bundle'; to: 'root' | 'other' }
  | { kind: 'session'; leaf: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.boolean().map((on) => ({ kind: 'enable' as const, on })),
  fc.uniqueArray(fc.integer({ min: 0, max: 3 }), { maxLength: 2 }).map((indexes) => ({ kind: 'crl' as const, indexes })),
  fc.constantFrom<'root' | 'other'>('root', 'other').map((to) => ({ kind: 'bundle' as const, to })),
  fc.integer({ min: 0, max: 2 }).map((leaf) => ({ kind: 'session' as const, leaf })),
  fc.integer({ min: 0, max: 2 }).map((leaf) => ({ kind: 'session' as const, leaf })),
);

describe('trust anchor lifecycle (stateful model)', () => {
  it('grants a session exactly when the anchor is enabled, holds the root, and the newest CRL does not list the serial', async () => {
    let sessions = 0;
    let granted = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 12 }), async (steps) => {
        const current = await api('GET', '/v1/tenants/acme/trust-anchors/corp');
        const m: Model = { enabled: true, crls: [], bundle: 'root', version: current.body.version };
        await putAnchor(m);
        for (const s of steps) {
          if (s.kind === 'enable') m.enabled = s.on;
          else if (s.kind === 'crl') m.crls = s.indexes;
          else if (s.kind === 'bundle') m.bundle = s.to;
          if (s.kind !== 'session') {
            await putAnchor(m);
            continue;
          }
          const newest = Math.max(-1, ...m.crls);
          const revoked = m.bundle === 'root' && s.leaf < newest;
          const expected = m.enabled && m.bundle === 'root' && !revoked ? 200 : 403;
          const status = await session(leaves[s.leaf] as Issued);
          sessions++;
          if (status === 200) granted++;
          expect({ steps, model: { ...m }, leaf: s.leaf, status }).toEqual({ steps, model: { ...m }, leaf: s.leaf, status: expected });
        }
      }),
      { numRuns: 40 },
    );
    // Not vacuous: both answers happened often.
    expect(granted).toBeGreaterThan(10);
    expect(sessions - granted).toBeGreaterThan(10);
  }, 300_000);
});
