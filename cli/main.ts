import './quiet-logs.ts';
import { Command, CommanderError, Option } from 'commander';
import pkg from '../package.json' with { type: 'json' };
import { redact } from '../lib/redact.ts';
import { registerAdmin } from './commands/admin.ts';
import { registerAuth } from './commands/auth.ts';
import { registerAws } from './commands/aws.ts';
import { registerAzure } from './commands/azure/index.ts';
import { registerGcp } from './commands/gcp/index.ts';
import { DEFAULT_ENDPOINT } from './context.ts';
import { CliError, toCliError } from './errors.ts';

/** Builds the `fedbroker` program: global options, then the `auth`, `aws` and `admin` command trees. */
export function buildProgram(): Command {
  const program = new Command('fedbroker')
    .description('command-line client of fedbroker, the OIDC workload identity federation broker')
    .version(pkg.version)
    // Settings first: subcommands copy them when they are created.
    .exitOverride()
    .configureOutput({ outputError: () => {} })
    .showSuggestionAfterError(true)
    .addOption(new Option('--endpoint <url>', 'broker endpoint').env('FEDBROKER_ENDPOINT').default(DEFAULT_ENDPOINT));
  registerAuth(program);
  registerAws(program);
  registerAzure(program);
  registerGcp(program);
  registerAdmin(program);
  return program;
}

/** Commander's own refusals are usage errors (exit 2); help and --version exit 0 as they are. */
function fromCommander(e: CommanderError): CliError | number {
  if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help')
    return e.exitCode === 0 ? 0 : 2;
  const description = e.message.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ');
  return new CliError('usage_error', `${description} (see --help)`, 2);
}

/**
 * Runs the CLI and returns the exit code: 0 ok, 1 failure, 2 usage error. Failures are reported
 * as one line `fedbroker: <error>: <description>` on stderr, never with a stack or a token.
 */
export async function run(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return 0;
  } catch (e) {
    const failure = e instanceof CommanderError ? fromCommander(e) : toCliError(e);
    if (typeof failure === 'number') return failure;
    process.stderr.write(`fedbroker: ${failure.error}: ${redact(failure.message).replace(/\s*\n\s*/g, ' ')}\n`);
    return failure.exitCode;
  }
}

// exitCode rather than process.exit(): output still buffered for a pipe is written out first.
process.exitCode = await run(process.argv);
