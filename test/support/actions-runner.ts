// Runs the action's bundle as the GitHub runner runs a JavaScript action ("Metadata syntax",
// runs.using node24; "Workflow commands"): a Node process with the inputs as INPUT_<NAME>, and
// GITHUB_ENV, GITHUB_OUTPUT, GITHUB_STATE, RUNNER_TEMP and GITHUB_WORKSPACE pointing at fresh
// files and directories; the post step gets the saved state back as STATE_<name>.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ActionRun {
  code: number;
  stdout: string;
  stderr: string;
  /** What the step appended to GITHUB_ENV / GITHUB_OUTPUT / GITHUB_STATE. */
  env: Record<string, string>;
  outputs: Record<string, string>;
  state: Record<string, string>;
  /** Values the step masked with ::add-mask::. */
  masks: string[];
  /** `::error::` lines, decoded. */
  errors: string[];
  runnerTemp: string;
  workspace: string;
}

/** Parses a runner command file: `NAME<<DELIM\nvalue\nDELIM` blocks and plain `NAME=value` lines. */
export function parseCommandFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc?.[1] && heredoc[2]) {
      const end = lines.indexOf(heredoc[2], i + 1);
      if (end < 0) throw new Error(`unterminated ${heredoc[1]} in command file`);
      out[heredoc[1]] = lines.slice(i + 1, end).join('\n');
      i = end;
    } else if (line.includes('=')) {
      out[line.slice(0, line.indexOf('='))] = line.slice(line.indexOf('=') + 1);
    }
  }
  return out;
}

const decode = (s: string) => s.replace(/%0A/g, '\n').replace(/%0D/g, '\r').replace(/%25/g, '%');

/** Runs `bundle` as the main step (or, with `state`, as the post step) of a job. */
export async function runAction(
  bundle: string,
  inputs: Record<string, string>,
  env: Record<string, string>,
  options: { state?: Record<string, string>; runnerTemp?: string } = {},
): Promise<ActionRun> {
  const root = mkdtempSync(join(tmpdir(), 'gha-'));
  const runnerTemp = options.runnerTemp ?? join(root, 'runner-temp');
  const workspace = join(root, 'workspace');
  mkdirSync(runnerTemp, { recursive: true });
  mkdirSync(workspace);
  const files = { GITHUB_ENV: join(root, 'env'), GITHUB_OUTPUT: join(root, 'output'), GITHUB_STATE: join(root, 'state') };
  for (const f of Object.values(files)) writeFileSync(f, '');
  const inputVars = Object.fromEntries(Object.entries(inputs).map(([k, v]) => [`INPUT_${k.replace(/ /g, '_').toUpperCase()}`, v]));
  const stateVars = Object.fromEntries(Object.entries(options.state ?? {}).map(([k, v]) => [`STATE_${k}`, v]));
  const result = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      [bundle],
      {
        cwd: workspace,
        env: {
          PATH: process.env.PATH ?? '',
          HOME: root,
          GITHUB_ACTIONS: 'true',
          GITHUB_WORKSPACE: workspace,
          RUNNER_TEMP: runnerTemp,
          ...files,
          ...inputVars,
          ...stateVars,
          ...env,
        },
        encoding: 'utf8',
        timeout: 60_000,
      },
      (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr }),
    );
  });
  const read = (f: string) => parseCommandFile(readFileSync(f, 'utf8'));
  return {
    ...result,
    env: read(files.GITHUB_ENV),
    outputs: read(files.GITHUB_OUTPUT),
    state: read(files.GITHUB_STATE),
    masks: [...result.stdout.matchAll(/^::add-mask::(.*)$/gm)].map((m) => decode(m[1] ?? '')),
    errors: [...result.stdout.matchAll(/^::error::(.*)$/gm)].map((m) => decode(m[1] ?? '')),
    runnerTemp,
    workspace,
  };
}
