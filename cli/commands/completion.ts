import { Argument, type Command } from 'commander';

/**
 * `fedbroker completion bash|zsh|fish`: a completion script generated from the command tree
 * itself, so it can never list a command or option the CLI does not have. Each script holds one
 * table, "command path → words" (subcommands and long options), and walks the words typed so far
 * through it; option values are skipped because they never name a subcommand.
 */

/** Every command path (space-separated, the root is '') with the words that may follow it. */
export function completionTable(program: Command): [string, string[]][] {
  const rows: [string, string[]][] = [];
  const visit = (cmd: Command, path: string) => {
    const words = [
      ...cmd.commands.map((c) => c.name()),
      ...cmd.options.filter((o) => !o.hidden && o.long).map((o) => o.long as string),
      ...(cmd.registeredArguments.flatMap((a) => a.argChoices ?? []) as string[]),
      '--help',
    ];
    rows.push([path, [...new Set(words)]]);
    for (const c of cmd.commands) visit(c, path ? `${path} ${c.name()}` : c.name());
  };
  visit(program, '');
  return rows;
}

/** A POSIX `case` over the table (bash and zsh both run it): prints the words after path "$1". */
function wordsFunction(program: Command): string {
  const cases = completionTable(program).map(([path, words]) => `    '${path}') echo '${words.join(' ')}' ;;`);
  return ['_fedbroker_words() {', '  case "$1" in', ...cases, '  esac', '}'].join('\n');
}

function bash(program: Command): string {
  return `# fedbroker completion for bash. Load it with:  eval "$(fedbroker completion bash)"
# or save it:  fedbroker completion bash > ~/.local/share/bash-completion/completions/fedbroker
${wordsFunction(program)}
_fedbroker() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" cmdpath="" w i
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    [[ "$w" == -* ]] && continue
    case " $(_fedbroker_words "$cmdpath") " in *" $w "*) cmdpath="\${cmdpath:+$cmdpath }$w" ;; esac
  done
  COMPREPLY=($(compgen -W "$(_fedbroker_words "$cmdpath")" -- "$cur"))
}
complete -o default -F _fedbroker fedbroker
`;
}

function zsh(program: Command): string {
  return `#compdef fedbroker
# fedbroker completion for zsh. Load it with:  source <(fedbroker completion zsh)
# or save it as _fedbroker in a directory of your $fpath.
${wordsFunction(program)}
_fedbroker() {
  local cmdpath="" w
  local -a next
  for w in \${words[2,CURRENT-1]}; do
    [[ $w == -* ]] && continue
    next=(\${=$(_fedbroker_words "$cmdpath")})
    (( \${next[(Ie)$w]} )) && cmdpath="\${cmdpath:+$cmdpath }$w"
  done
  next=(\${=$(_fedbroker_words "$cmdpath")})
  compadd -- $next
}
if (( $+functions[compdef] )); then compdef _fedbroker fedbroker; fi
`;
}

function fish(program: Command): string {
  const cases = completionTable(program).map(([path, words]) => `        case '${path}'\n            echo '${words.join(' ')}'`);
  return `# fedbroker completion for fish. Load it with:  fedbroker completion fish | source
# or save it:  fedbroker completion fish > ~/.config/fish/completions/fedbroker.fish
function __fedbroker_words
    switch "$argv[1]"
${cases.join('\n')}
    end
end
function __fedbroker_complete
    set -l cmdpath ''
    for w in (commandline -opc)[2..-1]
        string match -q -- '-*' $w; and continue
        if contains -- $w (string split ' ' (__fedbroker_words $cmdpath))
            set cmdpath (string trim -- "$cmdpath $w")
        end
    end
    string split ' ' (__fedbroker_words $cmdpath)
end
complete -c fedbroker -f -a '(__fedbroker_complete)'
`;
}

const SHELLS = { bash, zsh, fish } as const;

/** `fedbroker completion <shell>`; `program` is read when the script is printed, so it is complete by then. */
export function registerCompletion(program: Command): void {
  program
    .command('completion')
    .description(
      'print a shell completion script: eval "$(fedbroker completion bash)", source <(fedbroker completion zsh), or … fish | source',
    )
    .addArgument(new Argument('<shell>', 'bash, zsh or fish').choices(Object.keys(SHELLS)))
    .action((shell: keyof typeof SHELLS) => void process.stdout.write(SHELLS[shell](program)));
}
