import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { cruise, type ICruiseResult } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';
import { describe, expect, it } from 'vitest';

// docs/architecture.md states the layer rule that .dependency-cruiser.cjs enforces in CI
// (`npm run lint:deps`). These tests keep the two saying the same thing, and show the rule can fail.

const CONFIG = './.dependency-cruiser.cjs';
const config = createRequire(import.meta.url)(resolve(CONFIG)) as { forbidden: { name: string; from: { path?: string } }[] };
const doc = readFileSync('docs/architecture.md', 'utf8');

/** The names `<prefix>-<x>-imports-up` of the config's rules, in their order. */
const named = (prefix: string) =>
  config.forbidden.flatMap((r) =>
    r.name.startsWith(`${prefix}-`) && r.name.endsWith('-imports-up') ? [r.name.slice(prefix.length + 1, -11)] : [],
  );
const DOMAIN = named('domain');
const ADAPTERS = named('adapter');

describe('docs/architecture.md and .dependency-cruiser.cjs', () => {
  it('list the same domain concepts in the same order', () => {
    const rows = [...doc.matchAll(/^\| (\d+) \| `lib\/([\w-]+)\/` \|/gm)];
    expect(rows.map((r) => Number(r[1]))).toEqual(rows.map((_, i) => i + 1));
    expect(DOMAIN.length).toBeGreaterThan(5);
    expect(rows.map((r) => r[2])).toEqual(DOMAIN);
  });

  it('place every folder of lib/ in exactly one layer, and the document names each', () => {
    const others = ['net', 'app', 'handlers'];
    const folders = readdirSync('lib', { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? [e.name] : []));
    for (const folder of folders) {
      expect(
        [...DOMAIN, ...ADAPTERS, ...others].filter((f) => f === folder),
        `lib/${folder}/`,
      ).toHaveLength(1);
      expect(doc, `lib/${folder}/`).toContain(`\`lib/${folder}/\``);
    }
  });
});

describe('the layer rule', () => {
  // A module written under lib/ only for this test, cruised on its own (maxDepth 1), then removed.
  async function violations(folder: string, source: string): Promise<string[]> {
    const path = `lib/${folder}/layer-fixture-${randomBytes(4).toString('hex')}.ts`;
    writeFileSync(path, source);
    try {
      const options = await extractDepcruiseOptions(CONFIG);
      const { output } = await cruise([path], { ...options, maxDepth: 1 });
      return (output as ICruiseResult).summary.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`);
    } finally {
      rmSync(path, { force: true });
    }
  }

  it.each([
    ['keys', "import { exchangeToken } from '../app/exchange.ts';", 'domain-keys-imports-up', 'lib/app/exchange.ts'],
    ['keys', "import { TENANT_ID } from '../tenants/tenant.ts';", 'domain-keys-imports-up', 'lib/tenants/tenant.ts'],
    ['trust', "import { Table } from '../aws/dynamo-table.ts';", 'domain-trust-imports-up', 'lib/aws/dynamo-table.ts'],
    ['app', "import { runtime } from '../handlers/runtime.ts';", 'app-imports-up', 'lib/handlers/runtime.ts'],
    ['aws', "import { FileSigner } from '../local/file-signer.ts';", 'adapter-aws-imports-up', 'lib/local/file-signer.ts'],
    [
      'net',
      "import { loadConfig } from '../config.ts';\nimport { TOKEN_TYPE } from '../tokens/types.ts';",
      'leaf-imports-up',
      'lib/tokens/types.ts',
    ],
  ])('reports lib/%s/ importing against it (%s)', async (folder, imports, rule, to) => {
    const found = await violations(folder, `${imports}\nexport {};\n`);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(new RegExp(`^${rule}: lib/${folder}/layer-fixture-\\w+\\.ts → ${to}$`));
  });

  it('reports nothing for imports that follow it', async () => {
    const imports = "import { TENANT_ID } from '../tenants/tenant.ts';\nimport { loadConfig } from '../config.ts';";
    expect(await violations('trust', `${imports}\nexport {};\n`)).toEqual([]);
  });
});
