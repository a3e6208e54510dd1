// `npm run build:cli`: bundles the `fedbroker` CLI (cli/main.ts) with everything it imports —
// the shared lib, commander, jose, zod, the AWS SDK — into one ESM file with no runtime
// dependencies, for Node.js 20 and later. It is written twice, byte for byte the same:
// dist/fedbroker.mjs, which this checkout's bin/fedbroker.mjs loads, and
// packages/cli/dist/fedbroker.mjs, the `bin` of the installable package (@fedbroker/cli).
// Run by Node directly, so only erasable TypeScript here.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export const PACKAGE_DIR = resolve(root, 'packages/cli');
const PACKAGE_OUTFILE = resolve(PACKAGE_DIR, 'dist/fedbroker.mjs');

/** The commit the bundle is built from (`-dirty` with uncommitted changes), or undefined outside a git checkout. */
function commit(): string | undefined {
  try {
    const run = (args: string[]) => execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const sha = run(['rev-parse', '--short=12', 'HEAD']);
    return run(['status', '--porcelain', '--untracked-files=no']) ? `${sha}-dirty` : sha;
  } catch {
    return undefined;
  }
}

/**
 * What `fedbroker --version` prints, baked in at build time: the package's version, the commit
 * and the build time (SOURCE_DATE_EPOCH when set, for reproducible builds).
 */
export function buildInfo(): { version: string; commit: string | undefined; builtAt: string } {
  const { version } = JSON.parse(readFileSync(resolve(PACKAGE_DIR, 'package.json'), 'utf8')) as { version: string };
  const epoch = Number(process.env.SOURCE_DATE_EPOCH);
  const builtAt = new Date(Number.isFinite(epoch) && epoch > 0 ? epoch * 1000 : Date.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return { version, commit: commit(), builtAt };
}

/**
 * Builds the CLI bundle to `outfile` (and to the package's dist/, unless `outfile` is given).
 * Files are replaced atomically (temp file + rename), so a CLI started during a rebuild (e.g. by
 * tests in parallel processes) never loads half a file.
 */
export async function buildCli(outfile?: string): Promise<string> {
  const target = outfile ?? resolve(root, 'dist/fedbroker.mjs');
  const result = await build({
    absWorkingDir: root,
    entryPoints: ['cli/main.ts'],
    outfile: target,
    bundle: true,
    platform: 'node',
    format: 'esm',
    // The installed CLI promises Node 20 (packages/cli/package.json engines).
    target: 'node20',
    // ESM builds first (as in serverless.yml), so the bundle tree-shakes and needs no CJS interop.
    mainFields: ['module', 'main'],
    write: false,
    logLevel: 'warning',
    define: { FEDBROKER_BUILD: JSON.stringify(buildInfo()) },
    // The shebang makes the file itself the package's `bin`. Some dependencies are CommonJS and
    // call require() for node builtins; ESM has no require.
    banner: {
      js: "#!/usr/bin/env node\nimport { createRequire as __fbRequire } from 'node:module'; const require = __fbRequire(import.meta.url);",
    },
  });
  const [file] = result.outputFiles;
  if (!file) throw new Error('esbuild wrote nothing');
  for (const path of outfile ? [target] : [target, PACKAGE_OUTFILE]) {
    await mkdir(dirname(path), { recursive: true });
    const temp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      await writeFile(temp, file.contents, { mode: 0o755 });
      await rename(temp, path);
    } finally {
      await rm(temp, { force: true });
    }
  }
  return target;
}

if (import.meta.main) {
  const outfile = await buildCli();
  console.log(`built ${outfile} and ${PACKAGE_OUTFILE}`);
}
