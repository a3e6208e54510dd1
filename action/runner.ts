// The runner's documented interface for JavaScript actions, without @actions/core (the bundle has
// no dependencies): inputs arrive as INPUT_<NAME> variables; masks, errors and groups are workflow
// commands on stdout; environment variables, outputs and state are appended to the files named by
// GITHUB_ENV, GITHUB_OUTPUT and GITHUB_STATE ("Workflow commands for GitHub Actions").
import { randomUUID } from 'node:crypto';
import { appendFileSync } from 'node:fs';

/** `INPUT_ROLE-TO-ASSUME` for `role-to-assume`: the runner upper-cases the name and turns spaces into `_`. */
export function getInput(name: string): string {
  return (process.env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] ?? '').trim();
}

export function getBooleanInput(name: string): boolean {
  const value = getInput(name).toLowerCase();
  if (value === '' || value === 'false') return false;
  if (value === 'true') return true;
  throw new ActionError('usage_error', `input ${name} must be true or false`);
}

/** A failure the action reports as one `::error::` line (never with a stack or a token). */
export class ActionError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'ActionError';
    this.code = code;
  }
}

/** Workflow-command escaping of a message (`%`, CR, LF), as the runner decodes it. */
const escapeData = (s: string) => s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');

/** From now on the runner prints `***` wherever `secret` appears in the log; every line of a multi-line value is masked. */
export function mask(secret: string): void {
  for (const line of secret.split('\n')) if (line.trim()) process.stdout.write(`::add-mask::${escapeData(line)}\n`);
}

export function info(line: string): void {
  process.stdout.write(`${line}\n`);
}

export function error(message: string): void {
  process.stdout.write(`::error::${escapeData(message)}\n`);
}

/**
 * `name<<delimiter` … `delimiter`: the form that is safe for any value, with a random delimiter
 * so a value cannot end the block early and inject another variable.
 */
function appendCommandFile(variable: 'GITHUB_ENV' | 'GITHUB_OUTPUT' | 'GITHUB_STATE', name: string, value: string): void {
  const file = process.env[variable];
  if (!file) throw new ActionError('runner_error', `${variable} is not set: run this as a GitHub Actions step`);
  const delimiter = `ghadelimiter_${randomUUID()}`;
  if (name.includes(delimiter) || value.includes(delimiter)) throw new ActionError('runner_error', 'unexpected delimiter in a value');
  appendFileSync(file, `${name}<<${delimiter}\n${value}\n${delimiter}\n`, { encoding: 'utf8' });
}

/** Sets `name` for the following steps of the job (and for this process). */
export function exportVariable(name: string, value: string): void {
  process.env[name] = value;
  appendCommandFile('GITHUB_ENV', name, value);
}

export function setOutput(name: string, value: string): void {
  appendCommandFile('GITHUB_OUTPUT', name, value);
}

/** Saved for the post step, which reads it back as STATE_<name>. */
export function saveState(name: string, value: string): void {
  appendCommandFile('GITHUB_STATE', name, value);
}

export const getState = (name: string) => process.env[`STATE_${name}`] ?? '';
