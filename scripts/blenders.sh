#!/usr/bin/env bash
# Makes the newer real Blenders the test suite renders with, beside Debian 12's own 3.4.1:
# the `blender` package of Debian's later suites, each unpacked into a folder of its own and run
# through bubblewrap (the suite's /usr and /etc over the host's, every other host path in place,
# so the recipes', fixtures' and temp folders are where they are).
#
#   scripts/blenders.sh            make what is missing, then print "VERSION PATH" per Blender
#   scripts/blenders.sh --paths    the same, but print only the executables, joined by ':'
#
# The folders live outside the repository, in $RENDERPLUS_BLENDER_CACHE (default
# ~/.cache/renderplus/blenders), about 1.2 GB each; a folder whose Blender answers --version is
# reused, any other is made again. To test another version, add its Debian suite to SUITES.
set -euo pipefail

# suite:version the suite packages (checked against what the made Blender says)
SUITES=(trixie:4.3 sid:5.2)
cache="${RENDERPLUS_BLENDER_CACHE:-$HOME/.cache/renderplus/blenders}"
repo="$(cd "$(dirname "$0")/.." && pwd)"
mode="${1:-}"

log() { echo "blenders: $*" >&2; }

need_tools() {
  local missing=()
  command -v mmdebstrap >/dev/null || missing+=(mmdebstrap)
  command -v bwrap >/dev/null || missing+=(bubblewrap)
  [ ${#missing[@]} -eq 0 ] && return
  local sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  log "installing ${missing[*]}"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
}

apt_mirror() {
  local uri
  uri=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
  [ -n "$uri" ] || uri=$(awk '$1 == "deb" {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
  echo "${uri:-http://deb.debian.org/debian}"
}

write_launcher() {  # the executable Render+ is given: Blender inside the suite's /usr and /etc
  local folder=$1 suite=$2
  cat > "$folder/blender" <<LAUNCHER
#!/bin/sh
# Blender of Debian $suite, made by Render+'s scripts/blenders.sh: /usr and /etc come from
# $folder/root, every other path is the host's.
exec bwrap --dev-bind / / --ro-bind "$folder/root/usr" /usr --ro-bind "$folder/root/etc" /etc \\
  --ro-bind /etc/passwd /etc/passwd --ro-bind /etc/group /etc/group \\
  --ro-bind-try /etc/resolv.conf /etc/resolv.conf --ro-bind-try /etc/hosts /etc/hosts \\
  --die-with-parent /usr/bin/blender "\$@"
LAUNCHER
  chmod 755 "$folder/blender"
}

version_of() {  # "4.3.2", or nothing when it does not run
  timeout 60 "$1" --factory-startup --version 2>/dev/null | awk '/^Blender [0-9]/ {print $2; exit}' || true
}

add_missing_modules() {
  # Newer packages' bundled extensions add-on imports cattrs (and so attrs), which Debian does
  # not install with it: without them every start prints a traceback, and some renders crash.
  # They are pure Python.
  local site="$1/root/usr/lib/python3/dist-packages" wanted=()
  grep -rqs '^ *import cattrs' "$1/root/usr/share/blender" || return 0
  local module
  for module in cattrs attrs typing_extensions; do   # cattrs and what it imports
    [ -e "$site/$module" ] || [ -e "$site/$module.py" ] || wanted+=("$module")
  done
  [ ${#wanted[@]} -eq 0 ] && return 0
  log "adding ${wanted[*]} to $1"
  local python="$repo/.venv/bin/python"   # scripts/setup.sh's venv has pip; Debian's python3 may not
  [ -x "$python" ] || python=python3
  "$python" -m pip install -q --disable-pip-version-check --root-user-action=ignore --no-deps \
    --target "$site" "${wanted[@]}" >&2
}

make_suite() {
  local suite=$1 want=$2 folder="$cache/$1"
  local have
  [ -d "$folder/root" ] && add_missing_modules "$folder"
  # The suite's FFmpeg makes the movies of the frames its Blender rendered (Blender and the
  # encoder see one file system); a root made before Render+ encoded movies is made again.
  have=$([ -x "$folder/blender" ] && [ -x "$folder/root/usr/bin/ffmpeg" ] && version_of "$folder/blender" || true)
  if [[ "$have" == "$want".* ]]; then
    echo "$have $folder/blender"
    return
  fi
  need_tools
  log "making Blender $want from Debian $suite in $folder (about a minute and 1.2 GB)"
  rm -rf "$folder"
  mkdir -p "$folder"
  # The mirror's snapshot may be past its Release files' Valid-Until; EEVEE and Workbench need
  # EGL and Mesa; bubblewrap inside lets a Blender of one suite start a launcher of another.
  mmdebstrap --quiet --variant=apt --aptopt='Acquire::Check-Valid-Until "false"' \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
    --include=blender,ffmpeg,ca-certificates,libegl1,libgl1,libgl1-mesa-dri,libopengl0,python3-requests,bubblewrap \
    "$suite" "$folder/root" "$(apt_mirror)" >&2
  add_missing_modules "$folder"
  write_launcher "$folder" "$suite"
  have=$(version_of "$folder/blender")
  if [[ "$have" != "$want".* ]]; then
    log "Debian $suite gave Blender '${have:-nothing}', not $want: update SUITES in $0"
    exit 1
  fi
  echo "$have $folder/blender"
}

mkdir -p "$cache"
found=()
for entry in "${SUITES[@]}"; do
  found+=("$(make_suite "${entry%%:*}" "${entry#*:}")")
done
if [ "$mode" = --paths ]; then
  printf '%s\n' "${found[@]}" | awk '{print $2}' | paste -sd: -
else
  printf '%s\n' "${found[@]}"
fi
