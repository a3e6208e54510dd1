import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fromProcess } from '@aws-sdk/credential-providers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Table } from '../../../lib/aws/dynamo-table.ts';
import { DynamoTrustStore } from '../../../lib/aws/dynamo-trust-store.ts';
import { trustAnchors } from '../../../lib/app/trust-anchors.ts';
import { systemClock } from '../../../lib/clock.ts';
import { startBroker, type TestBroker } from '../../support/broker.ts';
import { builtCli, cliRunner, tempConfigHome, type RunCli } from '../../support/cli.ts';
import { startGateway } from '../../support/gateway.ts';
import { type Issued, OpensslCa } from '../../support/openssl-ca.ts';
import { startStsStandIn, type StsStandIn } from '../../support/sts-stand-in.ts';
import { tenantAdmin } from '../../support/tenants.ts';

/**
 * Done-when of issue 13: an on-premises server with only a certificate from the company CA gets AWS
 * credentials through `credential_process` with no AWS key anywhere — certificate → fedbroker → ID
 * token → STS (stand-in) → the JSON the AWS SDK and the AWS CLI read.
 */

const ROLE = 'arn:aws:iam::111122223333:role/onprem';
let broker: TestBroker;
let gateway: Awaited<ReturnType<typeof startGateway>>;
let sts: StsStandIn;
let env: Record<string, string>;
let cli: RunCli;
const ca = new OpensslCa();
let root: Issued;
let leaf: Issued;

/** The AWS SDK's own environment for a credential_process profile running the built CLI. */
function profileFiles(args: string): Record<string, string> {
  const dir = tempConfigHome();
  const command = `${process.execPath} ${resolve('bin/fedbroker.mjs')} aws credential-process ${args}`;
  writeFileSync(join(dir, 'config'), `[profile onprem]\ncredential_process = ${command}\nregion = us-east-1\n`);
  writeFileSync(join(dir, 'credentials'), '');
  return { AWS_CONFIG_FILE: join(dir, 'config'), AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials') };
}

beforeAll(async () => {
  [broker, sts] = await Promise.all([startBroker({ env: { FEDBROKER_LOCAL: 'true' } }), startStsStandIn(), builtCli()]);
  gateway = await startGateway((m) => broker.load(m));
  broker.coldStart({ FEDBROKER_ISSUER: gateway.url });
  root = ca.issue({ subject: '/O=Acme/CN=Acme Root CA', ca: true, key: 'rsa2048' });
  leaf = ca.issue({ subject: '/O=Acme/OU=DC1/CN=db-7.dc1.acme.example', issuer: root, key: 'p256' });
  const admin = tenantAdmin(broker.tableName);
  await admin.tenant('acme', [
    {
      kind: 'x509',
      id: 'dc1',
      trust_anchors: ['corp'],
      scopes: ['id-token:issue'],
      conditions: { StringEquals: { 'x509Subject/OU': 'DC1' } },
      source_identity: { claim: 'x509Subject/CN' },
    },
  ]);
  const deps = { store: new DynamoTrustStore(new Table(broker.tableName)), clock: systemClock, local: true, cognitoIssuer: 'x' };
  await trustAnchors.create(deps, 'acme', { id: 'corp', certificates: root.certPem });
  sts.addRole({
    providerUrl: gateway.url,
    audience: 'sts.amazonaws.com',
    allowTagSession: true,
    allowSetSourceIdentity: true,
    sourceIdentityLike: '*.dc1.acme.example',
    roleArn: ROLE,
    subjectLike: 'acme/dc1/*',
  });
  const home = tempConfigHome();
  env = { HOME: home, XDG_CONFIG_HOME: home, FEDBROKER_ENDPOINT: gateway.url, AWS_ENDPOINT_URL_STS: sts.url, AWS_REGION: 'us-east-1' };
  cli = cliRunner(env);
}, 180_000);

afterAll(async () => {
  await Promise.all([gateway?.close(), sts?.close()]);
  await broker?.close();
});

describe('fedbroker with a certificate', () => {
  it('auth exchange-x509 stores an access token for the certificate’s subject', async () => {
    const res = await cli(['auth', 'exchange-x509', '--tenant', 'acme', '--certificate', leaf.certPath, '--private-key', leaf.keyPath]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).toMatch(/signed in as acme\/dc1\/db-7\.dc1\.acme\.example/);
  });

  it('auth exchange-x509 reads the private key from standard input, never from argv', async () => {
    const run = await new Promise<{ code: number; stderr: string }>((done) => {
      const child = execFile(
        process.execPath,
        ['bin/fedbroker.mjs', 'auth', 'exchange-x509', '--tenant', 'acme', '--certificate', leaf.certPath, '--private-key', '-'],
        { env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8' },
        (error, _stdout, stderr) => done({ code: error ? Number(error.code ?? 1) : 0, stderr }),
      );
      child.stdin?.end(leaf.keyPem);
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).not.toMatch(/PRIVATE KEY/);
  });

  it('refuses a key that does not belong to the certificate, locally', async () => {
    const other = ca.issue({ subject: '/CN=other', issuer: root });
    const res = await cli(['auth', 'exchange-x509', '--tenant', 'acme', '--certificate', leaf.certPath, '--private-key', other.keyPath]);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(/does not belong to the certificate/);
  });

  it('is a credential_process the AWS SDK runs: certificate → fedbroker → ID token → STS, no AWS key anywhere', async () => {
    sts.sessions.length = 0;
    const files = profileFiles(
      `--role-arn ${ROLE} --duration 15m --tenant acme --certificate ${leaf.certPath} --private-key ${leaf.keyPath}`,
    );
    const saved = { ...process.env };
    Object.assign(process.env, env, files);
    delete process.env.AWS_ACCESS_KEY_ID;
    delete process.env.AWS_SECRET_ACCESS_KEY;
    try {
      const creds = await fromProcess({ profile: 'onprem' })();
      expect(creds).toMatchObject({ accessKeyId: expect.stringMatching(/^ASIA/), sessionToken: expect.any(String) });
    } finally {
      process.env = saved;
    }
    expect(sts.sessions).toEqual([
      expect.objectContaining({ roleArn: ROLE, subject: 'acme/dc1/db-7.dc1.acme.example', durationSeconds: 900 }),
    ]);
  });

  it('is a credential_process Debian’s AWS CLI v2 runs (aws configure export-credentials)', async () => {
    sts.sessions.length = 0;
    const files = profileFiles(
      `--role-arn ${ROLE} --duration 15m --no-cache --tenant acme --certificate ${leaf.certPath} --private-key ${leaf.keyPath}`,
    );
    const out = await new Promise<{ code: number; stdout: string; stderr: string }>((done) =>
      execFile(
        '/usr/bin/aws',
        ['configure', 'export-credentials', '--profile', 'onprem', '--format', 'process'],
        {
          // The AWS CLI runs credential_process with this environment: the CLI's endpoint and STS stand-in, no AWS key.
          env: { PATH: process.env.PATH ?? '', ...env, ...files, AWS_EC2_METADATA_DISABLED: 'true' },
          encoding: 'utf8',
          timeout: 60_000,
        },
        (error, stdout, stderr) => done({ code: error ? Number(error.code ?? -1) : 0, stdout, stderr }),
      ),
    );
    expect(out.code, out.stderr).toBe(0);
    expect(JSON.parse(out.stdout)).toMatchObject({
      Version: 1,
      AccessKeyId: expect.stringMatching(/^ASIA/),
      SessionToken: expect.any(String),
    });
    // The AWS CLI may run the process more than once (--no-cache here); every session is the certificate's.
    expect(sts.sessions.length).toBeGreaterThan(0);
    for (const session of sts.sessions) expect(session).toMatchObject({ roleArn: ROLE, sourceIdentity: 'db-7.dc1.acme.example' });
  });

  it('manages trust anchors with auth trust-anchors (needs a trust:admin token; refused without one)', async () => {
    const res = await cli(['auth', 'trust-anchors', 'list']);
    expect(res.code).not.toBe(0);
  });
});
