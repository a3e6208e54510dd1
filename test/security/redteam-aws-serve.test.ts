// `fedbroker aws serve` (cli/outputs/container-credentials.ts) against a web page: with DNS
// rebinding, a page on attacker.example whose name now resolves to 127.0.0.1 is same-origin with
// the server, so the browser lets it PUT with custom headers and read the answer. The container
// endpoint needs the per-start token, which the page cannot know; IMDSv2 needs only a session token
// anyone can PUT for, so the server must refuse requests addressed to any other host name.
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_IMDS_SESSIONS, startContainerServer } from '../../cli/outputs/container-credentials.ts';

const creds = {
  accessKeyId: 'ASIAEXAMPLE',
  secretAccessKey: 'secret-key',
  sessionToken: 'session-token',
  expiration: new Date(Date.now() + 3600_000),
};
let server: Awaited<ReturnType<typeof startContainerServer>>;
let port: number;

beforeAll(async () => {
  server = await startContainerServer({ source: { current: () => creds }, port: 0, imds: true, roleName: 'deploy' });
  port = Number(new URL(server.url).port);
});
afterAll(() => server.close());

function call(method: string, path: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers, setHost: 'host' in headers }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** What a rebound page can do: the IMDSv2 dance, addressed to `host`. */
async function imdsDance(host: string, extra: Record<string, string> = {}) {
  const token = await call('PUT', '/latest/api/token', { host, 'x-aws-ec2-metadata-token-ttl-seconds': '60', ...extra });
  if (token.status !== 200) return { status: token.status, body: token.body };
  return call('GET', '/latest/meta-data/iam/security-credentials/deploy', { host, 'x-aws-ec2-metadata-token': token.body, ...extra });
}

describe('aws serve --imds and DNS rebinding', () => {
  it('serves the SDKs, which address it by its loopback URL (control)', async () => {
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`]) {
      const r = await imdsDance(host);
      expect(r.status, host).toBe(200);
      expect(r.body).toContain('secret-key');
    }
    const c = await call('GET', '/role-credentials', { host: `127.0.0.1:${port}`, authorization: server.token });
    expect(c.status).toBe(200);
  });

  it('refuses a page whose host name was rebound to 127.0.0.1', async () => {
    for (const host of [`attacker.example:${port}`, 'attacker.example', `127.0.0.1.nip.io:${port}`]) {
      const r = await imdsDance(host, { origin: `http://${host}` });
      expect(r.status, host).toBe(403);
      expect(r.body).not.toContain('secret-key');
    }
  });

  it('refuses a request with no Host header', async () => {
    const r = await call('PUT', '/latest/api/token', { 'x-aws-ec2-metadata-token-ttl-seconds': '60' });
    expect(r.status).not.toBe(200);
  });

  it('keeps at most MAX_IMDS_SESSIONS sessions: a loop of PUTs evicts the oldest, the newest still works', async () => {
    const host = `127.0.0.1:${port}`;
    const put = async () => (await call('PUT', '/latest/api/token', { host, 'x-aws-ec2-metadata-token-ttl-seconds': '600' })).body;
    const first = await put();
    let last = first;
    for (let i = 0; i < MAX_IMDS_SESSIONS; i++) last = await put();
    const get = (t: string) => call('GET', '/latest/meta-data/iam/security-credentials/deploy', { host, 'x-aws-ec2-metadata-token': t });
    expect((await get(first)).status).toBe(401);
    expect((await get(last)).status).toBe(200);
  });
});
