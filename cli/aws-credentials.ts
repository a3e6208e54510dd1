import { createHash } from 'node:crypto';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { InvalidArgumentError } from 'commander';
import { CliError } from './errors.ts';
import { readOptionalFile, writePrivateFile } from './private-file.ts';

/** Temporary AWS credentials, from STS or Cognito. */
export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
}

/** Checks an SDK answer for the four fields, so a malformed answer is one clear failure. */
export function completeCredentials(
  c: { AccessKeyId?: string; SecretAccessKey?: string; SecretKey?: string; SessionToken?: string; Expiration?: Date },
  from: string,
): AwsCredentials {
  const secretAccessKey = c.SecretAccessKey ?? c.SecretKey;
  if (!c.AccessKeyId || !secretAccessKey || !c.SessionToken || !(c.Expiration instanceof Date)) {
    throw new CliError('invalid_response', `${from} answered without complete credentials`);
  }
  return { accessKeyId: c.AccessKeyId, secretAccessKey, sessionToken: c.SessionToken, expiration: c.Expiration };
}

/** ISO 8601 without milliseconds, as AWS writes it. */
export const isoSeconds = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Quotes a value for POSIX shells only when it needs it (credentials are base64 and never do). */
export function shellQuote(value: string): string {
  return /^[\w./+=:@%,-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/** `export NAME=value` lines for `eval "$(…)"` or `. file`. */
export function exportLines(vars: [string, string][]): string {
  return vars.map(([k, v]) => `export ${k}=${shellQuote(v)}\n`).join('');
}

/** The variables every AWS SDK and the AWS CLI read (AWS_CREDENTIAL_EXPIRATION tells them when to stop). */
export function credentialExports(c: AwsCredentials): string {
  return exportLines([
    ['AWS_ACCESS_KEY_ID', c.accessKeyId],
    ['AWS_SECRET_ACCESS_KEY', c.secretAccessKey],
    ['AWS_SESSION_TOKEN', c.sessionToken],
    ['AWS_CREDENTIAL_EXPIRATION', isoSeconds(c.expiration)],
  ]);
}

/** Exactly what `credential_process` must print (AWS CLI and SDKs: "Sourcing credentials with an external process"). */
export function credentialProcessJson(c: AwsCredentials): string {
  const out = {
    Version: 1,
    AccessKeyId: c.accessKeyId,
    SecretAccessKey: c.secretAccessKey,
    SessionToken: c.sessionToken,
    Expiration: isoSeconds(c.expiration),
  };
  return `${JSON.stringify(out)}\n`;
}

/** `--write-env F`: the export lines in a 0600 file, replaced atomically. */
export async function writeEnvFile(path: string, content: string): Promise<void> {
  await writePrivateFile(path, content);
}

/**
 * RoleSessionName: 2-64 characters of `[\w+=,.@-]`
 * (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRoleWithWebIdentity.html).
 */
const SESSION_CHARS = /[^\w+=,.@-]+/g;
const MAX_SESSION_NAME = 64;
/** 16 hex digits (64 bits) of SHA-256: finding a second principal with a given name costs ~2^64 hashes. */
const SESSION_HASH_HEX = 16;

export function sessionNameArgument(text: string): string {
  if (!/^[\w+=,.@-]{2,64}$/.test(text)) throw new InvalidArgumentError('a session name is 2-64 of letters, digits and + = , . @ - _');
  return text;
}

/**
 * `fedbroker.<tenant>.<principal>.<hash>`: the principal is the stored token's sub without its
 * tenant prefix, with every run of characters STS refuses replaced by '-' and cut to fit; the
 * hash is of the exact tenant and sub. CloudTrail shows the session name and IAM policies can
 * match it (`aws:userid`, the assumed-role ARN), so it names who it was and two principals never
 * share one: `ci/app`, `ci:app` and `ci-app` all read `ci-app`, and only the hash tells them apart.
 * The hash is always there, not only when cleaning or cutting changed something: were it
 * conditional, a principal spelled literally `ci-app.<hash of ci/app>` (all allowed characters,
 * so kept as is) would get the name of `ci/app` — the hash is public arithmetic.
 */
export function defaultSessionName(tenant: string, sub: string): string {
  const principal = sub.startsWith(`${tenant}/`) ? sub.slice(tenant.length + 1) : sub;
  const cleaned = principal.replace(SESSION_CHARS, '-').replace(/^-+|-+$/g, '') || 'principal';
  // Both parts, unambiguously: `acme` + `acme/x` and `acme` + `x` are different stored tokens.
  const hash = createHash('sha256')
    .update(JSON.stringify([tenant, sub]))
    .digest('hex')
    .slice(0, SESSION_HASH_HEX);
  const readable = `fedbroker.${tenant}.${cleaned}`.slice(0, MAX_SESSION_NAME - SESSION_HASH_HEX - 1).replace(/[-.]+$/, '');
  return `${readable}.${hash}`;
}

/** `AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/credentials` (as the SDKs resolve it). */
export function sharedCredentialsPath(env: NodeJS.ProcessEnv = process.env): string {
  const file = env.AWS_SHARED_CREDENTIALS_FILE;
  if (file) return isAbsolute(file) ? file : join(process.cwd(), file);
  return join(homedir(), '.aws', 'credentials');
}

export function profileArgument(text: string): string {
  // What the SDKs' INI parser reads back as a plain section name; __proto__ it refuses.
  if (!/^[\w.@+-]{1,128}$/.test(text) || text === '__proto__')
    throw new InvalidArgumentError('a profile name is 1-128 of letters, digits and . @ + - _');
  return text;
}

/** Keys this command owns in a profile; every other line of the file is kept as it was. */
const OWNED = new Set(['aws_access_key_id', 'aws_secret_access_key', 'aws_session_token', 'aws_security_token']);
const MARK = '# fedbroker:';

const sectionOf = (line: string) => /^\s*\[([^\]]*)\]\s*(?:[#;].*)?$/.exec(line)?.[1]?.trim();
const keyOf = (line: string) => /^\s*([^=\s]+)\s*=/.exec(line)?.[1]?.toLowerCase();

/**
 * The shared credentials file with `[profile]` holding these credentials. The profile's other
 * settings and every other profile are kept; credentials in a repeated `[profile]` section are
 * dropped too, since the SDKs would let a later section override the first.
 */
export function withProfile(text: string | undefined, profile: string, c: AwsCredentials): string {
  const lines = text ? text.replace(/\r?\n$/, '').split(/\r?\n/) : [];
  const entries = [
    `${MARK} expires ${isoSeconds(c.expiration)}`,
    `aws_access_key_id = ${c.accessKeyId}`,
    `aws_secret_access_key = ${c.secretAccessKey}`,
    `aws_session_token = ${c.sessionToken}`,
  ];
  const out: string[] = [];
  let current: string | undefined;
  let written = false;
  for (const line of lines) {
    const section = sectionOf(line);
    if (section !== undefined) current = section;
    if (current === profile && section === undefined && (OWNED.has(keyOf(line) ?? '') || line.trimStart().startsWith(MARK))) continue;
    out.push(line);
    if (section === profile && !written) {
      out.push(...entries);
      written = true;
    }
  }
  if (!written) {
    if (out.length && out[out.length - 1]?.trim() !== '') out.push('');
    out.push(`[${profile}]`, ...entries);
  }
  return `${out.join('\n')}\n`;
}

/** Writes `profile` into the shared credentials file (0600, atomic); returns the file's path. */
export async function writeProfile(profile: string, c: AwsCredentials, path = sharedCredentialsPath()): Promise<string> {
  await writePrivateFile(path, withProfile(await readOptionalFile(path), profile, c));
  return path;
}
