import type { Command } from 'commander';
import { TOKEN_TYPE } from '../../../lib/tokens/types.ts';
import { storedTokenFor } from '../../context.ts';
import { exchangeToken } from '../../http.ts';
import { durationFlag } from '../../options.ts';
import { writePrivateFile } from '../../private-file.ts';
import { decodeUnverified, type OutputFormat, outputOption, printJson, printLine } from '../../output.ts';

interface IssueOptions {
  audience: string;
  duration?: number;
  output: OutputFormat;
  decode?: boolean;
  outFile?: string;
}

async function issueIdToken(opts: IssueOptions, cmd: Command): Promise<void> {
  const stored = await storedTokenFor(cmd);
  const response = await exchangeToken(stored.endpoint, {
    subject_token: stored.access_token,
    subject_token_type: TOKEN_TYPE.accessToken,
    requested_token_type: TOKEN_TYPE.idToken,
    audience: opts.audience,
    duration_seconds: opts.duration?.toString(),
  });
  // A file gets the bare token: verifiers reading a token file (AWS SDK web identity, Azure,
  // Google executable configs) refuse a trailing newline.
  if (opts.outFile !== undefined) await writePrivateFile(opts.outFile, response.access_token);
  else if (opts.decode) printJson(decodeUnverified(response.access_token));
  else if (opts.output === 'json') printJson(response);
  else printLine(response.access_token);
}

/** `fedbroker auth issue-id-token`: an ID token for any audience, with the stored access token. */
export function registerIssueIdToken(auth: Command): void {
  auth
    .command('issue-id-token')
    .description('issue an OIDC ID token for an audience (e.g. sts.amazonaws.com) with the stored access token')
    .requiredOption('--audience <audience>', 'the aud of the ID token')
    .addOption(durationFlag())
    .addOption(outputOption(['plain', 'json'], 'plain'))
    .option('--out-file <path>', 'write the bare token (no newline) to this file, mode 0600, atomically; nothing is printed')
    .option('--decode', 'print the decoded header and payload instead of the token (the signature is not shown)')
    .action(issueIdToken);
}
