import type { Command } from 'commander';
import { registerCredentialConfig } from './credential-config.ts';
import { registerExecutable } from './executable.ts';

/** `fedbroker gcp …`: credentials for Google Cloud client libraries (Workload Identity Federation). */
export function registerGcp(program: Command): void {
  const gcp = program
    .command('gcp')
    .description('sign Google Cloud client libraries in with fedbroker ID tokens (Workload Identity Federation)');
  registerCredentialConfig(gcp);
  registerExecutable(gcp);
}
