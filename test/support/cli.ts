// Runs the built `fedbroker` CLI (bin/fedbroker.mjs → dist/fedbroker.mjs) as a child process,
// as a user or a CI job would. Asynchronous on purpose: the gateway answering the CLI runs in
// this very process, so a synchronous spawn would deadlock.
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { buildCli } from '../../scripts/build-cli.ts';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export type RunCli = (args: string[], env?: Record<string, string | undefined>) => Promise<CliResult>;

let built: Promise<string> | undefined;

/** Builds dist/fedbroker.mjs once per test file, from the sources as they are now. */
export function builtCli(): Promise<string> {
  built ??= buildCli();
  return built;
}

/** A fresh, private config home: the CLI keeps its token under `<dir>/fedbroker/token.json`. */
export function tempConfigHome(): string {
  return mkdtempSync(join(tmpdir(), 'fedbroker-cli-'));
}

let empty: string | undefined;
function emptyDataDir(): string {
  empty ??= mkdtempSync(join(tmpdir(), 'fedbroker-no-run-'));
  return empty;
}

/** Writes `content` to a new temp file and returns its path (token files, relationship documents). */
export function tempFile(name: string, content: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'fedbroker-in-')), name);
  writeFileSync(path, content);
  return path;
}

/**
 * A runner with `base` env on top of PATH only (nothing else leaks in from the test process).
 * Every run is checked for what the CLI must never print: a stack trace or a JWT on stderr.
 */
export function cliRunner(base: Record<string, string>): RunCli {
  return async (args, env = {}) => {
    await builtCli();
    // An empty data folder unless the test names one: a developer's own `npm start` in this
    // checkout (.fedbroker/local-run.json) must not become the CLI's endpoint or table here.
    const merged: Record<string, string> = { PATH: process.env.PATH ?? '', FEDBROKER_DATA_DIR: emptyDataDir(), ...base };
    for (const [k, v] of Object.entries(env)) {
      if (v === undefined) delete merged[k];
      else merged[k] = v;
    }
    const result = await new Promise<CliResult>((resolve) => {
      execFile(
        process.execPath,
        ['bin/fedbroker.mjs', ...args],
        { env: merged, encoding: 'utf8', timeout: 60_000 },
        (error, stdout, stderr) => {
          const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
          resolve({ code, stdout, stderr });
        },
      );
    });
    expect(result.stderr, 'no stack trace on stderr').not.toMatch(/^\s+at .+[(:]\d+/m);
    expect(result.stderr, 'no token on stderr').not.toMatch(/eyJ[\w-]*\.[\w-]*\.[\w-]*/);
    return result;
  };
}

/** The broker env a test's `admin` commands need: the table and DynamoDB endpoint and credentials. */
export function awsEnv(env: Record<string, string>): Record<string, string> {
  const keys = ['AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_ENDPOINT_URL_DYNAMODB', 'FEDBROKER_TABLE'];
  return Object.fromEntries(keys.filter((k) => env[k] !== undefined).map((k) => [k, env[k] as string]));
}
