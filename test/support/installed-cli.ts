// The CLI as a user gets it: packages/cli packed with the system's npm, installed from the tarball
// into an empty prefix (offline: the package has no dependencies), and run by the system's Node —
// not the Node 22 of this checkout's node_modules — from a directory outside the repository.
import { execFile } from 'node:child_process';
import { accessSync, constants, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { PACKAGE_DIR } from '../../scripts/build-cli.ts';
import { builtCli, type CliResult } from './cli.ts';

const run = promisify(execFile);

/** The first `name` on PATH that is not a node_modules/.bin shim: the machine's own. */
export function systemTool(name: string): string {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir || dir.includes('node_modules')) continue;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      // not here
    }
  }
  throw new Error(`no system ${name} on PATH`);
}

/** PATH holding only the system tools' folders, so `#!/usr/bin/env node` finds the system Node. */
const systemPath = () => [...new Set([systemTool('node'), systemTool('npm')].map((p) => p.slice(0, p.lastIndexOf('/'))))].join(delimiter);

export interface InstalledCli {
  tarball: string;
  /** Paths inside the tarball, as `npm pack --json` lists them. */
  packed: string[];
  prefix: string;
  bin: string;
  /** Runs the installed `fedbroker` from a fresh directory outside the repository. */
  run(args: string[], env?: Record<string, string>): Promise<CliResult>;
}

export async function packAndInstall(): Promise<InstalledCli> {
  await builtCli();
  const work = mkdtempSync(join(tmpdir(), 'fedbroker-pack-'));
  const env = { PATH: systemPath(), HOME: work, npm_config_cache: join(work, 'npm-cache'), npm_config_update_notifier: 'false' };
  const npm = systemTool('npm');
  const packedJson = (await run(npm, ['pack', PACKAGE_DIR, '--pack-destination', work, '--json'], { env, cwd: work })).stdout;
  const [info] = JSON.parse(packedJson) as { filename: string; files: { path: string }[] }[];
  if (!info) throw new Error('npm pack listed nothing');
  const tarball = join(work, info.filename);
  const prefix = join(work, 'prefix');
  await run(npm, ['install', '--prefix', prefix, tarball, '--offline', '--no-audit', '--no-fund'], { env, cwd: work });
  const bin = join(prefix, 'node_modules', '.bin', 'fedbroker');
  return {
    tarball,
    packed: info.files.map((f) => f.path),
    prefix,
    bin,
    async run(args, extra = {}) {
      const cwd = mkdtempSync(join(tmpdir(), 'fedbroker-elsewhere-'));
      return new Promise((resolve) => {
        execFile(
          bin,
          args,
          { cwd, env: { PATH: systemPath(), HOME: cwd, ...extra }, encoding: 'utf8', timeout: 60_000 },
          (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr }),
        );
      });
    },
  };
}
