import { type Command, InvalidArgumentError } from 'commander';
import { tableOption } from '../../options.ts';
import { outputOption } from '../../output.ts';
import { ACTOR, ENVIRONMENT_HELP, type KeyOptions, withRotation } from './rotation.ts';

function kidArgument(text: string): string {
  if (!/^[\w-]{1,128}$/.test(text)) throw new InvalidArgumentError('a key id (kid) is base64url text, as in the JWKS');
  return text;
}

async function revokeKeyCommand(kid: string, opts: KeyOptions): Promise<void> {
  const { revokeKey } = await import('../../../lib/keys/rotation.ts');
  await withRotation(opts, (deps) => revokeKey(deps, kid, ACTOR));
}

/** `fedbroker admin revoke-key`: an emergency, by an operator. */
export function registerRevokeKey(admin: Command): void {
  admin
    .command('revoke-key')
    .description('emergency: take a signing key out of the JWKS now and destroy it; revoking the active key activates the next one')
    .argument('<kid>', 'the key id, as in the JWKS', kidArgument)
    .addOption(tableOption())
    .addOption(outputOption(['plain', 'json'], 'plain'))
    .addHelpText('after', ENVIRONMENT_HELP)
    .action(revokeKeyCommand);
}
