import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_DOCS, OTHER_VARIABLES, renderConfigurationDoc, schemaVariables } from '../../../lib/config-docs.ts';

describe('docs/configuration.md', () => {
  it('documents exactly the variables the configuration schema reads', () => {
    expect(Object.keys(CONFIG_DOCS).sort()).toEqual(schemaVariables().sort());
    for (const [name, doc] of Object.entries(CONFIG_DOCS)) expect(doc.meaning.trim(), name).not.toBe('');
  });

  it('is what npm run docs generates from lib/config.ts, lib/config-docs.ts and serverless.yml (run it after changing them)', () => {
    expect(readFileSync('docs/configuration.md', 'utf8')).toBe(renderConfigurationDoc());
  });

  it('lists every schema variable with its default', () => {
    const doc = renderConfigurationDoc();
    for (const name of schemaVariables()) expect(doc).toContain(`| \`${name}\` |`);
    expect(doc).toContain('| `FEDBROKER_DATA_DIR` | `.fedbroker` |');
    expect(doc).toContain('| `FEDBROKER_TENANT_CACHE_SECONDS` | `15` |');
  });

  it('names, for each variable read elsewhere, a file that still reads it', () => {
    for (const v of OTHER_VARIABLES) {
      expect(schemaVariables(), v.name).not.toContain(v.name);
      expect(readFileSync(v.readBy, 'utf8'), `${v.readBy} reads ${v.name}`).toContain(v.name);
    }
  });

  it('shows what serverless.yml sets, and refuses a schema variable without an entry', () => {
    const yml = 'provider:\n  environment:\n    FEDBROKER_JWKS_MAX_AGE: "120"\n';
    expect(renderConfigurationDoc(yml)).toContain('| `FEDBROKER_JWKS_MAX_AGE` | `300` | `120` |');
    const saved = CONFIG_DOCS.FEDBROKER_JWKS_MAX_AGE;
    delete CONFIG_DOCS.FEDBROKER_JWKS_MAX_AGE;
    try {
      expect(() => renderConfigurationDoc(yml)).toThrow(/no entry for FEDBROKER_JWKS_MAX_AGE/);
    } finally {
      CONFIG_DOCS.FEDBROKER_JWKS_MAX_AGE = saved!;
    }
  });

  it('stays out of the Lambda bundles: no handler or lib module imports lib/config-docs.ts', () => {
    const sources = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
      );
    const importers = [...sources('functions'), ...sources('lib'), ...sources('cli')].filter((f) =>
      /config-docs(\.ts)?['"]/.test(readFileSync(f, 'utf8')),
    );
    expect(importers).toEqual([]);
  });
});
