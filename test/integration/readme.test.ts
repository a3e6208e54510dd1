// Every shell snippet of README.md, run as written against the local run (`npm start`'s script on
// free ports). The only edits are the ports (8787 and 8789 → the run's) and `npx fedbroker`, which in
// the repository runs the package's own bin (package.json `bin`): the snippet runs that bin directly,
// so a scratch directory can take the files it writes. A block whose first line is `# needs AWS`
// is not run; the Quick start block is run by CI itself (.ci/run) and by startLocalRun; installing
// the published CLI is what test/integration/cli/installed-package.test.ts does from the packed
// tarball (the registry is not reached from tests).
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtCli } from '../support/cli.ts';
import { startLocalRun } from '../support/local-run.ts';

const README = readFileSync('README.md', 'utf8');
const blocks = [...README.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1] ?? '');
const QUICK_START = blocks[0] ?? '';
const INSTALL = 'npm install -g @fedbroker/cli && fedbroker --version\n';
const runnable = blocks.slice(1).filter((b) => !b.startsWith('# needs AWS') && b !== INSTALL);

/** Runs `script` with bash (errexit, pipefail) in `cwd`; resolves with its output, rejects on failure. */
function bash(script: string, cwd: string, env: Record<string, string>): Promise<string> {
  return new Promise((done, fail) => {
    execFile('bash', ['-c', `set -euo pipefail\n${script}`], { cwd, env, timeout: 60_000 }, (error, stdout, stderr) =>
      error ? fail(new Error(`${error.message}\n${stdout}\n${stderr}`)) : done(stdout),
    );
  });
}

describe('README.md shell snippets', () => {
  let run: Awaited<ReturnType<typeof startLocalRun>>;
  let port: string;
  let devPort: string;
  beforeAll(async () => {
    await builtCli();
    run = await startLocalRun();
    port = new URL(run.issuer).port;
    devPort = new URL(run.devIssuer).port;
  }, 90_000);
  afterAll(async () => run?.stop());

  it('has the Quick start, the one-minute loop, the curl path and the install line', () => {
    expect(blocks).toContain(INSTALL);
    expect(QUICK_START.split('\n').map((l) => /^npm ci && npm (start|test) /.exec(l)?.[1])).toEqual(['start', 'test', undefined]);
    expect(runnable).toHaveLength(2);
  });

  it('Quick start: `npm start` is the script startLocalRun runs, `npm test` is what .ci/run runs', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string>; bin: Record<string, string> };
    expect(pkg.scripts.start).toBe('node scripts/start-local.ts');
    expect(readFileSync('.ci/run', 'utf8')).toMatch(/^npm ci [^\n]*&& npm test$/m);
    expect(pkg.bin).toEqual({ fedbroker: 'bin/fedbroker.mjs' });
  });

  it('the install line: the packed @fedbroker/cli installs with npm and answers --version (installed-package.test.ts)', () => {
    const installed = readFileSync('test/integration/cli/installed-package.test.ts', 'utf8');
    expect(installed).toContain("describe('the installed package (@fedbroker/cli)'");
    expect(installed).toContain("cli.run(['--version'])");
    expect(JSON.parse(readFileSync('packages/cli/package.json', 'utf8'))).toMatchObject({
      name: '@fedbroker/cli',
      bin: { fedbroker: expect.any(String) },
    });
  });

  it('the loop and the curl path run as written, in order, in one shell', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'fedbroker-readme-'));
    const bin = `${JSON.stringify(process.execPath)} ${JSON.stringify(resolve('bin/fedbroker.mjs'))}`;
    const script = [`npx() { [ "$1" = fedbroker ] || return 127; shift; ${bin} "$@"; }`, ...runnable]
      .join('\n')
      .replaceAll('localhost:8787', `localhost:${port}`)
      .replaceAll('localhost:8789', `localhost:${devPort}`);
    const home = mkdtempSync(join(tmpdir(), 'fedbroker-cli-'));
    // No FEDBROKER_ENDPOINT: the CLI finds the run through its data folder's local-run.json, as README says.
    const env = { PATH: process.env.PATH ?? '', HOME: home, XDG_CONFIG_HOME: home, FEDBROKER_DATA_DIR: run.dataDir };
    const out = await bash(script, cwd, env);

    // Discovery and JWKS.
    expect(out).toContain(`"issuer":"${run.issuer}"`);
    expect(out).toMatch(/"keys":\[\{/);
    // `--decode`: the ID token's header and payload for AWS.
    expect(out).toMatch(/"aud": "sts\.amazonaws\.com"/);
    expect(out).toContain('"sub": "dev/dev-issuer/dev:alice"');
    // The curl path ends with an ID token response.
    expect(out).toContain('"issued_token_type":"urn:ietf:params:oauth:token-type:id_token"');
    // `--out-file id.jwt`: the bare token, no newline, mode 0600.
    expect(readFileSync(join(cwd, 'id.jwt'), 'utf8')).toMatch(/^eyJ[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(statSync(join(cwd, 'id.jwt')).mode & 0o777).toBe(0o600);
  }, 120_000);
});
