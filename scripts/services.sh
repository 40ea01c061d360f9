#!/usr/bin/env bash
# Makes sure the services the tests talk to are up: PostgreSQL on 127.0.0.1:5432 with trust
# auth and a database named `test`, and Redis on 127.0.0.1:6379. Installs what is missing from
# Debian's packages, and espeak-ng, the local text-to-speech voice, and Chromium with its
# WebDriver (the dashboard's browser tests), the same way.
set -euo pipefail

# Installs a Debian package, or says what to do where this script cannot (not root, not Debian).
install() {
  local package=$1 what=$2
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "scripts/services.sh: $what is missing, and this script installs it only as root on Debian" >&2
    echo "  (apt-get install $package). Install it yourself, then run the tests again." >&2
    exit 1
  fi
  echo "installing $what..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086 # a package list
  apt-get install -y -qq $package >/dev/null
}

if ! command -v espeak-ng >/dev/null 2>&1; then
  install espeak-ng "espeak-ng (the local voice)"
fi

if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  install "chromium chromium-driver" "Chromium and chromedriver (the dashboard's browser tests)"
fi

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }

if ! pg_up && { ! command -v pg_isready >/dev/null 2>&1 || ! ls /etc/postgresql/*/main >/dev/null 2>&1; }; then
  install postgresql "PostgreSQL"
fi

if ! pg_up; then
  if ! ls /etc/postgresql/*/main >/dev/null 2>&1 || [ "$(id -u)" -ne 0 ]; then
    echo "scripts/services.sh: PostgreSQL is not answering on 127.0.0.1:5432; start it with trust" >&2
    echo "  auth for local connections and a database named test, then run the tests again." >&2
    exit 1
  fi
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  conf=/etc/postgresql/$version/main
  # Local test server: trust connections from this machine only.
  if ! grep -q "^host all all 127.0.0.1/32 trust" "$conf/pg_hba.conf"; then
    sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust\nlocal all all trust' "$conf/pg_hba.conf"
  fi
  pg_ctlcluster --skip-systemctl-redirect "$version" main start
  for _ in $(seq 1 30); do pg_up && break; sleep 1; done
fi
pg_up || { echo "PostgreSQL did not come up on 127.0.0.1:5432" >&2; exit 1; }

if ! psql -h 127.0.0.1 -U postgres -tAc "select 1 from pg_database where datname = 'test'" | grep -q 1; then
  psql -h 127.0.0.1 -U postgres -c "create database test" >/dev/null
fi

# Redis on 127.0.0.1:6379 for the shared session store tests.
redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }
if ! redis_up && ! command -v redis-server >/dev/null 2>&1; then
  install redis-server "Redis"
fi
if ! redis_up; then
  redis-server --bind 127.0.0.1 --port 6379 --save "" --appendonly no --daemonize yes >/dev/null
  for _ in $(seq 1 30); do redis_up && break; sleep 1; done
fi
redis_up || { echo "Redis did not come up on 127.0.0.1:6379" >&2; exit 1; }
