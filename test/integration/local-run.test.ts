import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileAuditLog } from '../../lib/local/file-audit-log.ts';
import { postExchange, TOKEN_TYPE } from '../support/exchange-client.ts';
import { startLocalRun } from '../support/local-run.ts';

/** Every path under `dir` (itself included) with its permission bits, as `0700 dynamodb`. */
function modes(dir: string, prefix = '.'): string[] {
  const here = [`${(lstatSync(dir).mode & 0o777).toString(8).padStart(4, '0')} ${prefix}`];
  if (!lstatSync(dir).isDirectory()) return here;
  return [...here, ...readdirSync(dir).flatMap((entry) => modes(join(dir, entry), `${prefix}/${entry}`))];
}

/**
 * A data folder as a run before the fix left it, under the default umask: folders 0755, a stale
 * LevelDB log and audit file 0644. The run must tighten it as well as create its own files owner-only.
 */
function looseDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'fedbroker-run-'));
  mkdirSync(join(dir, 'dynamodb'), { mode: 0o755 });
  writeFileSync(join(dir, 'dynamodb', 'LOG.old'), 'an earlier run\n', { mode: 0o644 });
  chmodSync(join(dir, 'dynamodb'), 0o755);
  chmodSync(join(dir, 'dynamodb', 'LOG.old'), 0o644);
  mkdirSync(join(dir, 'audit', 'dev'), { recursive: true, mode: 0o755 });
  writeFileSync(join(dir, 'audit', 'dev', '2020-01-01.jsonl'), '', { mode: 0o644 });
  chmodSync(join(dir, 'audit'), 0o755);
  chmodSync(join(dir, 'audit', 'dev'), 0o755);
  chmodSync(join(dir, 'audit', 'dev', '2020-01-01.jsonl'), 0o644);
  chmodSync(dir, 0o755);
  return dir;
}

describe('npm start (local HTTP API, dynalite, file signer, audit files)', () => {
  let run: Awaited<ReturnType<typeof startLocalRun>>;
  beforeAll(async () => {
    run = await startLocalRun({ FEDBROKER_DATA_DIR: looseDataDir() });
  }, 90_000);
  afterAll(async () => run?.stop());

  it('prints the issuer and a ready-to-paste curl line', () => {
    expect(run.issuer).toMatch(/^http:\/\/localhost:\d+$/);
    expect(run.output()).toContain(`curl -s ${run.issuer}/.well-known/openid-configuration`);
  });

  it('passes openid-client discovery', async () => {
    const config = await client.discovery(new URL(run.issuer), 'fedbroker-test', undefined, undefined, {
      execute: [client.allowInsecureRequests],
    });
    const metadata = config.serverMetadata();
    expect(metadata.issuer).toBe(run.issuer);
    expect(metadata.jwks_uri).toBe(`${run.issuer}/.well-known/jwks.json`);
    expect(metadata.grant_types_supported).toContain('urn:ietf:params:oauth:grant-type:token-exchange');
  });

  it('serves a JWKS that jose can load', async () => {
    const jwks = createRemoteJWKSet(new URL(`${run.issuer}/.well-known/jwks.json`));
    await jwks.reload();
    expect(jwks.jwks()?.keys).toHaveLength(1);
  });

  it('answers unknown routes with a JSON 404 through the gateway', async () => {
    const res = await fetch(`${run.issuer}/does-not-exist`);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: 'not_found' });
  });

  it('runs the dev loop: dev token → exchange → ID token for AWS → verified against the JWKS', async () => {
    const devToken = (await (await fetch(`${run.devIssuer}/token`, { method: 'POST', body: 'sub=dev:alice' })).text()).trim();
    const exchanged = await postExchange(run.issuer, { subject_token: devToken, subject_token_type: TOKEN_TYPE.idToken, tenant: 'dev' });
    expect(exchanged.status).toBe(200);
    const id = await postExchange(run.issuer, {
      subject_token: exchanged.body.access_token,
      subject_token_type: TOKEN_TYPE.accessToken,
      requested_token_type: TOKEN_TYPE.idToken,
      audience: 'sts.amazonaws.com',
    });
    expect(id.status).toBe(200);
    const { payload } = await jwtVerify(id.body.access_token, createRemoteJWKSet(new URL(`${run.issuer}/.well-known/jwks.json`)), {
      issuer: run.issuer,
      audience: 'sts.amazonaws.com',
    });
    expect(payload.sub).toBe('dev/dev-issuer/dev:alice');
  });

  it('refuses a dev token whose subject is outside dev:*', async () => {
    const devToken = (await (await fetch(`${run.devIssuer}/token`, { method: 'POST', body: 'sub=mallory' })).text()).trim();
    const res = await postExchange(run.issuer, { subject_token: devToken, subject_token_type: TOKEN_TYPE.idToken, tenant: 'dev' });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
  });

  it('keeps its data owner-only: the folder and every folder in it 0700, every file 0600 (README: mode 0600)', async () => {
    // A write first, so the store has logged and flushed something of this run's.
    const devToken = (await (await fetch(`${run.devIssuer}/token`, { method: 'POST', body: 'sub=dev:modes' })).text()).trim();
    expect(
      (await postExchange(run.issuer, { subject_token: devToken, subject_token_type: TOKEN_TYPE.idToken, tenant: 'dev' })).status,
    ).toBe(200);
    const all = modes(run.dataDir);
    expect(all).toContain('0600 ./signing-key.json');
    expect(all).toContain('0600 ./dynamodb/LOG.old');
    expect(all).toContain('0600 ./audit/dev/2020-01-01.jsonl');
    expect(all.filter((line) => line.includes('./dynamodb/')).length).toBeGreaterThan(3);
    const loose = all.filter((line) => {
      const [mode = '', path = ''] = line.split(' ');
      return lstatSync(join(run.dataDir, path)).isDirectory() ? mode !== '0700' : mode !== '0600';
    });
    expect(loose).toEqual([]);
  });

  it('answers the audit API from its audit files with the records it wrote', async () => {
    const devToken = (await (await fetch(`${run.devIssuer}/token`, { method: 'POST', body: 'sub=dev:auditor' })).text()).trim();
    const exchanged = await postExchange(run.issuer, { subject_token: devToken, subject_token_type: TOKEN_TYPE.idToken, tenant: 'dev' });
    expect(exchanged.status).toBe(200);
    const res = await fetch(`${run.issuer}/v1/tenants/dev/audit?principal=dev/dev-issuer/dev:auditor`, {
      headers: { Authorization: `Bearer ${exchanged.body.access_token}` },
    });
    expect(res.status).toBe(200);
    const { items } = (await res.json()) as { items: { event: string; jti?: string; time: string }[] };
    expect(items.map((r) => [r.event, r.jti])).toEqual([['token.exchange', decodeJwt(exchanged.body.access_token).jti]]);
    expect(readdirSync(join(run.dataDir, 'audit', 'dev'))).toContain(`${items[0]!.time.slice(0, 10)}.jsonl`);
  });

  // Last: it stops the run. The audit files are written in the background
  // (lib/audit/inline-projection.ts); stopping must not lose the lines still waiting for them.
  it('copies its last audit records to its audit files before it exits on SIGTERM', async () => {
    const devToken = (await (await fetch(`${run.devIssuer}/token`, { method: 'POST', body: 'sub=dev:last' })).text()).trim();
    const exchanged = await postExchange(run.issuer, { subject_token: devToken, subject_token_type: TOKEN_TYPE.idToken, tenant: 'dev' });
    expect(exchanged.status).toBe(200);
    const jti = decodeJwt(exchanged.body.access_token).jti;
    await run.stop();
    const now = Date.now();
    const { items } = await new FileAuditLog(join(run.dataDir, 'audit')).query('dev', {
      since: new Date(now - 3_600_000).toISOString(),
      until: new Date(now + 60_000).toISOString(),
      limit: 100,
    });
    expect(items.filter((r) => r.event === 'token.exchange' && r.jti === jti).map((r) => r.principal)).toEqual(['dev/dev-issuer/dev:last']);
  });
});
