// The record `npm start` keeps of itself while it runs: where its API, its DynamoDB stand-in and
// its data are, so that operator commands (`fedbroker admin …`) and the CLI's default endpoint
// find the local run with no hand-set variables. It holds no secret (the AWS keys are the
// placeholders dynalite ignores), but the file is 0600 like everything else in the data folder.
import { randomBytes } from 'node:crypto';
import { lstatSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AUDIT_COPIES } from '../config.ts';
import * as z from '../zod.ts';

const LOCAL_RUN_FILE = 'local-run.json';

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Plain http is accepted here only on loopback: the record must never point a client off the machine. */
const loopbackUrl = z.string().check(
  z.refine((text) => {
    try {
      const url = new URL(text);
      return url.protocol === 'http:' && LOOPBACK.has(url.hostname);
    } catch {
      return false;
    }
  }, 'must be an http URL on loopback'),
);

/** The variables of the run's handlers that operator commands need, by the names the config reads. */
const localRunEnvironmentSchema = z.strictObject({
  AWS_REGION: z.string(),
  AWS_ACCESS_KEY_ID: z.literal('local'),
  AWS_SECRET_ACCESS_KEY: z.literal('local'),
  AWS_ENDPOINT_URL_DYNAMODB: loopbackUrl,
  FEDBROKER_LOCAL: z.literal('true'),
  FEDBROKER_SIGNER: z.literal('local'),
  FEDBROKER_TABLE: z.string(),
  FEDBROKER_ISSUER: z.string(),
  FEDBROKER_DATA_DIR: z.string(),
  /** Where the run keeps its audit copy, so operator commands add their records there too (absent from older runs). */
  FEDBROKER_AUDIT_TABLE_WRITE: z.optional(z.enum(AUDIT_COPIES)),
});

const localRunSchema = z.strictObject({
  pid: z.number().check(z.int(), z.positive()),
  /** Where the HTTP API answers (the CLI's endpoint); the issuer may be another name for it. */
  endpoint: loopbackUrl,
  issuer: z.string(),
  dev_issuer: loopbackUrl,
  environment: localRunEnvironmentSchema,
});

export type LocalRun = z.infer<typeof localRunSchema>;

export const localRunPath = (dataDir: string) => join(dataDir, LOCAL_RUN_FILE);

/** Writes the record 0600, through a temp file and a rename, so a reader never sees half of it. */
export function writeLocalRun(dataDir: string, run: LocalRun): string {
  const path = localRunPath(dataDir);
  const temp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    writeFileSync(temp, `${JSON.stringify(run, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    renameSync(temp, path);
  } finally {
    rmSync(temp, { force: true });
  }
  return path;
}

/** Removes the record when the run stops, if it is still this process's. */
export function removeLocalRun(dataDir: string, pid = process.pid): void {
  if (readLocalRun(dataDir, { checkAlive: false })?.pid === pid) rmSync(localRunPath(dataDir), { force: true });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    // ESRCH: gone. EPERM: the pid was reused by another user's process, so not our run either.
    return false;
  }
}

/**
 * The record of a local run in `dataDir`, or undefined when there is none, or it is not one a
 * client should follow: not a regular file of this user's, writable by others, malformed, or left
 * behind by a run that has stopped (its process is gone).
 */
export function readLocalRun(dataDir: string, o: { checkAlive?: boolean } = {}): LocalRun | undefined {
  const path = localRunPath(dataDir);
  try {
    const stat = lstatSync(path);
    if (!stat.isFile() || (stat.mode & 0o022) !== 0) return undefined;
    if (typeof process.getuid === 'function' && stat.uid !== process.getuid()) return undefined;
    const parsed = localRunSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
    if (!parsed.success) return undefined;
    if (o.checkAlive !== false && !alive(parsed.data.pid)) return undefined;
    return parsed.data;
  } catch {
    return undefined;
  }
}
