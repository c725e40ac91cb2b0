import Convoy

/// `convoy completion bash|zsh|fish`: a completion script for the shell, from the commands and
/// the options each command's help names.
struct CompletionCommand {
    static let help = """
        USAGE: convoy completion bash|zsh|fish

        Prints a script that completes convoy's commands and their options in the shell.

        EXAMPLES:
          source <(convoy completion bash)                 # in ~/.bashrc
          convoy completion zsh > "${fpath[1]}/_convoy"    # then restart zsh
          convoy completion fish > ~/.config/fish/completions/convoy.fish
        """

    static let shells = ["bash", "zsh", "fish"]

    var shell: String

    init(arguments: [String]) throws {
        var arguments = Arguments(arguments)
        let positionals = arguments.takePositionals()
        try arguments.finish()
        guard positionals.count == 1, let shell = positionals.first else {
            throw ConvoyError.usage("convoy completion takes one shell: bash, zsh or fish")
        }
        guard Self.shells.contains(shell) else {
            throw ConvoyError.usage(
                "convoy completion takes bash, zsh or fish, not '\(shell)'"
                    + Suggestion.hint(for: shell, in: Self.shells))
        }
        self.shell = shell
    }

    func run(console: Console) throws -> Int32 {
        console.print(Self.script(for: shell))
        return 0
    }

    /// The commands, and each one's options sorted, as the scripts list them.
    static var table: [(command: String, options: [String])] {
        ConvoyCommandLine.commands.map { ($0.name, Arguments.options(in: $0.help).sorted().map { "--" + $0 }) }
            + [("help", [])]
    }

    /// The completion script for `shell` (bash, zsh or fish).
    static func script(for shell: String) -> String {
        let commands = table.map(\.command).joined(separator: " ")
        switch shell {
        case "bash":
            let cases = table.filter { !$0.options.isEmpty }.map {
                "        \($0.command)) options=\"\($0.options.joined(separator: " "))\" ;;"
            }
            return """
                # bash completion for convoy
                _convoy() {
                    local word="${COMP_WORDS[COMP_CWORD]}" options=""
                    if [ "$COMP_CWORD" -eq 1 ]; then
                        COMPREPLY=($(compgen -W "\(commands)" -- "$word"))
                        return
                    fi
                    case "${COMP_WORDS[1]}" in
                \(cases.joined(separator: "\n"))
                        help) COMPREPLY=($(compgen -W "\(commands)" -- "$word")); return ;;
                    esac
                    if [[ "$word" == -* ]]; then
                        COMPREPLY=($(compgen -W "$options" -- "$word"))
                    else
                        COMPREPLY=($(compgen -f -- "$word"))
                    fi
                }
                complete -o default -F _convoy convoy
                """
        case "zsh":
            let cases = table.filter { !$0.options.isEmpty }.map {
                "    \($0.command)) compadd -- \($0.options.joined(separator: " ")); _files ;;"
            }
            return """
                #compdef convoy
                _convoy() {
                  if (( CURRENT == 2 )); then
                    compadd -- \(commands)
                    return
                  fi
                  case "${words[2]}" in
                \(cases.joined(separator: "\n"))
                    help) compadd -- \(commands) ;;
                    *) _files ;;
                  esac
                }
                compdef _convoy convoy
                """
        default:
            var lines = [
                "# fish completion for convoy",
                "complete -c convoy -f -n '__fish_use_subcommand' -a '\(commands)'",
            ]
            for (command, options) in table {
                for option in options {
                    lines.append(
                        "complete -c convoy -n '__fish_seen_subcommand_from \(command)' -l \(option.dropFirst(2))")
                }
            }
            return lines.joined(separator: "\n")
        }
    }
}
