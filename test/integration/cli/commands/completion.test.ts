import { execFileSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { builtCli, cliRunner, type RunCli, tempFile } from '../../../support/cli.ts';

let cli: RunCli;
beforeAll(async () => {
  await builtCli();
  cli = cliRunner({});
});

/** What bash offers after `words` (the last one being completed), with the script loaded as a user would. */
function bashOffers(script: string, words: string[]): string[] {
  const file = tempFile('fedbroker.bash', script);
  const typed = words.map((w) => `'${w}'`).join(' ');
  const program = `source ${file}; COMP_WORDS=(${typed}); COMP_CWORD=${words.length - 1}; _fedbroker; printf '%s\\n' "\${COMPREPLY[@]}"`;
  return execFileSync('bash', ['-c', program], { encoding: 'utf8' }).split('\n').filter(Boolean);
}

describe('fedbroker completion', () => {
  it('completes commands, subcommands and options in bash, from the command tree', async () => {
    const res = await cli(['completion', 'bash']);
    expect(res).toMatchObject({ code: 0, stderr: '' });
    expect(bashOffers(res.stdout, ['fedbroker', ''])).toEqual([
      'auth',
      'aws',
      'azure',
      'gcp',
      'admin',
      'completion',
      '--version',
      '--endpoint',
      '--insecure',
      '--help',
    ]);
    expect(bashOffers(res.stdout, ['fedbroker', 'auth', 'trust-relationships', 'r'])).toEqual(['remove']);
    expect(bashOffers(res.stdout, ['fedbroker', 'aws', 'credential-process', '--role-arn', 'arn:x', '--n'])).toEqual(['--no-cache']);
    expect(bashOffers(res.stdout, ['fedbroker', 'completion', ''])).toEqual(['bash', 'zsh', 'fish', '--help']);
  });

  it('prints zsh and fish scripts over the same table', async () => {
    const zsh = await cli(['completion', 'zsh']);
    expect(zsh.stdout).toMatch(/^#compdef fedbroker\n/);
    expect(zsh.stdout).toContain("'auth trust-relationships') echo 'list get add update remove explain --help' ;;");
    const fish = await cli(['completion', 'fish']);
    expect(fish.stdout).toContain("complete -c fedbroker -f -a '(__fedbroker_complete)'");
    expect(fish.stdout).toContain("case 'auth trust-relationships'\n            echo 'list get add update remove explain --help'");
  });

  it('refuses another shell with exit 2', async () => {
    const res = await cli(['completion', 'tcsh']);
    expect(res).toMatchObject({ code: 2, stdout: '' });
    expect(res.stderr).toMatch(/^fedbroker: usage_error: .*'tcsh' is invalid.*bash, zsh, fish/);
  });
});
