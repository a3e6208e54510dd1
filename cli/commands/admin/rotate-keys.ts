import type { Command } from 'commander';
import { CliError } from '../../errors.ts';
import { tableOption } from '../../options.ts';
import { notice, outputOption } from '../../output.ts';
import { ACTOR, ENVIRONMENT_HELP, type KeyOptions, withRotation } from './rotation.ts';

async function rotateKeysCommand(opts: KeyOptions & { force?: boolean }): Promise<void> {
  const { rotateKeys } = await import('../../../lib/keys/rotation.ts');
  const report = await withRotation(opts, (deps) => rotateKeys(deps, { actor: ACTOR, manual: true, force: opts.force === true }));
  // Publishing the next key and waiting out its pre-publication window is the normal first half of a
  // rotation (RFC 7517 verifiers cache the JWKS), so it exits 0 and says when to run again.
  if (report.readyAt !== undefined) {
    notice(`${report.skipped}; run rotate-keys again from then`);
    return;
  }
  // Asked for by hand, a rotation that activated nothing for another reason (lease held elsewhere, JWKS full) failed.
  if (report.skipped) throw new CliError('conflict', `no key was activated: ${report.skipped}`);
}

/** `fedbroker admin rotate-keys`: the signing key lifecycle, by an operator. */
export function registerRotateKeys(admin: Command): void {
  admin
    .command('rotate-keys')
    .description(
      'rotate the signing key now: publish a next key, and activate it once it has been published for the pre-publication window',
    )
    .option('--force', 'activate the next key without waiting for pre-publication (emergencies; logged and audited)')
    .addOption(tableOption())
    .addOption(outputOption(['plain', 'json'], 'plain'))
    .addHelpText('after', ENVIRONMENT_HELP)
    .action(rotateKeysCommand);
}
