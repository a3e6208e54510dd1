import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type TestBroker } from '../../../../support/broker.ts';
import { builtCli, cliRunner, tempConfigHome, tempFile, type RunCli } from '../../../../support/cli.ts';
import { startGateway } from '../../../../support/gateway.ts';
import { tenantAdmin } from '../../../../support/tenants.ts';
import { startUpstreamIssuer, type UpstreamIssuer } from '../../../../support/upstream-issuer.ts';

let broker: TestBroker;
let gateway: Awaited<ReturnType<typeof startGateway>>;
let upstream: UpstreamIssuer;
let cli: RunCli;

const TR = ['auth', 'trust-relationships'];
const adminRelationship = (sub: string, scopes: ('trust:admin' | 'id-token:issue')[]) => ({
  kind: 'oidc' as const,
  audiences: ['fedbroker'],
  conditions: { StringEquals: { sub } },
  scopes,
});
const doc = (overrides: Record<string, unknown> = {}) =>
  JSON.stringify({
    kind: 'oidc',
    id: 'ci',
    issuer: upstream.issuer,
    audiences: ['fedbroker'],
    conditions: { StringLike: { sub: 'repo:acme/*' } },
    scopes: ['id-token:issue'],
    ...overrides,
  });

async function signIn(run: RunCli, tenant: string, sub: string, extra: string[] = []): Promise<void> {
  const res = await run(['auth', 'exchange-oidc-token', '--tenant', tenant, '--token', await upstream.token({ sub }), ...extra]);
  expect(res.code, res.stderr).toBe(0);
}

function runnerWithOwnHome(): RunCli {
  const home = tempConfigHome();
  return cliRunner({ HOME: home, XDG_CONFIG_HOME: home, FEDBROKER_ENDPOINT: gateway.url });
}

beforeAll(async () => {
  [broker, upstream] = await Promise.all([startBroker({ env: { FEDBROKER_LOCAL: 'true' } }), startUpstreamIssuer(), builtCli()]);
  gateway = await startGateway((m) => broker.load(m));
  const tenants = tenantAdmin(broker.tableName);
  await tenants.tenant('acme', [
    { ...adminRelationship('ops', ['trust:admin', 'id-token:issue']), id: 'admin', issuer: upstream.issuer },
    { ...adminRelationship('reader', ['id-token:issue']), id: 'reader', issuer: upstream.issuer },
  ]);
  await tenants.tenant('globex', [{ ...adminRelationship('ops', ['trust:admin']), id: 'admin', issuer: upstream.issuer }]);
  cli = runnerWithOwnHome();
  await signIn(cli, 'acme', 'ops');
});
afterAll(async () => {
  await Promise.all([gateway?.close(), upstream?.close()]);
  await broker?.close();
});

describe('fedbroker auth trust-relationships', () => {
  it('adds a relationship from a file and confirms on stderr only', async () => {
    const res = await cli([...TR, 'add', '--file', tempFile('ci.json', doc())]);
    expect(res).toMatchObject({ code: 0, stdout: '', stderr: 'fedbroker: created trust relationship ci (version 1)\n' });
  });

  it('prints the stored relationship with -o json', async () => {
    const res = await cli([...TR, 'add', '--file', tempFile('ci2.json', doc({ id: 'ci-2' })), '-o', 'json']);
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({ id: 'ci-2', tenant: 'acme', version: 1, enabled: true, max_duration_seconds: 3600 });
  });

  it('refuses an invalid document locally with exit 2, listing every schema issue, and stores nothing', async () => {
    const res = await cli([...TR, 'add', '--file', tempFile('bad.json', doc({ id: 'bad', audiences: [], scopes: ['root'] }))]);
    expect(res).toMatchObject({ code: 2, stdout: '' });
    expect(res.stderr).toMatch(
      new RegExp(
        String.raw`^fedbroker: usage_error: .*bad\.json is not a valid trust relationship: .*audiences: at ` +
          String.raw`least one audience is required; scopes\.0: .+\n$`,
      ),
    );
    expect((await cli([...TR, 'get', 'bad'])).code).toBe(1);
  });

  it('refuses a file that is not JSON with exit 2', async () => {
    const res = await cli([...TR, 'add', '--file', tempFile('broken.json', '{ kind: oidc')]);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/^fedbroker: usage_error: .*broken\.json is not valid JSON/);
  });

  it('refuses a file that repeats a member name with exit 2, and stores nothing', async () => {
    const text = doc({ id: 'twice' }).replace('"scopes":', '"scopes":["trust:admin"],"scopes":');
    const res = await cli([...TR, 'add', '--file', tempFile('twice.json', text)]);
    expect(res).toMatchObject({ code: 2, stdout: '' });
    expect(res.stderr).toMatch(/^fedbroker: usage_error: .*twice\.json repeats the member "scopes" within one object\n$/);
    expect((await cli([...TR, 'get', 'twice'])).code).toBe(1);
  });

  it('passes the server’s own refusal through with exit 1 (a duplicate id)', async () => {
    const res = await cli([...TR, 'add', '--file', tempFile('ci.json', doc())]);
    expect(res).toMatchObject({ code: 1, stdout: '' });
    expect(res.stderr).toBe('fedbroker: conflict: trust relationship ci already exists\n');
  });

  it('lists relationships as a table for people', async () => {
    const res = await cli([...TR, 'list']);
    expect(res.code).toBe(0);
    const [header, ...rows] = res.stdout.trimEnd().split('\n');
    expect(header?.split(/\s+/)).toEqual(['ID', 'KIND', 'ISSUER', 'ENABLED', 'SCOPES', 'VERSION']);
    expect(rows.map((r) => r.split(/\s+/))).toContainEqual(['ci', 'oidc', upstream.issuer, 'true', 'id-token:issue', '1']);
    expect(rows.map((r) => r.split(/\s+/)[0])).toEqual(['admin', 'ci', 'ci-2', 'reader']);
  });

  it('lists relationships as JSON for machines, and as bare ids', async () => {
    const json = await cli([...TR, 'list', '-o', 'json']);
    expect((JSON.parse(json.stdout) as { items: { id: string }[] }).items.map((r) => r.id)).toEqual(['admin', 'ci', 'ci-2', 'reader']);
    expect((await cli([...TR, 'list', '-o', 'plain'])).stdout).toBe('admin\nci\nci-2\nreader\n');
  });

  it('gets one relationship as JSON, or as a field table', async () => {
    const res = await cli([...TR, 'get', 'ci']);
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({ id: 'ci', version: 1, conditions: { StringLike: { sub: 'repo:acme/*' } } });
    const table = await cli([...TR, 'get', 'ci', '-o', 'table']);
    expect(table.stdout).toMatch(/^FIELD\s+VALUE\n/);
    expect(table.stdout).toMatch(/^conditions\s+\{"StringLike":\{"sub":"repo:acme\/\*"\}\}$/m);
  });

  it('refuses an update with neither --if-match nor --force, saying how to find the version, and changes nothing', async () => {
    const res = await cli([...TR, 'update', 'ci', '--file', tempFile('ci.json', doc({ description: 'unconditional' }))]);
    expect(res).toMatchObject({ code: 2, stdout: '' });
    expect(res.stderr).toBe(
      'fedbroker: usage_error: update ci needs --if-match <version>, the version you last read (see it ' +
        'with: fedbroker auth trust-relationships get ci, field "version"), or --force to overwrite whatever ' +
        'version is current\n',
    );
    expect(JSON.parse((await cli([...TR, 'get', 'ci'])).stdout)).toMatchObject({ version: 1 });
  });

  it('refuses an update with both --if-match and --force', async () => {
    const res = await cli([...TR, 'update', 'ci', '--file', tempFile('ci.json', doc()), '--if-match', '1', '--force']);
    expect(res).toMatchObject({ code: 2, stdout: '', stderr: 'fedbroker: usage_error: update ci: give --if-match or --force, not both\n' });
  });

  it('updates the current version with --force, saying which version it overwrote', async () => {
    const res = await cli([...TR, 'update', 'ci', '--file', tempFile('ci.json', doc({ description: 'CI jobs' })), '--force', '-o', 'json']);
    expect(res.code).toBe(0);
    expect(res.stderr).toBe('fedbroker: updated trust relationship ci (version 2; --force overwrote version 1)\n');
    expect(JSON.parse(res.stdout)).toMatchObject({ id: 'ci', version: 2, description: 'CI jobs' });
  });

  it('refuses an update with a stale --if-match: exit 1 with the 412 message', async () => {
    const res = await cli([...TR, 'update', 'ci', '--file', tempFile('ci.json', doc({ description: 'stale' })), '--if-match', '1']);
    expect(res).toMatchObject({ code: 1, stdout: '', stderr: 'fedbroker: precondition_failed: version 1 is not current\n' });
    expect(JSON.parse((await cli([...TR, 'get', 'ci'])).stdout)).toMatchObject({ version: 2, description: 'CI jobs' });
  });

  it('applies an update whose --if-match is current, quoted as an ETag or not', async () => {
    expect((await cli([...TR, 'update', 'ci', '--file', tempFile('ci.json', doc()), '--if-match', '"2"'])).code).toBe(0);
    const res = await cli([...TR, 'update', 'ci', '--file', tempFile('ci.json', doc()), '--if-match', '3']);
    expect(res).toMatchObject({ code: 0, stderr: 'fedbroker: updated trust relationship ci (version 4)\n' });
  });

  it('refuses a document whose id differs from the one named', async () => {
    const res = await cli([...TR, 'update', 'ci', '--file', tempFile('x.json', doc({ id: 'other' })), '--force']);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('has id "other", not ci');
  });

  it('removes a relationship, after which get reports not_found', async () => {
    const stale = await cli([...TR, 'remove', 'ci-2', '--if-match', '7']);
    expect(stale).toMatchObject({ code: 1, stderr: 'fedbroker: precondition_failed: version 7 is not current\n' });
    const unconditional = await cli([...TR, 'remove', 'ci-2']);
    expect(unconditional).toMatchObject({
      code: 2,
      stdout: '',
      stderr:
        'fedbroker: usage_error: remove ci-2 needs --if-match <version>, the version you last read (see it ' +
        'with: fedbroker auth trust-relationships get ci-2, field "version"), or --force to remove whatever ' +
        'version is current\n',
    });
    const both = await cli([...TR, 'remove', 'ci-2', '--force', '--if-match', '1']);
    expect(both).toMatchObject({
      code: 2,
      stdout: '',
      stderr: 'fedbroker: usage_error: remove ci-2: give --if-match or --force, not both\n',
    });
    const res = await cli([...TR, 'remove', 'ci-2', '--if-match', '1']);
    expect(res).toMatchObject({ code: 0, stdout: '', stderr: 'fedbroker: removed trust relationship ci-2 (was version 1)\n' });
    const gone = await cli([...TR, 'get', 'ci-2']);
    expect(gone).toMatchObject({ code: 1, stdout: '', stderr: 'fedbroker: not_found: trust relationship ci-2 does not exist\n' });
  });

  it('explains which relationship admits a token, and why the others do not', async () => {
    const token = await upstream.token({ sub: 'repo:acme/web' });
    const res = await cli([...TR, 'explain', '--token-file', tempFile('t', token)]);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^token verified: yes\n/);
    expect(res.stdout).toContain('ci: matched\n');
    expect(res.stdout).toMatch(/^admin: not matched\n(?:.*\n)*?\s+FAIL\s+condition StringEquals sub: seen "repo:acme\/web"$/m);

    const json = await cli([...TR, 'explain', '--token', token, '-o', 'json']);
    const explained = JSON.parse(json.stdout) as { verified: boolean; relationships: { id: string; matched: boolean }[] };
    expect(explained.verified).toBe(true);
    expect(explained.relationships.filter((r) => r.matched).map((r) => r.id)).toEqual(['ci']);
  });

  it('explains an unverifiable token as not verified, with the reason', async () => {
    const res = await cli([...TR, 'explain', '--token', await upstream.token({ sub: 'repo:acme/web' }, { now: Date.now() - 3_600_000 })]);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^token verified: no \(\w+\)\n/);
    expect(res.stdout).not.toContain(': matched');
  });

  it('refuses locally when --tenant names another tenant than the stored token’s', async () => {
    const res = await cli([...TR, 'list', '--tenant', 'globex']);
    expect(res).toMatchObject({ code: 1, stdout: '' });
    expect(res.stderr).toBe(
      'fedbroker: tenant_mismatch: the stored token belongs to tenant acme; run fedbroker auth exchange-oidc-token --tenant globex first\n',
    );
    expect((await cli([...TR, 'list', '--tenant', 'acme', '-o', 'plain'])).code).toBe(0);
  });

  it('reports a token without trust:admin as insufficient_scope from the server', async () => {
    const reader = runnerWithOwnHome();
    await signIn(reader, 'acme', 'reader');
    const res = await reader([...TR, 'list']);
    expect(res).toMatchObject({ code: 1, stdout: '' });
    expect(res.stderr).toBe('fedbroker: insufficient_scope: this call needs the trust:admin scope\n');
  });

  it('exits 2 for malformed ids and versions before any request', async () => {
    expect((await cli([...TR, 'get', 'Not/An/Id'])).code).toBe(2);
    expect((await cli([...TR, 'remove', 'ci', '--if-match', 'latest'])).code).toBe(2);
    expect((await cli([...TR, 'explain'])).code).toBe(2);
    expect((await cli([...TR, 'add'])).code).toBe(2);
  });
});
