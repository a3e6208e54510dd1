import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type LocalRun, localRunPath, readLocalRun, removeLocalRun, writeLocalRun } from '../../../lib/local/run-file.ts';

const dir = () => mkdtempSync(join(tmpdir(), 'fedbroker-run-file-'));

const record = (over: Partial<LocalRun> = {}): LocalRun => ({
  pid: process.pid,
  endpoint: 'http://localhost:8787',
  issuer: 'http://localhost:8787',
  dev_issuer: 'http://localhost:8789',
  environment: {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:4567',
    FEDBROKER_LOCAL: 'true',
    FEDBROKER_SIGNER: 'local',
    FEDBROKER_TABLE: 'fedbroker-local',
    FEDBROKER_ISSUER: 'http://localhost:8787',
    FEDBROKER_DATA_DIR: '/tmp/x',
  },
  ...over,
});

/** A pid that was just used and is now free: the process has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

describe('the local run record', () => {
  it('round-trips, 0600, and is removed only by the run that wrote it', () => {
    const d = dir();
    writeLocalRun(d, record());
    expect(readLocalRun(d)).toEqual(record());
    removeLocalRun(d, process.pid + 1);
    expect(readLocalRun(d)).toBeDefined();
    removeLocalRun(d);
    expect(readLocalRun(d)).toBeUndefined();
  });

  it('is ignored once the run that wrote it is gone', () => {
    const d = dir();
    writeLocalRun(d, record({ pid: deadPid() }));
    expect(readLocalRun(d)).toBeUndefined();
  });

  it('is ignored when others may write it', () => {
    const d = dir();
    writeLocalRun(d, record());
    chmodSync(localRunPath(d), 0o666);
    expect(readLocalRun(d)).toBeUndefined();
  });

  it.each([
    ['an https endpoint elsewhere', { endpoint: 'https://broker.example.com' }],
    ['a plain-http endpoint off loopback', { endpoint: 'http://10.0.0.1:8787' }],
  ])('never points a client off the machine: %s', (_, over) => {
    const d = dir();
    writeFileSync(localRunPath(d), JSON.stringify(record(over)), { mode: 0o600 });
    expect(readLocalRun(d)).toBeUndefined();
  });

  it('refuses a DynamoDB endpoint off loopback and unknown variables', () => {
    const d = dir();
    const env = record().environment;
    writeFileSync(localRunPath(d), JSON.stringify(record({ environment: { ...env, AWS_ENDPOINT_URL_DYNAMODB: 'https://dynamodb.aws' } })));
    expect(readLocalRun(d)).toBeUndefined();
    writeFileSync(localRunPath(d), JSON.stringify({ ...record(), environment: { ...env, NODE_OPTIONS: '--require x' } }));
    expect(readLocalRun(d)).toBeUndefined();
  });
});
