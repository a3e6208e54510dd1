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
 * Threat model I1/I8/I10, stateful: random sequences of anchor changes (enable, disable, a new CRL,
 * a CRL dropped, the bundle narrowed to another CA or widened with it, the description edited) and
 * certificate sessions, through the admin API and the session endpoint against dynalite, checked
 * against a model: a session is granted iff the anchor is enabled, holds the certificate's root, and
 * the newest CRL does not list its serial. After every step each access token a session granted is
 * used on the API, and must stand (403, it lacks trust:admin) exactly when a new session would be
 * granted to its certificate now, else be refused (401): the anchor is a kill switch for live tokens.
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

type Bundle = 'root' | 'other' | 'both';

interface Model {
  enabled: boolean;
  /** Indexes into crls uploaded, in upload order (the newest, the highest index, decides). */
  crls: number[];
  /** Which CAs the bundle holds. */
  bundle: Bundle;
  description: string;
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
      certificates: { root: root.certPem, other: otherRoot.certPem, both: root.certPem + otherRoot.certPem }[m.bundle],
      crls: m.bundle === 'other' ? [] : m.crls.map((i) => crls[i]),
      enabled: m.enabled,
      description: m.description,
    },
    { 'If-Match': `"${m.version}"` },
  );
  expect(res.status).toBe(200);
  m.version = res.body.version;
}

async function session(leaf: Issued): Promise<{ status: number; token?: string }> {
  const url = `${gateway.url}/v1/tenants/acme/x509/sessions`;
  const body = JSON.stringify({ nonce: randomUUID() });
  const headers = signRolesAnywhere({ url, body, certDer: leaf.der, keyPem: leaf.keyPem, serialHex: leaf.serialHex });
  const res = await fetch(url, { method: 'POST', headers, body });
  const json = (await res.json()) as JsonBody;
  return { status: res.status, ...(res.status === 200 ? { token: json.access_token as string } : {}) };
}

/** Uses a certificate-bound token on the API: 403 while it stands (it lacks trust:admin), 401 once it does not. */
async function use(token: string): Promise<number> {
  const res = await fetch(`${gateway.url}/v1/tenants/acme/trust-anchors`, { headers: { Authorization: `Bearer ${token}` } });
  await res.body?.cancel();
  return res.status;
}

/** Whether a session for leaves[leaf] is granted under the model now (and so whether its live tokens stand). */
function grants(m: Model, leaf: number): boolean {
  const newest = Math.max(-1, ...m.crls);
  const revoked = m.bundle !== 'other' && leaf < newest;
  return m.enabled && m.bundle !== 'other' && !revoked;
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
  | { kind: 'bundle'; to: Bundle }
  | { kind: 'describe' }
  | { kind: 'session'; leaf: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.boolean().map((on) => ({ kind: 'enable' as const, on })),
  fc.uniqueArray(fc.integer({ min: 0, max: 3 }), { maxLength: 2 }).map((indexes) => ({ kind: 'crl' as const, indexes })),
  fc.constantFrom<Bundle>('root', 'other', 'both').map((to) => ({ kind: 'bundle' as const, to })),
  fc.constant({ kind: 'describe' as const }),
  fc.integer({ min: 0, max: 2 }).map((leaf) => ({ kind: 'session' as const, leaf })),
  fc.integer({ min: 0, max: 2 }).map((leaf) => ({ kind: 'session' as const, leaf })),
);

describe('trust anchor lifecycle (stateful model)', () => {
  it('grants a session iff the anchor is enabled, holds the root and its newest CRL spares the serial; live tokens follow', async () => {
    let sessions = 0;
    let granted = 0;
    let uses = 0;
    let refusedUses = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 12 }), async (steps) => {
        const current = await api('GET', '/v1/tenants/acme/trust-anchors/corp');
        const m: Model = { enabled: true, crls: [], bundle: 'root', description: '', version: current.body.version };
        await putAnchor(m);
        /** Tokens granted in this run (the newest few), with the leaf they were granted to. */
        const live: { leaf: number; token: string }[] = [];
        for (const [i, s] of steps.entries()) {
          if (s.kind === 'enable') m.enabled = s.on;
          else if (s.kind === 'crl') m.crls = s.indexes;
          else if (s.kind === 'bundle') m.bundle = s.to;
          else if (s.kind === 'describe') m.description = `edit ${i}`;
          if (s.kind !== 'session') {
            await putAnchor(m);
          } else {
            const expected = grants(m, s.leaf) ? 200 : 403;
            const { status, token } = await session(leaves[s.leaf] as Issued);
            sessions++;
            if (status === 200) granted++;
            expect({ steps, model: { ...m }, leaf: s.leaf, status }).toEqual({ steps, model: { ...m }, leaf: s.leaf, status: expected });
            if (token) live.push({ leaf: s.leaf, token });
            if (live.length > 4) live.shift();
          }
          for (const t of live) {
            const status = await use(t.token);
            uses++;
            if (status === 401) refusedUses++;
            const expected = grants(m, t.leaf) ? 403 : 401;
            expect({ steps, at: i, model: { ...m }, token: t.leaf, status }).toEqual({
              steps,
              at: i,
              model: { ...m },
              token: t.leaf,
              status: expected,
            });
          }
        }
      }),
      { numRuns: 40 },
    );
    // Not vacuous: both answers happened often, for sessions and for live tokens.
    expect(granted).toBeGreaterThan(10);
    expect(sessions - granted).toBeGreaterThan(10);
    expect(uses - refusedUses).toBeGreaterThan(10);
    expect(refusedUses).toBeGreaterThan(10);
  }, 300_000);
});
