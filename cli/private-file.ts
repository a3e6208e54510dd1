import { randomBytes } from 'node:crypto';
import { chmod, lstat, mkdir, open, readFile, readlink, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { CliError } from './errors.ts';

/**
 * Writes a file holding credentials so that no reader ever sees it half-written and no other user
 * can read it: a 0600 temp file in the same directory (so the rename is atomic), fsync, rename
 * over the target, fsync of the directory. A symlink is written through (see {@link destination}).
 * A missing directory is created 0700. Programs that
 * re-read the file (the AWS SDKs re-read AWS_WEB_IDENTITY_TOKEN_FILE on every refresh) see the
 * old content or the new one, never an empty file.
 */
export async function writePrivateFile(path: string, content: string): Promise<void> {
  const { target, mode } = await destination(path);
  const dir = dirname(target);
  const temp = join(dir, `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const file = await open(temp, 'wx', 0o600);
    try {
      await file.writeFile(content);
      await file.sync();
    } finally {
      await file.close();
    }
    // The umask cannot widen 0600, but be explicit: the rename keeps the temp file's mode.
    await chmod(temp, mode);
    await rename(temp, target);
  } catch (e) {
    await rm(temp, { force: true });
    throw new CliError('file_error', `cannot write ${path}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  await syncDirectory(dir);
}

/** Permission bits 0600 allows: a mode with any other bit is looser. */
const PRIVATE = 0o600;

/**
 * Where a write to `path` lands, and with which mode. A symlink is followed (to its final target,
 * even a dangling one), so that a credentials file kept elsewhere and linked into place stays
 * linked: replacing the link with a file would silently fork it. The target keeps its own mode
 * when that is as strict as 0600 or stricter (a 0400 file stays read-only); anything looser, or a
 * new file, gets 0600.
 */
async function destination(path: string): Promise<{ target: string; mode: number }> {
  let target = resolve(path);
  for (let hops = 0; ; hops++) {
    // As the kernel does (40 on Linux): a longer chain is a loop, and replacing a link in it would break it.
    if (hops === 40) throw new CliError('file_error', `cannot write ${path}: ELOOP`);
    let link: string;
    try {
      if (!(await lstat(target)).isSymbolicLink()) break;
      link = await readlink(target);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') break;
      throw new CliError('file_error', `cannot write ${path}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
    }
    target = resolve(dirname(target), link);
  }
  try {
    const current = (await stat(target)).mode & 0o777;
    return { target, mode: (current & ~PRIVATE) === 0 ? current : PRIVATE };
  } catch {
    return { target, mode: PRIVATE };
  }
}

/** The file's text, or undefined when it does not exist. */
export async function readOptionalFile(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CliError('file_error', `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}

async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Some platforms (Windows) cannot fsync a directory; the rename itself has still happened.
  }
}
