// `npm run build:cli`: bundles the `fedbroker` CLI (cli/main.ts) with everything it imports —
// the shared lib, commander, jose, zod, the AWS SDK — into one ESM file, dist/fedbroker.mjs,
// which bin/fedbroker.mjs loads. Run by Node directly, so only erasable TypeScript here.
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Builds the CLI bundle to `outfile`. The file is replaced atomically (temp file + rename), so a
 * CLI started during a rebuild (e.g. by tests in parallel processes) never loads half a file.
 */
export async function buildCli(outfile = resolve(root, 'dist/fedbroker.mjs')): Promise<string> {
  const result = await build({
    absWorkingDir: root,
    entryPoints: ['cli/main.ts'],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    // ESM builds first (as in serverless.yml), so the bundle tree-shakes and needs no CJS interop.
    mainFields: ['module', 'main'],
    write: false,
    logLevel: 'warning',
    // Some dependencies are CommonJS and call require() for node builtins; ESM has no require.
    banner: { js: "import { createRequire as __fbRequire } from 'node:module'; const require = __fbRequire(import.meta.url);" },
  });
  for (const file of result.outputFiles) {
    await mkdir(dirname(file.path), { recursive: true });
    const temp = `${file.path}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      await writeFile(temp, file.contents);
      await rename(temp, file.path);
    } finally {
      await rm(temp, { force: true });
    }
  }
  return outfile;
}

if (import.meta.main) {
  const outfile = await buildCli();
  console.log(`built ${outfile}`);
}
