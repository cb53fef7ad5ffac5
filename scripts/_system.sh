# Shared by scripts/run and scripts/test: system packages and the Python environment.
# shellcheck shell=bash

log() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
die() { printf '\n\033[31mERROR: %s\033[0m\n' "$*" >&2; exit 1; }

# stop_process_groups PID... — TERM the process groups led by these pids (started with
# setsid), wait up to 10 s, then KILL what is left. Signals nothing else.
stop_process_groups() {
  local pid alive
  [ $# -eq 0 ] && return 0
  for pid in "$@"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  for _ in $(seq 20); do
    alive=0
    for pid in "$@"; do kill -0 -- "-$pid" 2>/dev/null && alive=1; done
    [ "$alive" -eq 0 ] && return 0
    sleep 0.5
  done
  for pid in "$@"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
}

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
  # grep only hides pip's noise; pip's own exit status (PIPESTATUS[0]) decides. The `||`
  # keeps `set -e`/pipefail from ending the script before the message below.
  local pip_status=0
  { .venv/bin/python -m pip install -q --disable-pip-version-check -r "$1" 2>&1 \
      | grep -v "^WARNING: Location"; pip_status=${PIPESTATUS[0]}; } || true
  [ "$pip_status" -eq 0 ] \
    || die "pip could not install the packages from $1 (exit status $pip_status; see pip's output above)."
  .venv/bin/python -m pip check >/dev/null || die "pip reports broken requirements (run .venv/bin/pip check)."
}
