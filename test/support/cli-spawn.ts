// Runs the built CLI as a long-lived child process (e.g. `aws web-identity --refresh`), for tests
// that must act while it runs: wait for something it prints, stop it with a signal, read its exit.
import { spawn } from 'node:child_process';
import { expect } from 'vitest';
import { builtCli, tempConfigHome } from './cli.ts';

export interface CliProcess {
  stdout(): string;
  stderr(): string;
  /** Resolves once `predicate` holds for the output so far; rejects if the process exits first. */
  until(predicate: (out: { stdout: string; stderr: string }) => boolean): Promise<void>;
  kill(signal: NodeJS.Signals): void;
  /** The exit code (null when killed by a signal it did not handle). Checks stderr for stacks and tokens. */
  exited: Promise<number | null>;
}

export async function spawnCli(args: string[], env: Record<string, string>): Promise<CliProcess> {
  await builtCli();
  const child = spawn(process.execPath, ['bin/fedbroker.mjs', ...args], {
    env: { PATH: process.env.PATH ?? '', FEDBROKER_DATA_DIR: tempConfigHome(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const watchers = new Set<() => void>();
  const notify = () => {
    for (const w of watchers) w();
  };
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    notify();
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
    notify();
  });
  const exited = new Promise<number | null>((resolve) => {
    child.on('close', (code) => {
      notify();
      expect(stderr, 'no stack trace on stderr').not.toMatch(/^\s+at .+[(:]\d+/m);
      expect(stderr, 'no token on stderr').not.toMatch(/eyJ[\w-]*\.[\w-]*\.[\w-]*/);
      resolve(code);
    });
  });
  let closed = false;
  void exited.then(() => {
    closed = true;
    notify();
  });
  return {
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    kill: (signal) => void child.kill(signal),
    until: (predicate) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (predicate({ stdout, stderr })) {
            watchers.delete(check);
            resolve();
          } else if (closed) {
            watchers.delete(check);
            reject(new Error(`the CLI exited first; stderr: ${stderr}`));
          }
        };
        watchers.add(check);
        check();
      }),
  };
}
