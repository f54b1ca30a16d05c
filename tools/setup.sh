#!/bin/sh
# Create .venv with a Python >= 3.12 (PyMC 6 needs it) and install bayesmeta with its test extras.
# Finds the interpreter on its own: python3.13/python3.12/python3 on PATH, then pyenv versions.
set -eu
cd "$(dirname "$0")/.."

ok() { "$1" -c 'import sys, venv; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; }

find_python() {
    for cand in python3.13 python3.12 python3; do
        if command -v "$cand" >/dev/null 2>&1 && ok "$cand"; then
            "$cand" -c 'import sys; print(sys.executable)'
            return 0
        fi
    done
    if command -v pyenv >/dev/null 2>&1; then
        root=$(pyenv root)
        for v in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.(1[2-9]|[2-9][0-9])(\.[0-9]+)?$' | sort -t. -k1,1nr -k2,2nr -k3,3nr); do
            if ok "$root/versions/$v/bin/python3"; then
                echo "$root/versions/$v/bin/python3"
                return 0
            fi
        done
    fi
    return 1
}

if [ ! -x .venv/bin/python ] || ! ok .venv/bin/python; then
    py=$(find_python) || { echo "error: bayesmeta needs Python >= 3.12 (python3.12 or python3.13); none found" >&2; exit 2; }
    echo "using $py" >&2
    rm -rf .venv
    "$py" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[test]"
