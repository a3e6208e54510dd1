import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { JsonBody } from './json-body.ts';

export type Template = { Resources: Record<string, { Type: string; Properties: JsonBody; DependsOn?: string[] }> };

let built: Template | undefined;

/**
 * The CloudFormation template `serverless package --stage ci` builds, offline (fake credentials),
 * from a copy of the project: built once per test file, shared by its suites.
 */
export function packagedTemplate(): Template {
  if (built) return built;
  const dir = mkdtempSync(join(tmpdir(), 'fedbroker-pkg-'));
  for (const f of ['serverless.yml', 'package.json', 'tsconfig.json', 'functions', 'lib', 'scripts'])
    cpSync(f, join(dir, f), { recursive: true });
  symlinkSync(resolve('node_modules'), join(dir, 'node_modules'));
  const out = spawnSync(process.execPath, [resolve('node_modules/serverless/bin/serverless.js'), 'package', '--stage', 'ci'], {
    cwd: dir,
    // Nothing of the developer's shell reaches the template: only what serverless.yml defaults to.
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      AWS_ACCESS_KEY_ID: 'AKIAFAKEFAKEFAKE',
      AWS_SECRET_ACCESS_KEY: 'fake',
      SLS_TELEMETRY_DISABLED: '1',
      SLS_NOTIFICATIONS_MODE: 'off',
    },
    encoding: 'utf8',
    timeout: 120_000,
  });
  const file = join(dir, '.serverless/cloudformation-template-update-stack.json');
  if (!existsSync(file)) throw new Error(`package failed:\n${out.stdout}\n${out.stderr}`);
  built = JSON.parse(readFileSync(file, 'utf8')) as Template;
  return built;
}

/** The template's resources of one type, as [logical id, resource] pairs. */
export const resourcesOf = (template: Template, type: string) => Object.entries(template.Resources).filter(([, r]) => r.Type === type);
