"""What the console may run: a command line split as a POSIX shell would split words (shlex),
never given to a shell, whose first word is `kubectl` and whose flags cannot reach past this
cluster: no other server, no file of the server's, no program but kubectl itself.

`refusal(argv)` says why a command is refused (None when it may run); docs/console.md lists
every refusal with its reason.  kubectl parses its flags with spf13/pflag, so a short flag may
carry its value glued on (`-fpod.yaml`, `-f=pod.yaml`) or sit in a cluster of boolean short
flags (`-Rf pod.yaml`); both are read here as pflag reads them.  After `--` the words belong to
the container's command (`kubectl exec web -- ls -f`), not to kubectl."""
from __future__ import annotations

import shlex

MAX_LINE = 8 * 1024

# Subcommands refused outright, and why.
REFUSED_SUBCOMMANDS = {
    "config": "`kubectl config` reads and writes the kubeconfig file on the server; the console's "
              "kubeconfig is fixed to this cluster",
    "plugin": "`kubectl plugin` looks for other programs on the server; only kubectl runs here",
    "krew": "plugins are other programs; only kubectl runs here",
    "edit": "`kubectl edit` needs an editor, and the console has none: use `kubectl patch` or "
            "`kubectl get -o yaml`, then `kubectl apply -f -` with the YAML pasted as input",
    "proxy": "`kubectl proxy` would listen on a port of the server",
    "port-forward": "`kubectl port-forward` would listen on a port of the server",
    "cp": "`kubectl cp` reads or writes files on the server",
    "diff": "`kubectl diff` runs a diff program on the server; use `kubectl apply --dry-run=server -f -`",
    "kustomize": "`kubectl kustomize` reads a directory of the server",
    "completion": "shell completion has no shell to complete here",
}

# Long flags refused wherever they appear (the part before any `=`), and why.
REFUSED_FLAGS = {
    "--kubeconfig": "the console's kubeconfig is fixed to this cluster",
    "--server": "the console talks to this cluster only",
    "--cache-dir": "the discovery cache lives in the console's own directory",
    "--certificate-authority": "reads a file of the server",
    "--client-certificate": "reads a file of the server",
    "--client-key": "reads a file of the server",
    "--kustomize": "reads a directory of the server",
    "--from-file": "reads a file of the server; paste the content with --from-literal or `apply -f -`",
    "--from-env-file": "reads a file of the server; use --from-literal",
    "--log-file": "writes a file on the server",
    "--log-dir": "writes files on the server",
    "--profile-output": "writes a file on the server",
    "--edit": "needs an editor, and the console has none",
}
SHORT_REFUSED = {"s": "--server", "k": "--kustomize"}
FILENAME_HINT = ("-f/--filename reads a file or URL from the server; only `-f -` is allowed, with the "
                 "YAML or JSON pasted as the command's input")
# Short flags that always take a value: in `-nfoo` the rest of the word is the namespace.
SHORT_WITH_VALUE = set("olncLv")
# `-o go-template-file=PATH` and friends read a template from a file of the server.
FILE_OUTPUTS = ("go-template-file", "jsonpath-file", "template-file", "templatefile")


# Global flags whose value is the next word (`kubectl -n kube-system logs -f x`).
GLOBAL_WITH_VALUE = {"-n", "--namespace", "--context", "--cluster", "--user", "--as", "--as-group",
                     "--as-uid", "--token", "--request-timeout", "-v", "--v", "--tls-server-name"}


class Refused(ValueError):
    """A command line the console does not run; str() is the reason, for the student."""


def split(line: str) -> list[str]:
    """The words of a command line, or Refused with a readable reason."""
    if len(line) > MAX_LINE:
        raise Refused(f"the command line is longer than {MAX_LINE} characters")
    try:
        argv = shlex.split(line, comments=False, posix=True)
    except ValueError as e:   # "No closing quotation", "No escaped character"
        raise Refused(f"cannot read the command line: {str(e).lower()}") from None
    if not argv:
        raise Refused("type a kubectl command, e.g. `kubectl get pods`")
    return argv


def _subcommand(args: list[str]) -> str | None:
    """The first word that is not a flag (global flags may come first: `kubectl -n x get pods`).
    A flag's separate value is not told apart here; good enough to find `logs` and the refused
    subcommands, which are then looked for among the first two words too."""
    skip = False
    for word in args:
        if skip:
            skip = False
            continue
        if word == "--":
            return None
        if word in GLOBAL_WITH_VALUE:
            skip = True   # `-n kube-system logs`: the namespace is not the subcommand
        elif not word.startswith("-"):
            return word
    return None


def refusal(argv: list[str]) -> str | None:
    """Why `argv` may not run, or None."""
    if argv[0] != "kubectl":
        return (f"only kubectl runs here (not {argv[0]!r}): there is no shell, so pipes, "
                f"redirections and other programs are not available")
    args = argv[1:]
    words = [w for w in args if not w.startswith("-")][:2]
    sub = _subcommand(args)
    for word in ([sub] if sub else []) + words:
        if word in REFUSED_SUBCOMMANDS:
            return f"`kubectl {word}` is not available in the console: {REFUSED_SUBCOMMANDS[word]}"
    if sub == "apply" and "edit-last-applied" in words:
        return "`kubectl apply edit-last-applied` needs an editor, and the console has none"
    follow_is_f = sub == "logs"   # `kubectl logs -f` is --follow, not --filename
    i = 0
    while i < len(args):
        word = args[i]
        i += 1
        if word == "--":
            break   # the rest is the container's command line
        if word.startswith("--"):
            name, eq, value = word.partition("=")
            if name in REFUSED_FLAGS:
                return f"{name} is not available in the console: {REFUSED_FLAGS[name]}"
            if name == "--filename":
                value = value if eq else (args[i] if i < len(args) else "")
                i += 0 if eq else 1
                if value != "-":
                    return FILENAME_HINT
            if name in ("--output", "--template"):
                value = value if eq else (args[i] if i < len(args) else "")
                if value.split("=", 1)[0] in FILE_OUTPUTS or (name == "--template" and "/" in value):
                    return "an output template from a file reads a file of the server; give the template inline"
            continue
        if len(word) < 2 or word[0] != "-" or word[1].isdigit():
            continue   # a positional word, `-`, or a negative number
        # A cluster of short flags, as pflag reads it.
        for j, ch in enumerate(word[1:], start=1):
            rest = word[j + 1:]
            if ch in SHORT_REFUSED:
                long = SHORT_REFUSED[ch]
                return f"-{ch} ({long}) is not available in the console: {REFUSED_FLAGS[long]}"
            if ch == "f" and not follow_is_f:
                value = rest[1:] if rest.startswith("=") else rest
                if not rest:
                    value = args[i] if i < len(args) else ""
                    i += 1
                if value != "-":
                    return FILENAME_HINT
                break
            if ch == "o":
                value = (rest[1:] if rest.startswith("=") else rest) or (args[i] if i < len(args) else "")
                if value.split("=", 1)[0] in FILE_OUTPUTS:
                    return "an output template from a file reads a file of the server; give the template inline"
                break
            if ch in SHORT_WITH_VALUE:
                break   # the rest of the word (or the next word) is its value
    return None


def is_streaming(argv: list[str]) -> bool:
    """A command that runs until interrupted (`get -w`, `logs -f`, `events --watch`, an
    interactive exec/attach): it gets the longer time bound."""
    args = argv[1:]
    sub = _subcommand(args)
    for word in args:
        if word == "--":
            break
        if word in ("--watch", "--watch-only", "--follow", "--stdin") or word.startswith(("--watch=", "--follow=")):
            return True
        if word.startswith("-") and not word.startswith("--") and len(word) > 1:
            letters = word[1:]
            if "w" in letters or (sub == "logs" and "f" in letters) or (sub in ("exec", "attach", "run") and "i" in letters):
                return True
    return sub == "attach"


def terminal_mode(argv: list[str]) -> tuple[bool, bool]:
    """(interactive, tty) of an exec, attach or run: `-i`/`--stdin` keeps kubectl's stdin open
    for what the student types; `-t`/`--tty` gives kubectl a terminal (a pty), as `kubectl exec
    -it` expects.  Flags after `--` are the container command's, not kubectl's."""
    args = argv[1:]
    if _subcommand(args) not in ("exec", "attach", "run"):
        return False, False
    interactive = tty = False
    for word in args:
        if word == "--":
            break
        if word in ("--stdin", "--stdin=true"):
            interactive = True
        elif word in ("--tty", "--tty=true"):
            tty = True
        elif word.startswith("-") and not word.startswith("--") and len(word) > 1:
            letters = word[1:]
            for ch in letters:
                if ch == "i":
                    interactive = True
                elif ch == "t":
                    tty = True
                elif ch in SHORT_WITH_VALUE:
                    break   # the rest is this flag's value (`-c sidecar`)
    return interactive, tty
