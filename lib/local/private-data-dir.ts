import { chmodSync, lstatSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** What fedbroker keeps under the local data folder: dynalite's LevelDB, the audit copy and the signing keys. */
const DYNAMODB_DIR = 'dynamodb';
/** The local run's audit copy (lib/local/file-audit-log.ts), under the data folder. */
export const AUDIT_DIR = 'audit';
const KEY_FILE = /^signing-key(?:-[\w-]+)?\.json$/;

/**
 * Keeps the local run's data owner-only: the folder 0700, every file in it 0600. The dynalite
 * store holds the tenants' trust relationships and refresh-token records (and the audit copy
 * with FEDBROKER_AUDIT_TABLE_WRITE=inline), the audit folder the audit copy with `file`, and the
 * key files the private signing keys, none of which other local users may read.
 *
 * LevelDB (classic-level, under dynalite) creates its files with open(2) mode 0666 and offers no
 * option for it, so the mode comes from the process umask (POSIX umask(2): the mode is
 * `mode & ~umask`): 0o077 is set before the store opens, for every file created afterwards,
 * including the tables and logs LevelDB writes later while compacting. What an earlier run
 * created under the default umask (0644 files, 0755 folders) is tightened here too.
 *
 * Only fedbroker's own entries are touched, not everything under the folder: FEDBROKER_DATA_DIR
 * may name a folder that holds other things.
 */
export function keepLocalDataPrivate(dataDir: string): void {
  process.umask(0o077);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  chmodSync(dataDir, 0o700);
  for (const entry of readdirSync(dataDir)) {
    if (entry === DYNAMODB_DIR || entry === AUDIT_DIR || KEY_FILE.test(entry)) tighten(join(dataDir, entry));
  }
}

/** chmod 0700 for folders and 0600 for files, all the way down; symbolic links are not followed. */
function tighten(path: string): void {
  const stat = lstatSync(path);
  if (stat.isSymbolicLink()) return;
  if (stat.isDirectory()) {
    chmodSync(path, 0o700);
    for (const entry of readdirSync(path)) tighten(join(path, entry));
  } else {
    chmodSync(path, 0o600);
  }
}
