import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SUBJECT_TOKEN_REFUSED } from '../../lib/app/exchange.ts';
import { startBroker, type TestBroker } from '../support/broker.ts';
import { postExchange, TOKEN_TYPE } from '../support/exchange-client.ts';
import { startGateway } from '../support/gateway.ts';
import { gatewayClient } from '../support/gateway-client.ts';
import { type Issued, OpensslCa } from '../support/openssl-ca.ts';
import { signRolesAnywhere } from '../support/roles-anywhere-signer.ts';
import { tenantAdmin } from '../support/tenants.ts';
import { startUpstreamIssuer, type UpstreamIssuer } from '../support/upstream-issuer.ts';
import type { JsonBody } from '../support/json-body.ts';

/**
 * Certificates in, end to end through the HTTP API and dynalite (threat model I8–I10): anchors and
 * x509 relationships written through the admin API, sessions signed the IAM Roles Anywhere way,
 * the same access token as /v1/token, ID tokens from it, refusals with one answer, audit, :explain.
 */

let broker: TestBroker;
let gateway: Awaited<ReturnType<typeof startGateway>>;
let upstream: UpstreamIssuer;
let adminA: string;
let adminB: string;
const ca = new OpensslCa();
let root: Issued;
let inter: Issued;
let leaf: Issued;
let globexRoot: Issued;

const REFUSED = { error: 'access_denied', error_description: 'the certificate request was refused' };

const { tokenFor, api } = gatewayClient(
  () => gateway.url,
  () => upstream,
);

/** POSTs a Roles-Anywhere-signed session request for `cert` (intermediates in `chain`). */
async function session(
  tenant: string,
  cert: Issued,
  chain: Issued[] = [inter],
  // A fresh nonce each time: two identical requests signed in the same second are one request (I9).
  body: Record<string, unknown> = { nonce: randomUUID() },
  replay?: Record<string, string>,
) {
  const url = `${gateway.url}/v1/tenants/${tenant}/x509/sessions`;
  const text = JSON.stringify(body);
  const headers =
    replay ??
    signRolesAnywhere({
      url,
      body: text,
      certDer: cert.der,
      chainDers: chain.map((c) => c.der),
      keyPem: cert.keyPem,
      serialHex: cert.serialHex,
    });
  const res = await fetch(url, { method: 'POST', headers, body: text });
  return { status: res.status, body: (await res.json()) as JsonBody, headers };
}

beforeAll(async () => {
  broker = await startBroker({ env: { FEDBROKER_LOCAL: 'true' } });
  gateway = await startGateway((m) => broker.load(m));
  upstream = await startUpstreamIssuer();
  const admin = (sub: string) => ({
    kind: 'oidc' as const,
    id: 'admin',
    issuer: upstream.issuer,
    audiences: ['fedbroker'],
    conditions: { StringEquals: { sub } },
    scopes: ['trust:admin' as const, 'audit:read' as const],
  });
  const t = tenantAdmin(broker.tableName, { local: true });
  await t.tenant('acme', [admin('admin-a')]);
  await t.tenant('globex', [admin('admin-b')]);
  [adminA, adminB] = await Promise.all([tokenFor('acme', 'admin-a'), tokenFor('globex', 'admin-b')]);
  root = ca.issue({ subject: '/O=Acme/CN=Acme Root CA', ca: true, key: 'p384' });
  inter = ca.issue({ subject: '/O=Acme/CN=Acme Servers CA', ca: true, pathLen: 0, issuer: root, key: 'rsa2048' });
  leaf = ca.issue({
    subject: '/O=Acme/OU=Platform/CN=api-1.acme.example',
    issuer: inter,
    san: 'DNS:api-1.acme.example, URI:spiffe://acme.example/ns/prod/sa/api',
  });
  globexRoot = ca.issue({ subject: '/O=Globex/CN=Globex Root CA', ca: true });
  expect((await api('POST', '/v1/tenants/acme/trust-anchors', adminA, { id: 'corp', certificates: root.certPem })).status).toBe(201);
  expect((await api('POST', '/v1/tenants/globex/trust-anchors', adminB, { id: 'corp', certificates: globexRoot.certPem })).status).toBe(
    201,
  );
  const rel = await api('POST', '/v1/tenants/acme/trust-relationships', adminA, {
    kind: 'x509',
    id: 'servers',
    trust_anchors: ['corp'],
    scopes: ['id-token:issue'],
    conditions: {
      StringEquals: { 'x509Subject/OU': 'Platform' },
      'ForAnyValue:StringLike': { 'x509SAN/URI': 'spiffe://acme.example/ns/prod/*' },
    },
    session_tags: { cn: { claim: 'x509Subject/CN' } },
  });
  expect(rel.status).toBe(201);
  expect(rel.body.subject_template).toBe('{trust}/{claims.x509Subject/CN}');
}, 120_000);

afterAll(async () => {
  await Promise.all([gateway?.close(), upstream?.close()]);
  await broker?.close();
});

describe('certificates in', () => {
  it('a signed request gets the same access token as /v1/token, and an ID token from it', async () => {
    const res = await session('acme', leaf);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ issued_token_type: TOKEN_TYPE.accessToken, token_type: 'Bearer', scope: 'id-token:issue' });
    const id = await postExchange(gateway.url, {
      subject_token: res.body.access_token,
      subject_token_type: TOKEN_TYPE.accessToken,
      requested_token_type: TOKEN_TYPE.idToken,
      audience: 'sts.amazonaws.com',
    });
    expect(id.status).toBe(200);
    const claims = JSON.parse(Buffer.from((id.body.access_token as string).split('.')[1] as string, 'base64url').toString());
    expect(claims.sub).toBe('acme/servers/api-1.acme.example');
    expect(claims['https://aws.amazon.com/tags'].principal_tags).toMatchObject({ cn: ['api-1.acme.example'] });
  });

  it('refuses a replayed request (replayed nonce) with the one answer', async () => {
    const first = await session('acme', leaf, [inter], { nonce: 'r1' });
    expect(first.status).toBe(200);
    const again = await session('acme', leaf, [inter], { nonce: 'r1' }, first.headers);
    expect(again.status).toBe(403);
    expect(again.body).toEqual(REFUSED);
  });

  it('refuses a certificate of another tenant’s anchor', async () => {
    const stranger = ca.issue({
      subject: '/O=Globex/OU=Platform/CN=g.example',
      issuer: globexRoot,
      san: 'URI:spiffe://acme.example/ns/prod/x',
    });
    expect((await session('acme', stranger, [])).body).toEqual(REFUSED);
  });

  it('refuses a certificate whose attributes fail the conditions, and :explain says which', async () => {
    const ops = ca.issue({ subject: '/O=Acme/OU=Ops/CN=ops-1', issuer: inter, san: 'URI:spiffe://acme.example/ns/prod/sa/ops' });
    const res = await session('acme', ops);
    expect(res.status).toBe(403);
    expect(res.body).toEqual(REFUSED);
    const explained = await api('POST', '/v1/tenants/acme/x509:explain', adminA, {
      certificate: ops.certPem,
      intermediates: [inter.certPem],
    });
    expect(explained.status).toBe(200);
    expect(explained.body).toMatchObject({ verified: true, anchor: 'corp' });
    const servers = explained.body.relationships.find((r: { id: string }) => r.id === 'servers');
    expect(servers.matched).toBe(false);
    expect(servers.checks).toContainEqual(
      expect.objectContaining({ check: 'condition', operator: 'StringEquals', key: 'x509Subject/OU', matched: false, seen: 'Ops' }),
    );
  });

  it(':explain says why an unverifiable certificate was refused', async () => {
    const old = ca.issue({
      subject: '/O=Acme/OU=Platform/CN=old',
      issuer: inter,
      start: new Date(Date.now() - 9e8),
      end: new Date(Date.now() - 1e6),
    });
    const explained = await api('POST', '/v1/tenants/acme/x509:explain', adminA, {
      certificate: old.certPem,
      intermediates: [inter.certPem],
    });
    expect(explained.body).toMatchObject({ verified: false, reason: 'leaf_expired' });
  });

  it('refuses an anchor that is not a CA, and a CRL signed by the wrong key', async () => {
    const notCa = await api('POST', '/v1/tenants/acme/trust-anchors', adminA, { id: 'bad', certificates: leaf.certPem });
    expect(notCa.status).toBe(400);
    expect(notCa.body.error_description).toMatch(/not a CA/);
    // Same issuer name as the anchor's root, another key: the CRL's signature cannot verify.
    const impostor = ca.issue({ subject: '/O=Acme/CN=Acme Root CA', ca: true, key: 'p384' });
    const wrongKey = ca.crl(impostor);
    const badCrl = await api('POST', '/v1/tenants/acme/trust-anchors', adminA, { id: 'bad', certificates: root.certPem, crls: [wrongKey] });
    expect(badCrl.status).toBe(400);
    expect(badCrl.body.error_description).toMatch(/CRL 1 is not signed by a CA of this anchor/);
  });

  it('stops a revoked serial once the CRL is uploaded, and every session once the anchor is disabled', async () => {
    const doomed = ca.issue({ subject: '/O=Acme/OU=Platform/CN=doomed', issuer: inter, san: 'URI:spiffe://acme.example/ns/prod/sa/d' });
    expect((await session('acme', doomed)).status).toBe(200);
    // The CRL of the intermediate needs the intermediate in the anchor, so its signature can be checked.
    ca.revoke(inter, doomed);
    const current = await api('GET', '/v1/tenants/acme/trust-anchors/corp', adminA);
    const put = await api(
      'PUT',
      '/v1/tenants/acme/trust-anchors/corp',
      adminA,
      { certificates: root.certPem + inter.certPem, crls: [ca.crl(inter)] },
      { 'If-Match': `"${current.body.version}"` },
    );
    expect(put.status).toBe(200);
    expect((await session('acme', doomed)).body).toEqual(REFUSED);
    expect((await session('acme', leaf)).status).toBe(200);

    const disabled = await api(
      'PUT',
      '/v1/tenants/acme/trust-anchors/corp',
      adminA,
      { certificates: root.certPem + inter.certPem, crls: [ca.crl(inter)], enabled: false },
      { 'If-Match': `"${put.body.version}"` },
    );
    expect(disabled.status).toBe(200);
    expect((await session('acme', leaf)).body).toEqual(REFUSED);
    const enabled = await api(
      'PUT',
      '/v1/tenants/acme/trust-anchors/corp',
      adminA,
      { certificates: root.certPem + inter.certPem, crls: [ca.crl(inter)] },
      { 'If-Match': `"${disabled.body.version}"` },
    );
    expect(enabled.status).toBe(200);
  });

  it('conditions see the request context: fedbroker:SourceIp from the gateway, fedbroker:CurrentTime', async () => {
    for (const [id, ou, cidr] of [
      ['loopback', 'Loopback', '127.0.0.0/8'],
      ['remote', 'Remote', '10.0.0.0/8'],
    ]) {
      const created = await api('POST', '/v1/tenants/acme/trust-relationships', adminA, {
        kind: 'x509',
        id,
        trust_anchors: ['corp'],
        scopes: ['id-token:issue'],
        conditions: {
          StringEquals: { 'x509Subject/OU': ou },
          IpAddress: { 'fedbroker:SourceIp': cidr },
          DateGreaterThan: { 'fedbroker:CurrentTime': '2020-01-01T00:00:00Z' },
        },
      });
      expect(created.status).toBe(201);
    }
    const local = ca.issue({ subject: '/O=Acme/OU=Loopback/CN=lo-1', issuer: inter });
    const remote = ca.issue({ subject: '/O=Acme/OU=Remote/CN=re-1', issuer: inter });
    expect((await session('acme', local)).status).toBe(200);
    // A header the client sets is not the source address.
    const res = await session('acme', remote, [inter], { nonce: randomUUID() });
    expect(res.body).toEqual(REFUSED);
    const explained = await api('POST', '/v1/tenants/acme/x509:explain', adminA, {
      certificate: remote.certPem,
      intermediates: [inter.certPem],
    });
    expect(explained.body.context).toMatchObject({ 'fedbroker:CurrentTime': expect.stringMatching(/Z$/) });
    const check = explained.body.relationships.find((r: { id: string }) => r.id === 'remote').checks;
    expect(check).toContainEqual(expect.objectContaining({ key: 'fedbroker:SourceIp', matched: false }));
  });

  it('refuses an unknown tenant with the same answer', async () => {
    expect((await session('nobody', leaf)).body).toEqual(REFUSED);
  });

  it('audits every session, granted or refused, with anchor, serial, subject DN and reason', async () => {
    const res = await api('GET', '/v1/tenants/acme/audit?limit=200', adminA);
    expect(res.status).toBe(200);
    const sessions = (res.body.items as JsonBody[]).filter((i) => i.event === 'x509.session');
    expect(sessions).toContainEqual(
      expect.objectContaining({
        outcome: 'success',
        trust: 'servers',
        principal: 'acme/servers/api-1.acme.example',
        source_subject: 'CN=api-1.acme.example,OU=Platform,O=Acme',
        detail: expect.objectContaining({ anchor: 'corp', serial: leaf.serialHex }),
      }),
    );
    const reasons = new Set(sessions.filter((s) => s.outcome === 'refused').map((s) => s.reason));
    for (const r of ['replayed', 'untrusted_issuer', 'no_matching_trust', 'revoked', 'anchor_disabled']) expect(reasons).toContain(r);
    expect(sessions).toContainEqual(expect.objectContaining({ reason: 'revoked', claimed_subject: 'CN=doomed,OU=Platform,O=Acme' }));
    const changes = (res.body.items as JsonBody[]).filter((i) => String(i.event).startsWith('trust_anchor.'));
    expect(changes.map((c) => c.event)).toEqual(expect.arrayContaining(['trust_anchor.create', 'trust_anchor.replace']));
  });
});

/**
 * Threat model I1/I8: the anchor is a kill switch for live tokens too. An access token obtained with
 * a certificate is judged on every use against the anchor as it is now: refused (`invalid_token` on
 * the API, the exchange's one answer for an ID token) once the anchor is disabled, deleted, no longer
 * holds the CA that verified it, or a CRL lists a serial of its path; kept through edits that do not
 * touch what verified it. Its own anchor and relationship, so the tests above are unaffected.
 */
describe('the anchor ends live certificate-bound tokens', () => {
  let edgeRoot: Issued;
  let edgeOther: Issued;
  let edgeInter: Issued;
  const ANCHOR = '/v1/tenants/acme/trust-anchors/edge';

  /** Replaces (or recreates) the `edge` anchor with `doc`. */
  async function putEdge(doc: Record<string, unknown>): Promise<void> {
    const current = await api('GET', ANCHOR, adminA);
    const res =
      current.status === 404
        ? await api('POST', '/v1/tenants/acme/trust-anchors', adminA, { id: 'edge', ...doc })
        : await api('PUT', ANCHOR, adminA, doc, { 'If-Match': `"${current.body.version}"` });
    expect(res.status).toBe(current.status === 404 ? 201 : 200);
  }

  async function tokenWith(cert: Issued, chain: Issued[] = []): Promise<string> {
    const res = await session('acme', cert, chain);
    expect(res.status).toBe(200);
    return res.body.access_token as string;
  }

  /**
   * Uses `token` twice: as a Bearer token on the API (403 while it stands, for it lacks trust:admin;
   * 401 once it does not) and for an ID token (200, or the exchange's one refusal). Both must agree.
   */
  async function use(token: string): Promise<{ stands: boolean; api: JsonBody; exchange: JsonBody }> {
    const viaApi = await api('GET', '/v1/tenants/acme/trust-anchors', token);
    const viaExchange = await postExchange(gateway.url, {
      subject_token: token,
      subject_token_type: TOKEN_TYPE.accessToken,
      requested_token_type: TOKEN_TYPE.idToken,
      audience: 'sts.amazonaws.com',
    });
    expect([403, 401]).toContain(viaApi.status);
    expect(viaExchange.status === 200).toBe(viaApi.status === 403);
    return { stands: viaApi.status === 403, api: viaApi.body, exchange: viaExchange.body };
  }

  /** The refusal of a token that no longer stands: the same as a disabled relationship's, saying nothing of why. */
  function expectRefused(r: Awaited<ReturnType<typeof use>>): void {
    expect(r.stands).toBe(false);
    expect(r.api).toEqual({ error: 'invalid_token', error_description: 'the access token is not valid' });
    expect(r.exchange).toEqual({ error: 'invalid_request', error_description: SUBJECT_TOKEN_REFUSED });
  }

  beforeAll(async () => {
    edgeRoot = ca.issue({ subject: '/O=Acme/CN=Acme Edge Root', ca: true, key: 'p256' });
    edgeOther = ca.issue({ subject: '/O=Acme/CN=Acme Edge Other Root', ca: true, key: 'p256' });
    edgeInter = ca.issue({ subject: '/O=Acme/CN=Acme Edge Servers CA', ca: true, issuer: edgeRoot, key: 'p256' });
    await putEdge({ certificates: edgeRoot.certPem });
    const rel = await api('POST', '/v1/tenants/acme/trust-relationships', adminA, {
      kind: 'x509',
      id: 'edge',
      trust_anchors: ['edge'],
      scopes: ['id-token:issue'],
    });
    expect(rel.status).toBe(201);
  }, 60_000);

  // Every test starts from the anchor holding the root only, enabled, with no CRL.
  beforeEach(() => putEdge({ certificates: edgeRoot.certPem, crls: [], enabled: true }));

  it('keeps a token when the description changes and when another CA or CRL is added; its token records the path', async () => {
    const leaf = ca.issue({ subject: '/CN=edge-kept', issuer: edgeRoot });
    const token = await tokenWith(leaf);
    const claim = JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()).x509;
    expect(claim).toEqual({ anchor: 'edge', ca: expect.stringMatching(/^[\w-]{43}$/), serials: [[leaf.serialHex, expect.any(String)]] });
    expect((await use(token)).stands).toBe(true);
    await putEdge({ certificates: edgeRoot.certPem, description: 'edited' });
    expect((await use(token)).stands).toBe(true);
    await putEdge({ certificates: edgeRoot.certPem + edgeOther.certPem, crls: [ca.crl(edgeOther)], description: 'edited' });
    expect((await use(token)).stands).toBe(true);
  });

  it('refuses a live token once its anchor is disabled', async () => {
    const token = await tokenWith(ca.issue({ subject: '/CN=edge-disabled', issuer: edgeRoot }));
    expect((await use(token)).stands).toBe(true);
    await putEdge({ certificates: edgeRoot.certPem, enabled: false });
    expectRefused(await use(token));
  });

  it('refuses a live token once its anchor is deleted', async () => {
    const token = await tokenWith(ca.issue({ subject: '/CN=edge-deleted', issuer: edgeRoot }));
    expect((await use(token)).stands).toBe(true);
    const current = await api('GET', ANCHOR, adminA);
    expect((await api('DELETE', ANCHOR, adminA, undefined, { 'If-Match': `"${current.body.version}"` })).status).toBe(204);
    expectRefused(await use(token));
  });

  it('refuses a live token once the bundle no longer holds the CA that verified it', async () => {
    const token = await tokenWith(ca.issue({ subject: '/CN=edge-narrowed', issuer: edgeRoot }));
    expect((await use(token)).stands).toBe(true);
    await putEdge({ certificates: edgeOther.certPem });
    expectRefused(await use(token));
  });

  it('refuses a live token once a newly uploaded CRL lists its serial, and only that one', async () => {
    const doomed = ca.issue({ subject: '/CN=edge-revoked', issuer: edgeRoot });
    const spared = ca.issue({ subject: '/CN=edge-spared', issuer: edgeRoot });
    const [doomedToken, sparedToken] = [await tokenWith(doomed), await tokenWith(spared)];
    ca.revoke(edgeRoot, doomed);
    await putEdge({ certificates: edgeRoot.certPem, crls: [ca.crl(edgeRoot)] });
    expectRefused(await use(doomedToken));
    expect((await use(sparedToken)).stands).toBe(true);
  });

  it('refuses a token granted through an intermediate once the intermediate joins the bundle with a CRL listing the leaf', async () => {
    const doomed = ca.issue({ subject: '/CN=edge-inter-revoked', issuer: edgeInter });
    const token = await tokenWith(doomed, [edgeInter]);
    expect((await use(token)).stands).toBe(true);
    ca.revoke(edgeInter, doomed);
    await putEdge({ certificates: edgeRoot.certPem + edgeInter.certPem, crls: [ca.crl(edgeInter)] });
    expectRefused(await use(token));
  });
});
