import './quiet-logs.ts';
import { Command, CommanderError, Option } from 'commander';
import { redact } from '../lib/redact.ts';
import { registerAdmin } from './commands/admin/index.ts';
import { registerAuth } from './commands/auth/index.ts';
import { registerAws } from './commands/aws/index.ts';
import { registerAzure } from './commands/azure/index.ts';
import { registerCompletion } from './commands/completion.ts';
import { registerGcp } from './commands/gcp/index.ts';
import { DEFAULT_ENDPOINT } from './context.ts';
import { CliError, toCliError } from './errors.ts';

/** Baked in by scripts/build-cli.ts (esbuild `define`); absent when the sources run unbundled. */
declare const FEDBROKER_BUILD: { version: string; commit?: string; builtAt: string } | undefined;

/** `fedbroker --version`: the package version, then the build — its commit and when it was built. */
export function versionText(): string {
  const build = typeof FEDBROKER_BUILD === 'undefined' ? undefined : FEDBROKER_BUILD;
  if (!build) return 'unbundled (run from the sources)';
  return `${build.version} (commit ${build.commit ?? 'unknown'}, built ${build.builtAt}; node ${process.version})`;
}

/** Builds the `fedbroker` program: global options, then the `auth`, `aws` and `admin` command trees. */
export function buildProgram(): Command {
  const program = new Command('fedbroker')
    .description('command-line client of fedbroker, the OIDC workload identity federation broker')
    .version(versionText(), '-V, --version', 'print the version and the build')
    // Settings first: subcommands copy them when they are created.
    .exitOverride()
    .configureOutput({ outputError: () => {} })
    .showSuggestionAfterError(true)
    .addOption(new Option('--endpoint <url>', 'broker endpoint').env('FEDBROKER_ENDPOINT').default(DEFAULT_ENDPOINT))
    .addOption(new Option('--insecure', 'allow a plain-http endpoint that is not localhost (tokens then cross the network unencrypted)'));
  registerAuth(program);
  registerAws(program);
  registerAzure(program);
  registerGcp(program);
  registerAdmin(program);
  registerCompletion(program);
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
