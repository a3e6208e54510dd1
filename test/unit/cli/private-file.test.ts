import { chmodSync, lstatSync, mkdtempSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writePrivateFile } from '../../../cli/private-file.ts';

const dir = () => mkdtempSync(join(tmpdir(), 'fedbroker-private-'));
const mode = (path: string) => statSync(path).mode & 0o777;

describe('writePrivateFile', () => {
  it('creates a new file 0600', async () => {
    const path = join(dir(), 'sub', 'credentials');
    await writePrivateFile(path, 'new');
    expect(readFileSync(path, 'utf8')).toBe('new');
    expect(mode(path)).toBe(0o600);
  });

  it('writes through a symlink, which stays a link, and tightens a looser target to 0600', async () => {
    const d = dir();
    const target = join(d, 'real-credentials');
    writeFileSync(target, 'old');
    chmodSync(target, 0o644);
    const link = join(d, 'credentials');
    symlinkSync('real-credentials', link);
    await writePrivateFile(link, 'new');
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readFileSync(target, 'utf8')).toBe('new');
    expect(mode(target)).toBe(0o600);
  });

  it('keeps a target mode stricter than 0600', async () => {
    const d = dir();
    const target = join(d, 'read-only');
    writeFileSync(target, 'old');
    chmodSync(target, 0o400);
    await writePrivateFile(target, 'new');
    expect(readFileSync(target, 'utf8')).toBe('new');
    expect(mode(target)).toBe(0o400);
  });

  it('follows a chain of links, and a dangling one to the file it names', async () => {
    const d = dir();
    symlinkSync(join(d, 'b'), join(d, 'a'));
    symlinkSync('c', join(d, 'b'));
    await writePrivateFile(join(d, 'a'), 'through two links');
    expect(lstatSync(join(d, 'b')).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(d, 'c'), 'utf8')).toBe('through two links');
    expect(mode(join(d, 'c'))).toBe(0o600);
  });

  it('reports a link loop as a file error', async () => {
    const d = dir();
    symlinkSync('y', join(d, 'x'));
    symlinkSync('x', join(d, 'y'));
    await expect(writePrivateFile(join(d, 'x'), 'loop')).rejects.toMatchObject({ error: 'file_error' });
  });
});
