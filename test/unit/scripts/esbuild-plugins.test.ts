import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import plugins, { DEFERRED_BUILTINS } from '../../../scripts/esbuild-plugins.ts';

// A bundle built with the Lambda bundles' plugins, run in a fresh Node: which built-ins it has
// loaded after its import, and after it used them.
async function runBundle(source: string): Promise<{ atImport: string[]; afterUse: string[]; used: unknown }> {
  const dir = mkdtempSync(join(tmpdir(), 'fedbroker-plugins-'));
  writeFileSync(join(dir, 'entry.ts'), source);
  await build({
    entryPoints: [join(dir, 'entry.ts')],
    outfile: join(dir, 'out.mjs'),
    bundle: true,
    format: 'esm',
    platform: 'node',
    plugins,
  });
  const probe = `
    const loaded = () => process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice(13));
    const { use } = await import(${JSON.stringify(join(dir, 'out.mjs'))});
    const atImport = loaded();
    const used = await use();
    console.log(JSON.stringify({ atImport, afterUse: loaded(), used }));`;
  const out = spawnSync(process.execPath, ['--input-type=module', '-e', probe], { encoding: 'utf8' });
  if (out.status !== 0) throw new Error(out.stderr);
  return JSON.parse(out.stdout) as { atImport: string[]; afterUse: string[]; used: unknown };
}

describe('builtinsWithoutFacade', () => {
  it('defers node:stream/web until an export is read, and the export then works', async () => {
    expect(DEFERRED_BUILTINS).toContain('stream/web');
    const { atImport, afterUse, used } = await runBundle(`
      import { ReadableStream } from 'node:stream/web';
      export async function use() {
        const chunks = [];
        for await (const c of new ReadableStream({ start(ctl) { ctl.enqueue('a'); ctl.enqueue('b'); ctl.close(); } })) chunks.push(c);
        return chunks;
      }`);
    expect(atImport).not.toContain('stream/web');
    expect(afterUse).toContain('stream/web');
    expect(used).toEqual(['a', 'b']);
  });

  it('loads every other built-in at import, through the CommonJS view rather than an ESM facade', async () => {
    const { atImport, used } = await runBundle(`
      import { createHash } from 'node:crypto';
      import * as zlib from 'node:zlib';
      export const use = async () => [createHash('sha256').update('x').digest('hex').length, typeof zlib.gzipSync];`);
    expect(atImport).toEqual(expect.arrayContaining(['crypto', 'zlib']));
    expect(used).toEqual([64, 'function']);
  });
});
