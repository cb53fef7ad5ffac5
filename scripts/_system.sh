# Shared by scripts/run and scripts/test: system packages and the Python environment.
# shellcheck shell=bash

log() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
die() { printf '\n\033[31mERROR: %s\033[0m\n' "$*" >&2; exit 1; }

# ensure_packages CMD_OR_TEST:PACKAGE ... — installs the Debian packages that are missing.
ensure_packages() {
  local missing=() spec check pkg
  for spec in "$@"; do
    check=${spec%%:*}; pkg=${spec#*:}
    case "$check" in
      font-cjk) fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || missing+=($pkg) ;;
      *) command -v "$check" >/dev/null 2>&1 || missing+=($pkg) ;;
    esac
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "Installing system packages: ${missing[*]}"
  if [ "$(id -u)" != 0 ]; then
    die "missing system packages: ${missing[*]} — install them with: sudo apt-get install ${missing[*]}"
  fi
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || die "apt-get could not install: ${missing[*]}"
}

# ensure_venv REQUIREMENTS_FILE — creates .venv (Python ≥ 3.11) and installs the pinned set.
ensure_venv() {
  local py=${PYTHON:-python3}
  "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || die "Python 3.11 or newer is required (found $("$py" --version 2>&1))."
  [ -x .venv/bin/python ] || { log "Creating .venv"; "$py" -m venv .venv; }
  log "Installing Python packages from $1"
  .venv/bin/python -m pip install -q --disable-pip-version-check -r "$1" 2>&1 | grep -v "^WARNING: Location" || true
  .venv/bin/python -m pip check >/dev/null || die "pip reports broken requirements (run .venv/bin/pip check)."
}
