#!/bin/sh
# Prints the path of a working Python 3.10, or nothing. Rasa Open Source 3.6 runs only on Python
# 3.8-3.10, and machines keep 3.10 in different places: on PATH (Debian's python3.10, a venv),
# under pyenv (whose python3.10 shim on PATH fails unless 3.10 is a selected version), or under
# uv. Each candidate is run once, so a shim or a broken link is skipped, not trusted.
works() { [ -n "$1" ] && "$1" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' >/dev/null 2>&1; }

candidate=$(command -v python3.10 2>/dev/null)
if works "$candidate"; then echo "$candidate"; exit 0; fi
if command -v pyenv >/dev/null 2>&1; then
    for candidate in $(ls -d "$(pyenv root)"/versions/3.10*/bin/python 2>/dev/null | sort -rV); do
        if works "$candidate"; then echo "$candidate"; exit 0; fi
    done
fi
if command -v uv >/dev/null 2>&1; then
    candidate=$(uv python find 3.10 2>/dev/null)
    if works "$candidate"; then echo "$candidate"; exit 0; fi
fi
exit 0
