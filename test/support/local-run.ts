import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.ts';

/** Runs `npm start`'s script (local HTTP API + dynalite + file signer) on free loopback ports. */
export async function startLocalRun(
  env: Record<string, string> = {},
): Promise<{ issuer: string; devIssuer: string; dataDir: string; output: () => string; stop(): Promise<void> }> {
  const [port, devPort] = [await freePort(), await freePort()];
  const dataDir = env.FEDBROKER_DATA_DIR ?? mkdtempSync(join(tmpdir(), 'fedbroker-run-'));
  let output = '';
  const child: ChildProcess = spawn(process.execPath, ['scripts/start-local.ts'], {
    env: { ...process.env, PORT: String(port), FEDBROKER_DEV_ISSUER_PORT: String(devPort), ...env, FEDBROKER_DATA_DIR: dataDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const issuer = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`local run did not start:\n${output}`)), 60_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      // The "try:" line comes last: once it is there, the whole banner is.
      const m = /^issuer: (\S+)$/m.exec(output);
      if (m?.[1] && /^try: .+$/m.test(output)) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`local run exited with ${code}:\n${output}`));
    });
  });
  return {
    issuer,
    devIssuer: `http://localhost:${devPort}`,
    dataDir,
    output: () => output,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
