import type { Command } from 'commander';
import { registerAssumeRole } from './assume-role.ts';
import { registerCognitoCredentials } from './cognito-credentials.ts';
import { registerCredentialProcess } from './credential-process.ts';
import { registerServe } from './serve.ts';
import { registerWebIdentity } from './web-identity.ts';

/** `fedbroker aws …`: AWS credentials from the stored fedbroker access token. */
export function registerAws(program: Command): void {
  const aws = program
    .command('aws')
    .description('get AWS credentials with the stored access token (STS web identity, Cognito identity pools)');
  registerAssumeRole(aws);
  registerCredentialProcess(aws);
  registerWebIdentity(aws);
  registerServe(aws);
  registerCognitoCredentials(aws);
}
