import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const readme = readFileSync('README.md', 'utf8');

describe('README.md', () => {
  it('keeps the two Quick start commands byte for byte (CI and newcomers run them as written)', () => {
    const lines = readme.split('\n');
    expect(lines).toContain('npm ci && npm start          # broker on http://localhost:8787: embedded DynamoDB (dynalite), local key file');
    expect(lines).toContain('npm ci && npm test           # every test, against real local servers; ends with "N passed, N failed"');
  });

  it('stays an entry point: at most 8 KB, with the details in docs/', () => {
    expect(Buffer.byteLength(readme)).toBeLessThanOrEqual(8192);
    expect(readme).toContain('](docs/configuration.md)');
  });
});
