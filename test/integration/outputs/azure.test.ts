// `fedbroker azure federated-token` read by the real @azure/identity WorkloadIdentityCredential,
// which signs in at the Entra ID stand-in with the file's fedbroker ID token as client assertion.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { WorkloadIdentityCredential } from '@azure/identity';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempConfigHome } from '../../support/cli.ts';
import { spawnCli } from '../../support/cli-spawn.ts';
import { sha256, startEntraStandIn, type EntraStandIn } from '../../support/entra-stand-in.ts';
import { exportsOf, startSignedInCli, withEnv, type SignedInCli } from '../../support/signed-in-cli.ts';

const CLIENT_ID = '6c3f1a2e-0b7d-4e59-9a41-2f8d7c0e5b13';
const OTHER_CLIENT_ID = '0d9e8f7a-6b5c-4d3e-8f2a-1b0c9d8e7f6a';
const SCOPE = 'https://management.azure.com/.default';

let s: SignedInCli;
let entra: EntraStandIn;

/**
 * The credential as a workload builds it, reading the AZURE_* variables. Two settings are for the
 * stand-in only: its self-signed certificate as trusted CA, and no instance discovery (which would
 * ask login.microsoftonline.com about the authority; the documented switch for private clouds).
 */
const getToken = (vars: Record<string, string>) =>
  // The variables stay set for the whole call: the credential reads AZURE_AUTHORITY_HOST when it signs in.
  withEnv(vars, () => new WorkloadIdentityCredential({ tlsOptions: { ca: entra.caPem }, disableInstanceDiscovery: true }).getToken(SCOPE));

const args = (file: string, clientId = CLIENT_ID) => [
  'azure',
  'federated-token',
  '--token-file',
  file,
  '--client-id',
  clientId,
  '--tenant-id',
  entra.tenantId,
  '--authority-host',
  entra.authorityHost,
];

beforeAll(async () => {
  [s, entra] = await Promise.all([startSignedInCli(), startEntraStandIn()]);
  entra.addApplication(CLIENT_ID, { issuer: s.gateway.url, subject: s.subject, audiences: ['api://AzureADTokenExchange'] });
  entra.addApplication(OTHER_CLIENT_ID, {
    issuer: s.gateway.url,
    subject: 'acme/ci/someone-else',
    audiences: ['api://AzureADTokenExchange'],
  });
});
afterAll(async () => {
  await Promise.all([s?.close(), entra?.close()]);
});

describe('fedbroker azure federated-token', () => {
  it('writes the ID token 0600 and prints the four AZURE_* variables; WorkloadIdentityCredential gets a token with it', async () => {
    const file = join(tempConfigHome(), 'azure-token');
    const res = await s.cli(args(file));
    expect(res.code, res.stderr).toBe(0);
    const vars = exportsOf(res.stdout);
    expect(vars).toEqual({
      AZURE_FEDERATED_TOKEN_FILE: file,
      AZURE_CLIENT_ID: CLIENT_ID,
      AZURE_TENANT_ID: entra.tenantId,
      AZURE_AUTHORITY_HOST: entra.authorityHost,
    });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const token = readFileSync(file, 'utf8');
    expect(decodeJwt(token)).toMatchObject({ iss: s.gateway.url, sub: s.subject, aud: 'api://AzureADTokenExchange' });
    expect(res.stderr).toMatch(/^fedbroker: wrote .+azure-token: ID token for api:\/\/AzureADTokenExchange valid until \S+Z\n$/);

    const got = await getToken(vars);
    expect(got.token).toBe(entra.grants.at(-1)?.accessToken);
    expect(entra.grants.at(-1)).toMatchObject({ clientId: CLIENT_ID, scope: SCOPE, assertionSha256: sha256(token) });
  });

  it('with --refresh rewrites the file before the SDK’s 5-minute cache could outlive it; a new credential sends the new one', async () => {
    const file = join(tempConfigHome(), 'azure-token');
    // 15-minute tokens, waits 200 times shorter: rewritten after (15 - 5) × 0.8 = 8 min → 2.4 s.
    const proc = await spawnCli([...args(file), '--refresh', '--duration', '15m', '--time-scale', '200'], s.env);
    try {
      await proc.until(({ stderr }) => /refreshing until stopped/.test(stderr));
      const vars = exportsOf(proc.stdout());
      const first = readFileSync(file, 'utf8');
      await getToken(vars);
      expect(entra.grants.at(-1)?.assertionSha256).toBe(sha256(first));
      await proc.until(({ stderr }) => /refreshed .+azure-token: valid until \S+Z/.test(stderr));
      const second = readFileSync(file, 'utf8');
      expect(second).not.toBe(first);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      await getToken(vars);
      expect(entra.grants.at(-1)?.assertionSha256).toBe(sha256(second));
    } finally {
      proc.kill('SIGTERM');
      expect(await proc.exited).toBe(0);
    }
    expect(proc.stderr()).toMatch(/stopped; .+ keeps its last token until it expires\n$/);
  });

  it('refuses --refresh with tokens the Azure SDK could keep past their expiry (token_too_short)', async () => {
    const file = join(tempConfigHome(), 'azure-token');
    const res = await s.cli([...args(file), '--refresh', '--duration', '8m']);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(
      /fedbroker: token_too_short: .+ the token lives 480s but its reader keeps it up to 300s; ask for 10 minutes or more/,
    );
  });

  it('Entra refuses a token whose subject no federated credential names (AADSTS70021), and the SDK says so', async () => {
    const file = join(tempConfigHome(), 'azure-token');
    const res = await s.cli(args(file, OTHER_CLIENT_ID));
    expect(res.code, res.stderr).toBe(0);
    await expect(getToken(exportsOf(res.stdout))).rejects.toThrow(/AADSTS70021/);
    expect(entra.refusals.at(-1)).toBe('AADSTS70021');
  });

  it('refuses a plain-http authority, a malformed client id (usage_error) and runs without a stored token (no_token)', async () => {
    const file = join(tempConfigHome(), 'azure-token');
    const http = await s.cli([...args(file).slice(0, -1), 'http://login.example.test/']);
    expect(http).toMatchObject({ code: 2, stdout: '' });
    expect(http.stderr).toMatch(/^fedbroker: usage_error: .*https/);
    const guid = await s.cli(args(file, 'not-a-guid'));
    expect(guid.code).toBe(2);
    expect(guid.stderr).toMatch(/^fedbroker: usage_error: .*GUID/);
    const tenant = await s.cli([...args(file).slice(0, 7), 'a/b']);
    expect(tenant.code).toBe(2);
    expect(tenant.stderr).toMatch(/^fedbroker: usage_error: .*tenant GUID or domain/);
    const empty = tempConfigHome();
    const none = await s.cli(args(file), { HOME: empty, XDG_CONFIG_HOME: empty });
    expect(none).toMatchObject({ code: 1, stdout: '' });
    expect(none.stderr).toMatch(/^fedbroker: no_token: /);
  });
});
