// The CLI against `npm start` itself (scripts/start-local.ts on free ports, not 8787), with
// nothing set by hand: no FEDBROKER_ENDPOINT, no FEDBROKER_TABLE, no AWS variables. The run's
// record in its data folder is all the CLI is given (FEDBROKER_DATA_DIR, as `npm start` reads it).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEV_AUDIENCE } from '../../../lib/local/dev-issuer.ts';
import { FileAuditLog } from '../../../lib/local/file-audit-log.ts';
import { builtCli, cliRunner, type RunCli, tempConfigHome, tempFile } from '../../support/cli.ts';
import { startLocalRun } from '../../support/local-run.ts';

let run: Awaited<ReturnType<typeof startLocalRun>>;
let cli: RunCli;
const record = () => join(run.dataDir, 'local-run.json');

const devToken = async (sub: string) =>
  (await (await fetch(`${run.devIssuer}/token`, { method: 'POST', body: `sub=${sub}` })).text()).trim();

beforeAll(async () => {
  [run] = await Promise.all([startLocalRun(), builtCli()]);
  const home = tempConfigHome();
  cli = cliRunner({ HOME: home, XDG_CONFIG_HOME: home, FEDBROKER_DATA_DIR: run.dataDir });
}, 90_000);
afterAll(async () => run?.stop());

describe('npm start tells the CLI where it is', () => {
  it('prints what operator commands need and records it 0600 in the data folder', () => {
    const printed = run.output();
    expect(printed).toMatch(/^endpoint: http:\/\/localhost:\d+ /m);
    expect(printed).toMatch(/^table: {2}fedbroker-local on DynamoDB endpoint http:\/\/127\.0\.0\.1:\d+ \(region us-east-1\)$/m);
    expect(printed).toContain(`read both from ${record()}`);
    expect(statSync(record()).mode & 0o777).toBe(0o600);
    const recorded = JSON.parse(readFileSync(record(), 'utf8'));
    expect(recorded).toMatchObject({ endpoint: run.issuer, issuer: run.issuer, dev_issuer: run.devIssuer });
    expect(recorded.environment).toMatchObject({
      FEDBROKER_TABLE: 'fedbroker-local',
      FEDBROKER_LOCAL: 'true',
      FEDBROKER_DATA_DIR: run.dataDir,
      FEDBROKER_AUDIT_TABLE_WRITE: 'file',
    });
  });

  it('admin create-tenant writes to the local run with no variables (a localhost issuer admitted, as the run does)', async () => {
    const res = await cli(['admin', 'create-tenant', 'acme', '--admin-issuer', run.devIssuer, '--admin-audience', DEV_AUDIENCE]);
    expect(res.code).toBe(0);
    expect(res.stderr).toContain(`fedbroker: using the local run at ${run.issuer} (table fedbroker-local`);
    expect(res.stderr).toContain('created tenant acme');
  });

  it('admin create-tenant records the change in the run’s audit files, where its audit API reads', async () => {
    const now = Date.now();
    const { items } = await new FileAuditLog(join(run.dataDir, 'audit')).query('acme', {
      since: new Date(now - 3_600_000).toISOString(),
      until: new Date(now + 60_000).toISOString(),
      limit: 10,
    });
    expect(items.map((r) => r.event)).toContain('tenant.create');
    expect(items.every((r) => r.principal?.startsWith('operator:'))).toBe(true);
  });

  it('signs in at the local run’s own port without FEDBROKER_ENDPOINT, and uses the tenant API there', async () => {
    const signIn = await cli([
      'auth',
      'exchange-oidc-token',
      '--tenant',
      'acme',
      '--token-file',
      tempFile('dev.jwt', await devToken('ops')),
    ]);
    expect(signIn.code).toBe(0);
    expect(signIn.stderr).toMatch(/signed in as acme\/admin\//);
    const list = await cli(['auth', 'trust-relationships', 'list', '-o', 'plain']);
    expect(list).toMatchObject({ code: 0, stdout: 'admin\n' });
  });

  it('--endpoint still wins over the recorded one', async () => {
    const res = await cli(['auth', 'exchange-oidc-token', '--tenant', 'acme', '--token', 'x.y.z', '--endpoint', 'http://127.0.0.1:9']);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/^fedbroker: network_error: cannot reach http:\/\/127\.0\.0\.1:9/);
  });

  it('admin rotate-keys runs against the run’s table and key files', async () => {
    const res = await cli(['admin', 'rotate-keys', '--force', '-o', 'json']);
    expect(res.code).toBe(0);
    const events = (JSON.parse(res.stdout) as { events: { kid: string; to: string }[] }).events;
    expect(events.map((e) => e.to)).toContain('active');
    const keyFiles = readdirSync(run.dataDir).filter((f) => /^signing-key-.+\.json$/.test(f));
    expect(keyFiles).toHaveLength(1);
    expect(statSync(join(run.dataDir, keyFiles[0] as string)).mode & 0o777).toBe(0o600);
  });

  it('removes the record when it stops, and operator commands then ask for a table again', async () => {
    await run.stop();
    expect(existsSync(record())).toBe(false);
    const res = await cli(['admin', 'disable-tenant', 'acme']);
    expect(res).toMatchObject({ code: 2, stderr: 'fedbroker: usage_error: name the DynamoDB table with --table or FEDBROKER_TABLE\n' });
  });
});
