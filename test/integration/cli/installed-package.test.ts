// issue #14 §1: the CLI installed without this repository. Packed and installed with the system's
// npm, run by the system's Node (20 here, the oldest the package promises) from outside the
// repository, it does a full exchange against a broker.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type TestBroker } from '../../support/broker.ts';
import { tempConfigHome, tempFile } from '../../support/cli.ts';
import { startGateway } from '../../support/gateway.ts';
import { type InstalledCli, packAndInstall, systemTool } from '../../support/installed-cli.ts';
import { subjectRelationship, tenantAdmin } from '../../support/tenants.ts';
import { startUpstreamIssuer, type UpstreamIssuer } from '../../support/upstream-issuer.ts';

let broker: TestBroker;
let gateway: Awaited<ReturnType<typeof startGateway>>;
let upstream: UpstreamIssuer;
let cli: InstalledCli;

beforeAll(async () => {
  [broker, upstream, cli] = await Promise.all([startBroker({ env: { FEDBROKER_LOCAL: 'true' } }), startUpstreamIssuer(), packAndInstall()]);
  gateway = await startGateway((m) => broker.load(m));
  await tenantAdmin(broker.tableName).tenant('acme', [subjectRelationship(upstream.issuer, 'ci', 'ci-job', ['id-token:issue'])]);
}, 180_000);
afterAll(async () => {
  await Promise.all([gateway?.close(), upstream?.close()]);
  await broker?.close();
});

describe('the installed package (@fedbroker/cli)', () => {
  it('packs the bundle, its manifest and README, nothing else', () => {
    expect(cli.packed.sort()).toEqual(['README.md', 'dist/fedbroker.mjs', 'package.json']);
    const manifest = JSON.parse(readFileSync(join(cli.prefix, 'node_modules/@fedbroker/cli/package.json'), 'utf8'));
    expect(manifest.dependencies ?? {}).toEqual({});
    expect(manifest.engines).toEqual({ node: '>=20' });
  });

  it('installs no dependencies: the prefix holds the package and nothing beside it', () => {
    const top = readdirSync(join(cli.prefix, 'node_modules')).filter((e) => !e.startsWith('.'));
    expect(top).toEqual(['@fedbroker']);
    expect(readdirSync(join(cli.prefix, 'node_modules/@fedbroker'))).toEqual(['cli']);
    expect(existsSync(join(cli.prefix, 'node_modules/@fedbroker/cli/node_modules'))).toBe(false);
  });

  it('runs on the system Node and prints its version and build', async () => {
    const major = Number(/^v(\d+)/.exec(execFileSync(systemTool('node'), ['-v'], { encoding: 'utf8' }))?.[1]);
    expect(major).toBeGreaterThanOrEqual(20);
    const res = await cli.run(['--version']);
    const { version } = JSON.parse(readFileSync(join(cli.prefix, 'node_modules/@fedbroker/cli/package.json'), 'utf8'));
    expect(res).toMatchObject({ code: 0, stderr: '' });
    expect(res.stdout).toMatch(
      new RegExp(
        `^${version.replace(/\./g, '\\.')} \\(commit [0-9a-f]{12}(?:-dirty)?, built \\d{4}-\\d\\d-\\d\\dT[\\d:]+Z; node v${major}\\.`,
      ),
    );
  });

  it('signs in, keeps the endpoint with the token, and issues an ID token that verifies against the broker’s JWKS', async () => {
    const home = { HOME: tempConfigHome(), XDG_CONFIG_HOME: tempConfigHome() };
    const token = tempFile('ci.jwt', await upstream.token({ sub: 'ci-job' }));
    const signIn = await cli.run(
      ['auth', 'exchange-oidc-token', '--tenant', 'acme', '--token-file', token, '--endpoint', gateway.url],
      home,
    );
    expect(signIn.code).toBe(0);
    expect(signIn.stderr).toContain('signed in as acme/ci/ci-job');

    const status = await cli.run(['auth', 'status', '-o', 'json'], home);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ endpoint: gateway.url, tenant: 'acme', sub: 'acme/ci/ci-job', expired: false });

    // No --endpoint: the stored one is used.
    const issued = await cli.run(['auth', 'issue-id-token', '--audience', 'sts.amazonaws.com'], home);
    expect(issued).toMatchObject({ code: 0, stderr: '' });
    const { payload } = await jwtVerify(issued.stdout.trim(), createRemoteJWKSet(new URL(`${gateway.url}/.well-known/jwks.json`)), {
      audience: 'sts.amazonaws.com',
    });
    expect(payload.sub).toBe('acme/ci/ci-job');
  });
});
