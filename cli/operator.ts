import { resolve } from 'node:path';
import { envSchema } from '../lib/config.ts';
import { readEnv } from '../lib/env-schema.ts';
import { type LocalRun, readLocalRun } from '../lib/local/run-file.ts';
import { usageError } from './errors.ts';
import { notice } from './output.ts';

/**
 * The record `npm start` keeps while it runs, looked up in the data folder the configuration
 * names (FEDBROKER_DATA_DIR, with the config's own default), relative to the working directory as
 * the local run resolves it. Undefined when no local run is up there.
 */
export function localRun(env: NodeJS.ProcessEnv = process.env): LocalRun | undefined {
  const { values } = readEnv({ FEDBROKER_DATA_DIR: envSchema.FEDBROKER_DATA_DIR }, env);
  return values ? readLocalRun(resolve(values.FEDBROKER_DATA_DIR)) : undefined;
}

/**
 * The deployment environment operator commands run against, to be read by lib/config.ts like the
 * broker reads its own: the process environment with `--table` (or FEDBROKER_TABLE) — or, when no
 * table is named, the running local run's variables, so `fedbroker admin …` works against `npm
 * start` with nothing set by hand. The local run's variables also go into process.env, where the
 * AWS SDK reads its DynamoDB endpoint and (placeholder) credentials.
 */
export function operatorEnvironment(table: string | undefined): NodeJS.ProcessEnv {
  // A named table is a deployment's (or a test's): its audit records go to that table, never to
  // local files, whatever the shell says; the file copy belongs to a local run and is chosen only
  // from that run's own variables below.
  if (table) return { ...process.env, FEDBROKER_TABLE: table, FEDBROKER_AUDIT_TABLE_WRITE: 'subscription' };
  const run = localRun();
  if (!run) throw usageError('name the DynamoDB table with --table or FEDBROKER_TABLE');
  Object.assign(process.env, run.environment);
  notice(`using the local run at ${run.endpoint} (table ${run.environment.FEDBROKER_TABLE}; no FEDBROKER_TABLE set)`);
  return { ...process.env };
}
