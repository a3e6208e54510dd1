// The action's runner interface (action/runner.ts) against the documented command-file and
// workflow-command formats: what it appends is what the runner (and our test parser) reads back.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ActionError, error, exportVariable, getBooleanInput, getInput, mask, setOutput } from '../../../action/runner.ts';
import { parseCommandFile } from '../../support/actions-runner.ts';

let dir: string;
let saved: NodeJS.ProcessEnv;
let written: string;

beforeEach(() => {
  saved = { ...process.env };
  dir = mkdtempSync(join(tmpdir(), 'runner-'));
  for (const name of ['GITHUB_ENV', 'GITHUB_OUTPUT', 'GITHUB_STATE']) {
    process.env[name] = join(dir, name);
    writeFileSync(join(dir, name), '');
  }
  written = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    written += String(chunk);
    return true;
  });
});
afterEach(() => {
  vi.restoreAllMocks();
  process.env = saved;
});

describe('action/runner.ts', () => {
  it('reads INPUT_<NAME> as the runner sets it (upper case, dashes kept, trimmed)', () => {
    process.env['INPUT_ROLE-TO-ASSUME'] = '  arn:aws:iam::111122223333:role/x \n';
    expect(getInput('role-to-assume')).toBe('arn:aws:iam::111122223333:role/x');
    expect(getInput('absent')).toBe('');
    process.env.INPUT_REFRESH = 'TRUE';
    expect(getBooleanInput('refresh')).toBe(true);
    process.env.INPUT_REFRESH = 'maybe';
    expect(() => getBooleanInput('refresh')).toThrow(ActionError);
  });

  it('writes values in delimited blocks, so a value with newlines cannot add a variable of its own', () => {
    const hostile = 'x\nAWS_ACCESS_KEY_ID=AKIAEVIL\nghadelimiter_guess';
    exportVariable('SOMETHING', hostile);
    setOutput('id-token', 'a.b.c');
    expect(parseCommandFile(readFileSync(join(dir, 'GITHUB_ENV'), 'utf8'))).toEqual({ SOMETHING: hostile });
    expect(parseCommandFile(readFileSync(join(dir, 'GITHUB_OUTPUT'), 'utf8'))).toEqual({ 'id-token': 'a.b.c' });
    expect(process.env.SOMETHING).toBe(hostile);
  });

  it('masks every line of a multi-line secret, and escapes % CR LF in commands', () => {
    mask('line1\nline2');
    error('50% done\nsecond line');
    expect(written).toBe('::add-mask::line1\n::add-mask::line2\n::error::50%25 done%0Asecond line\n');
  });

  it('refuses to run outside a runner (runner_error)', () => {
    delete process.env.GITHUB_ENV;
    expect(() => exportVariable('X', 'y')).toThrow(/GITHUB_ENV is not set/);
  });
});
