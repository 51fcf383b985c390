#!/usr/bin/env bash
# Installs what Render+ needs on a Debian 12 machine (run as root, or with sudo available).
#   scripts/setup.sh demo   Blender (Debian's package) and Python: enough for the demo batch
#   scripts/setup.sh test   + the test tools: Xvfb, D-Bus, notify-send, sox, and a virtualenv
#                           (.venv) with pytest, ruff, mypy, bottle, bpy 5.0 (Blender as a module)...
#                           and .venv-bpy42 (bpy 4.2 LTS) for the add-on tests
# Safe to run again: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
profile="${1:-test}"

apt_packages=(blender ffmpeg python3 python3-venv zstd)
if [ "$profile" = test ]; then
  apt_packages+=(xvfb xauth dbus libnotify-bin sox libsox-fmt-base pulseaudio-utils alsa-utils
                 x11-apps imagemagick procps git chromium slurmctld slurmd slurm-client munge)
fi

missing=()
for pkg in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi

if [ "$profile" = test ]; then
  stamp=.venv/.requirements.sha
  want=$(sha256sum requirements-dev.txt | cut -d' ' -f1)
  if [ ! -x .venv/bin/python ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "setup: creating .venv with the test tools (bpy is a 370 MB wheel: about a minute)"
    python3 -m venv .venv
    .venv/bin/python -m pip install -q --disable-pip-version-check -r requirements-dev.txt
    echo "$want" > "$stamp"
  fi
  # Blender 4.2 LTS as a module, in its own venv: the add-on tests also run there.
  stamp42=.venv-bpy42/.requirements.sha
  want42=$(sha256sum requirements-bpy42.txt | cut -d' ' -f1)
  if [ ! -x .venv-bpy42/bin/python ] || [ "$(cat "$stamp42" 2>/dev/null)" != "$want42" ]; then
    echo "setup: creating .venv-bpy42 (Blender 4.2 LTS as a module, for the add-on tests)"
    python3 -m venv .venv-bpy42
    .venv-bpy42/bin/python -m pip install -q --disable-pip-version-check -r requirements-bpy42.txt
    echo "$want42" > "$stamp42"
  fi
fi
