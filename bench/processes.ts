// Child processes of `npm run bench` / `npm run load`: the local run, servers and one-shot
// measurements, each bounded in time, and what they cost in CPU. Results travel on stdout.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../test/support/free-port.ts';

export const ROOT = resolve(fileURLToPath(import.meta.url), '../..');

// Child processes hand their result (or a server's address) to the parent on one stdout line with
// this prefix: handlers also write JSON lines to stdout (logs, CloudWatch EMF metrics).
const RESULT = '@@bench ';
/** Prints `value` for the parent (runJson / spawnServer) and waits until it is written. */
export function report(value: unknown): Promise<void> {
  return new Promise((done) => process.stdout.write(`${RESULT}${JSON.stringify(value)}\n`, () => done()));
}

/**
 * Spawns scripts/start-local.ts (what `npm start` runs) like test/support/local-run.ts does, but
 * stops reading its output once the banner is there: the handlers log every request (audit lines,
 * metrics), and keeping (and re-scanning) that text would load the process that runs the load generator.
 */
export async function spawnLocalRun(
  env: Record<string, string> = {},
): Promise<{ url: string; devIssuer: string; pid: number; stop(): Promise<void> }> {
  const [port, devPort] = [await freePort(), await freePort()];
  const child: ChildProcess = spawn(process.execPath, ['scripts/start-local.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: String(port),
      FEDBROKER_DEV_ISSUER_PORT: String(devPort),
      FEDBROKER_DATA_DIR: mkdtempSync(join(tmpdir(), 'fedbroker-bench-run-')),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let banner = '';
  await new Promise<void>((done, fail) => {
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      fail(new Error(`local run did not start in 90 s:\n${banner}`));
    }, 90_000);
    const onData = (chunk: Buffer) => {
      banner += chunk.toString();
      if (/^try: .+$/m.test(banner)) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        child.stderr?.off('data', onData);
        // Keep draining so the child never blocks on a full pipe.
        child.stdout?.resume();
        child.stderr?.resume();
        done();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`local run exited with ${code}:\n${banner}`));
    });
  });
  return {
    url: `http://127.0.0.1:${port}`,
    devIssuer: `http://localhost:${devPort}`,
    pid: child.pid ?? 0,
    stop: () => stopChild(child),
  };
}

/** SIGTERM, then SIGKILL after 10 s: a bench never leaves a server behind. */
export function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((done) => {
    if (child.exitCode !== null || child.signalCode !== null) return done();
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      done();
    });
    child.kill('SIGTERM');
  });
}

/** Starts `node <script> ...args` (a server) and resolves what it `report`s once it listens. */
export async function spawnServer<T = Record<string, string>>(
  script: string,
  args: string[] = [],
  extraEnv: Record<string, string> = {},
): Promise<{ info: T; pid: number; stop(): Promise<void> }> {
  const child = spawn(process.execPath, [script, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  const info = await new Promise<T>((done, fail) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail(new Error(`${script} did not start in 60 s:\n${text}`));
    }, 60_000);
    const onData = (chunk: Buffer) => {
      text += chunk.toString();
      const line = text.split('\n').find((l, i, all) => l.startsWith(RESULT) && i < all.length - 1);
      if (!line) return;
      clearTimeout(timer);
      // From here on the output is only drained, never kept.
      child.stdout.off('data', onData);
      child.stderr.off('data', onData);
      child.stdout.resume();
      child.stderr.resume();
      done(JSON.parse(line.slice(RESULT.length)) as T);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`${script} exited with ${code}:\n${text}`));
    });
  });
  return { info, pid: child.pid ?? 0, stop: () => stopChild(child) };
}

/**
 * Runs `node [nodeArgs] <script> ...args` to completion (killed after `timeoutMs`) and resolves
 * what it `report`ed. Only the result line and the output's tail are kept: handlers in the child
 * write a log line and metrics per request.
 */
export function runJson<T>(
  script: string,
  args: string[] = [],
  options: { env?: Record<string, string>; nodeArgs?: string[]; timeoutMs?: number } = {},
): Promise<T> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [...(options.nodeArgs ?? []), script, ...args], {
      cwd: ROOT,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let partial = '';
    let result: string | undefined;
    let tail = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 180_000);
    child.stdout.on('data', (c: Buffer) => {
      const lines = (partial + c.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) if (line.startsWith(RESULT)) result = line.slice(RESULT.length);
    });
    child.stderr.on('data', (c: Buffer) => (tail = (tail + c.toString()).slice(-4000)));
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (partial.startsWith(RESULT)) result = partial.slice(RESULT.length);
      if (code !== 0 || result === undefined) return fail(new Error(`${script} ${args.join(' ')} failed (${code ?? signal}):\n${tail}`));
      done(JSON.parse(result) as T);
    });
  });
}

/** The code measured: commit, and whether the handlers' sources differ from it. */
export function codeState(): string {
  const git = (args: string[]) => spawnSync('git', args, { cwd: ROOT, encoding: 'utf8', timeout: 10_000 }).stdout?.trim() ?? '';
  const dirty = git(['status', '--porcelain', '--', 'lib', 'functions', 'serverless.yml']).split('\n').filter(Boolean).length;
  const changes = dirty ? ` + ${dirty} uncommitted change(s) under lib/, functions/, serverless.yml` : '';
  return `commit ${git(['rev-parse', '--short', 'HEAD'])}${changes}`;
}

/**
 * CPU seconds used so far by process `pid` itself and by its live descendants, and their thread
 * count, from Linux /proc (worker threads count with their process). Undefined where /proc is not available.
 */
export function processCpu(pid: number): { self: number; descendants: number; threads: number } | undefined {
  if (!existsSync('/proc/self/stat')) return undefined;
  const stats = new Map<number, { ppid: number; cpu: number; threads: number }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // Fields after the parenthesised command name: state(3) ppid(4) ... utime(14) stime(15) in clock
      // ticks ... num_threads(20); numbered as in proc(5).
      const fields = readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ').pop()!.split(' ');
      stats.set(Number(entry), {
        ppid: Number(fields[1]),
        cpu: (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS,
        threads: Number(fields[17]),
      });
    } catch {
      // the process ended while we looked
    }
  }
  const self = stats.get(pid)?.cpu;
  if (self === undefined) return undefined;
  let descendants = 0;
  let threads = stats.get(pid)?.threads ?? 0;
  const parents = new Set([pid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [p, st] of stats) {
      if (!parents.has(p) && parents.has(st.ppid)) {
        parents.add(p);
        descendants += st.cpu;
        threads += st.threads;
        grew = true;
      }
    }
  }
  return { self, descendants, threads };
}
const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim()) || 100;
