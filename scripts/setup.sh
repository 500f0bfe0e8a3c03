#!/usr/bin/env bash
# Creates or updates the project's two environments from their lock files; fast when nothing changed.
#   .venv       Python >= 3.11: bot, action server, storage, tests   (requirements/dev.lock)
#   .venv-rasa  Python 3.10:    Rasa Open Source 3.6.21               (requirements/rasa.lock)
# Override the interpreters with MAIN_PYTHON=/path/to/python3.11+ and RASA_PYTHON=/path/to/python3.10.
set -euo pipefail
cd "$(dirname "$0")/.."

UV_VERSION=0.13.9

die() { echo "setup: $*" >&2; exit 1; }

version_of() { "$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null; }

find_main_python() {
  if [ -n "${MAIN_PYTHON:-}" ]; then echo "$MAIN_PYTHON"; return; fi
  for candidate in python3.11 python3.12 python3.13 python3; do
    if command -v "$candidate" >/dev/null 2>&1; then
      v=$(version_of "$candidate") || continue
      case "$v" in 3.1[1-9]) command -v "$candidate"; return ;; esac
    fi
  done
}

find_rasa_python() {
  if [ -n "${RASA_PYTHON:-}" ]; then echo "$RASA_PYTHON"; return; fi
  if command -v python3.10 >/dev/null 2>&1 && [ "$(version_of python3.10)" = "3.10" ]; then
    command -v python3.10; return
  fi
  if command -v pyenv >/dev/null 2>&1; then
    prefix=$(pyenv prefix 3.10 2>/dev/null | head -n 1) || true
    if [ -n "$prefix" ] && [ -x "$prefix/bin/python3.10" ]; then echo "$prefix/bin/python3.10"; return; fi
  fi
}

stamp_of() { # the lock file and the interpreter decide whether an environment is current
  { cat "$1"; "$2" -c 'import sys; print(sys.version)'; } | sha256sum | cut -d' ' -f1
}

main_py=$(find_main_python)
[ -n "$main_py" ] || die "Python >= 3.11 not found: install it or set MAIN_PYTHON=/path/to/python3.11"
rasa_py=$(find_rasa_python)
[ -n "$rasa_py" ] && [ "$(version_of "$rasa_py")" = "3.10" ] || die "Python 3.10 not found (Rasa 3.6 needs it): install it (e.g. 'pyenv install 3.10') or set RASA_PYTHON=/path/to/python3.10"

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $main_py"
  "$main_py" -m venv .venv
fi
if [ ! -x .venv/bin/uv ] || [ "$(.venv/bin/uv --version | cut -d' ' -f2)" != "$UV_VERSION" ]; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"
fi
uv=.venv/bin/uv

stamp=$(stamp_of requirements/dev.lock .venv/bin/python)
if [ "$(cat .venv/.stamp 2>/dev/null)" != "$stamp" ]; then
  echo "setup: installing the main environment (requirements/dev.lock)"
  "$uv" pip sync --quiet --python .venv/bin/python requirements/dev.lock
  echo "$stamp" > .venv/.stamp
fi

if [ ! -x .venv-rasa/bin/python ] || [ "$(version_of .venv-rasa/bin/python)" != "3.10" ]; then
  echo "setup: creating .venv-rasa with $rasa_py"
  rm -rf .venv-rasa
  "$uv" venv --quiet --python "$rasa_py" .venv-rasa
fi
stamp=$(stamp_of requirements/rasa.lock .venv-rasa/bin/python)
if [ "$(cat .venv-rasa/.stamp 2>/dev/null)" != "$stamp" ]; then
  echo "setup: installing the Rasa environment (requirements/rasa.lock)"
  "$uv" pip sync --quiet --python .venv-rasa/bin/python requirements/rasa.lock
  echo "$stamp" > .venv-rasa/.stamp
fi

# Browser tests (tests/browser) drive Debian's Chromium; browsers cannot be downloaded by Playwright here.
# Installed only when missing and we may (root with apt-get); otherwise those tests skip with a reason.
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing Debian's chromium for the browser tests"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium >/dev/null \
      || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium >/dev/null; } \
      || echo "setup: could not install chromium; browser tests will be skipped" >&2
  else
    echo "setup: /usr/bin/chromium is missing (needs root and apt-get); browser tests will be skipped" >&2
  fi
fi
