// Issuer SSRF through the admin API of a broker NOT in local mode: every trust relationship names
// an issuer fedbroker will later GET, so an admin (or a stolen admin token) must not be able to
// point it at cloud metadata, loopback, private ranges or non-https schemes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../lib/handlers/runtime.ts';
import type { mintAccessToken as MintAccessToken } from '../../lib/tokens/mint.ts';
import { expectSafeRefusal } from '../support/refusal.ts';
import { DISCOVERY_PATH, startScriptedIssuer, type ScriptedIssuer } from '../support/scripted-issuer.ts';
import { ciRelationship, external, startExchangeEnv, type ExchangeEnv } from '../support/security-env.ts';

const BASE = '/v1/tenants/acme/trust-relationships';
let env: ExchangeEnv;
let loopback: ScriptedIssuer;
let adminToken: string;

beforeAll(async () => {
  env = await startExchangeEnv({ local: false });
  loopback = await startScriptedIssuer();
  // tenantAdmin writes with `local: true`, the only way a loopback issuer gets stored at all.
  await env.admin.tenant('acme', [
    {
      kind: 'oidc',
      id: 'admin',
      issuer: 'https://idp.example.com',
      audiences: ['fedbroker'],
      conditions: { StringEquals: { sub: 'ops' } },
      scopes: ['trust:admin'],
    },
    ciRelationship(loopback.issuer, { id: 'loopback' }),
  ]);
  // Not in local mode the broker cannot fetch the test issuer on 127.0.0.1, so the admin token is
  // minted by the broker's own code and key (KMS stand-in), exactly as an exchange would.
  const { runtime } = await env.broker.load<{ runtime: () => Runtime }>('lib/handlers/runtime.ts');
  const { mintAccessToken } = await env.broker.load<{ mintAccessToken: typeof MintAccessToken }>('lib/tokens/mint.ts');
  const rt = runtime();
  expect(rt.config.local).toBe(false);
  const { generation } = (await env.admin.store.getDocument('acme', 'TRUST', 'admin'))!;
  adminToken = (
    await mintAccessToken(
      { ...rt, issuer: rt.config.issuer },
      { tenant: 'acme', trust: 'admin', generation, sub: 'acme/admin/ops', scopes: ['trust:admin'], tags: undefined },
      600,
    )
  ).token;
});
afterAll(async () => {
  await loopback.close();
  await env.close();
});

const doc = (issuer: string) => ({
  kind: 'oidc',
  issuer,
  audiences: ['fedbroker'],
  conditions: { StringLike: { sub: 'repo:acme/*' } },
  scopes: ['id-token:issue'],
});
const stored = async () =>
  ((await env.api('GET', BASE, adminToken)).body.items as { id: string; issuer: string }[]).map((r) => `${r.id} ${r.issuer}`);

describe('the admin API', () => {
  it('accepts a public https issuer (control)', async () => {
    const res = await env.api('POST', BASE, adminToken, doc('https://idp.example.com/tenant-x'));
    expect(res.status, res.text).toBe(201);
  });

  const issuers: [string, () => string][] = [
    ['the cloud metadata address over https', () => 'https://169.254.169.254'],
    ['the cloud metadata credentials path over http', () => 'http://169.254.169.254/latest/meta-data/iam/security-credentials/'],
    ['loopback over https', () => 'https://127.0.0.1'],
    ['the loopback test issuer (FEDBROKER_LOCAL unset)', () => loopback.issuer],
    ['localhost over http', () => 'http://localhost:8080'],
    ['localhost over https', () => 'https://localhost'],
    ['loopback in decimal notation', () => 'https://2130706433'],
    ['loopback in hex notation', () => 'https://0x7f.1'],
    ['loopback in octal notation', () => 'https://0177.0.0.1'],
    ['loopback in short notation', () => 'https://127.1'],
    ['this-network 0.0.0.0', () => 'https://0.0.0.0'],
    ['private 10.0.0.1', () => 'https://10.0.0.1'],
    ['private 172.16.0.1', () => 'https://172.16.0.1'],
    ['private 172.31.255.254', () => 'https://172.31.255.254'],
    ['private 192.168.1.1', () => 'https://192.168.1.1'],
    ['carrier-grade NAT 100.64.0.1', () => 'https://100.64.0.1'],
    ['unique-local [fc00::1]', () => 'https://[fc00::1]'],
    ['the AWS IPv6 metadata address', () => 'https://[fd00:ec2::254]'],
    ['IPv6 loopback', () => 'https://[::1]'],
    ['IPv6 link-local', () => 'https://[fe80::1]'],
    ['IPv4-mapped loopback [::ffff:127.0.0.1]', () => 'https://[::ffff:127.0.0.1]'],
    ['IPv4-mapped metadata [::ffff:a9fe:a9fe]', () => 'https://[::ffff:a9fe:a9fe]'],
    ['an internal-only name', () => 'https://metadata.google.internal'],
    ['a single-label name', () => 'https://instance-data'],
    ['userinfo credentials', () => 'https://user:s3cret-pass@idp.example.com'],
    ['userinfo hiding the metadata host', () => 'https://idp.example.com@169.254.169.254'],
    ['an empty userinfo', () => 'https://@idp.example.com'],
    ['a backslash before userinfo', () => 'https://idp.example.com\\@169.254.169.254'],
    ['a query', () => 'https://idp.example.com?tenant=1'],
    ['an empty query', () => 'https://idp.example.com/?'],
    ['a fragment', () => 'https://idp.example.com#frag'],
    ['plain http on a public host', () => 'http://idp.example.com'],
    ['ftp', () => 'ftp://idp.example.com'],
    ['file', () => 'file:///etc/passwd'],
    ['gopher', () => 'gopher://idp.example.com:70/_GET'],
    ['javascript', () => 'javascript:alert(1)'],
    ['data', () => 'data:application/json,{"issuer":"x"}'],
    ['ws', () => 'ws://idp.example.com'],
    ['a scheme-relative URL', () => '//idp.example.com'],
    ['a bare host name', () => 'idp.example.com'],
    ['an out-of-range port', () => 'https://idp.example.com:99999'],
  ];

  it.each(issuers)('refuses an issuer with %s (400 invalid_request, nothing stored)', async (_name, issuer) => {
    const before = await stored();
    const res = await env.api('POST', BASE, adminToken, doc(issuer()));
    expectSafeRefusal(res, { presented: [adminToken], secrets: ['s3cret-pass'] });
    expect(await stored()).toEqual(before);
  });

  it.each(issuers.slice(0, 4))("refuses replacing a relationship's issuer with %s", async (_name, issuer) => {
    const before = await env.api('GET', `${BASE}/admin`, adminToken);
    const res = await env.api(
      'PUT',
      `${BASE}/admin`,
      adminToken,
      { ...doc(issuer()), conditions: { StringEquals: { sub: 'ops' } }, scopes: ['trust:admin'] },
      { 'If-Match': `"${before.body.version}"` },
    );
    expectSafeRefusal(res, { presented: [adminToken] });
    expect((await env.api('GET', `${BASE}/admin`, adminToken)).body).toEqual(before.body);
  });
});

describe('a relationship stored with a loopback issuer', () => {
  it('is refused on exchange without fetching it and without describing the relationship', async () => {
    const token = await loopback.token({ sub: 'repo:acme/app' });
    const res = await env.exchange(external(token));
    expectSafeRefusal(res, { presented: [token], secrets: [loopback.host, 'loopback', 'https', 'trust relationship'] });
    expect(loopback.hits).toEqual({});
  });

  it('is not fetched by the explain endpoint either', async () => {
    const token = await loopback.token({ sub: 'repo:acme/app' });
    const res = await env.api('POST', `${BASE}:explain`, adminToken, { token });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ verified: false, reason: 'untrusted_issuer' });
    expect(res.body.relationships.every((r: { matched: boolean }) => !r.matched)).toBe(true);
    expect(res.text).not.toMatch(/eyJ/);
    expect(loopback.hits[DISCOVERY_PATH]).toBeUndefined();
    expect(loopback.hits).toEqual({});
  });
});
