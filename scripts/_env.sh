# Shared by scripts/demo and scripts/test (sourced, not run): the repo root and its venv.
# shellcheck shell=bash

GRAPHTWIN_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$GRAPHTWIN_ROOT/.venv"

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Creates .venv with python3 (3.11+) when it is missing, then pip-installs the
# project in editable mode with the given extras spec, e.g. "." or ".[test]".
ensure_venv() {
    local spec="$1"
    if [[ ! -x "$VENV/bin/python" ]]; then
        local python="${PYTHON:-python3}"
        command -v "$python" >/dev/null 2>&1 \
            || die "python3 is not installed (Debian: apt-get install -y python3 python3-venv)"
        "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
            || die "GraphTwin needs Python 3.11+, $("$python" --version 2>&1) found"
        say "creating $VENV"
        "$python" -m venv "$VENV" \
            || die "could not create a venv (Debian: apt-get install -y python3-venv)"
    fi
    # The install is editable, so code changes need no reinstall: only a changed
    # pyproject.toml (or another extra) does.  Skipping it saves 30-60 s per start.
    local stamp="$VENV/.graphtwin-installed" want
    want="$spec $(sha256sum "$GRAPHTWIN_ROOT/pyproject.toml" | cut -d' ' -f1)"
    if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
        return 0
    fi
    say "installing GraphTwin ($spec) into .venv"
    local log start=$SECONDS
    log="$(mktemp)"
    if ! (cd "$GRAPHTWIN_ROOT" \
          && "$VENV/bin/python" -m pip install --disable-pip-version-check -e "$spec") >"$log" 2>&1
    then
        cat "$log" >&2
        rm -f "$log"
        die "pip install -e '$spec' failed (output above)"
    fi
    rm -f "$log"
    echo "$want" >"$stamp"
    say "installed in $((SECONDS - start)) s"
}
