import type { Command } from 'commander';
import { registerFederatedToken } from './federated-token.ts';

/** `fedbroker azure …`: credentials for Azure SDKs (workload identity federation with Entra ID). */
export function registerAzure(program: Command): void {
  const azure = program.command('azure').description('sign Azure SDKs in with fedbroker ID tokens (Entra workload identity federation)');
  registerFederatedToken(azure);
}
