import type { Command } from 'commander';
import { redact } from '../../../lib/redact.ts';
import { storedTokenFor } from '../../context.ts';
import { durationOption } from '../../duration.ts';
import { toCliError } from '../../errors.ts';
import { executableFailure, executableSuccess } from '../../outputs/google.ts';
import { issueIdTokenFor } from '../../outputs/id-token.ts';
import { writePrivateFile } from '../../private-file.ts';

interface ExecutableOptions {
  audience: string;
  duration?: number;
}

/**
 * `gcp executable`: what an executable-sourced credential configuration runs. Google's client
 * libraries read stdout AND stderr as the response, so on success nothing but the JSON is
 * printed; on failure the JSON failure (code, message) goes to stdout and the CLI exits 1 with its
 * one-line error, which the library reports as the executable's output. When the library names an
 * output file (GOOGLE_EXTERNAL_ACCOUNT_OUTPUT_FILE, from `output_file`), the response is cached
 * there (0600), as the executable contract asks.
 */
async function executable(opts: ExecutableOptions, cmd: Command): Promise<void> {
  try {
    const id = await issueIdTokenFor(await storedTokenFor(cmd), opts.audience, opts.duration);
    const response = executableSuccess(id.token, id.expiresAt);
    const cache = process.env.GOOGLE_EXTERNAL_ACCOUNT_OUTPUT_FILE;
    if (cache) await writePrivateFile(cache, response);
    process.stdout.write(response);
  } catch (e) {
    const failure = toCliError(e);
    process.stdout.write(executableFailure(failure.error, redact(failure.message)));
    throw failure;
  }
}

export function registerExecutable(gcp: Command): void {
  gcp
    .command('executable')
    .description("print an ID token as Google's executable-sourced credential response (run by Google's client libraries)")
    .requiredOption('--audience <audience>', "the ID token's aud (the provider's allowed audience)")
    .option('--duration <duration>', "the ID token's lifetime, e.g. 15m (default: the broker's)", durationOption)
    .action(executable);
}
