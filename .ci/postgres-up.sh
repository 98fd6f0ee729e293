#!/usr/bin/env bash
# Start a throwaway PostgreSQL cluster on loopback for the store tests; print its SQLAlchemy URL.
#
# stdout carries exactly one line, the URL, for:  export HYPERFLEET_TEST_POSTGRES_URL=$(bash .ci/postgres-up.sh)
# Everything else goes to stderr. Idempotent: when the cluster already answers it only prints the URL.
# As root it installs Debian's postgresql if missing and runs the server as user postgres; as another
# user it needs the PostgreSQL binaries installed and runs the server as that user.
# The password is random per cluster and lives only in the URL file (mode 0600) and in the URL printed.
set -euo pipefail

port=${HYPERFLEET_PG_PORT:-55432}
if [ "$(id -u)" = 0 ]; then
  data=${HYPERFLEET_PG_DATA:-/var/tmp/hyperfleet-pg}
else
  data=${HYPERFLEET_PG_DATA:-${TMPDIR:-/tmp}/hyperfleet-pg-$(id -u)}
fi
url_file="$data.url"   # beside the cluster, owned by the caller, not by postgres
role=hyperfleet
db=hyperfleet_test

say() { echo "postgres-up: $*" >&2; }

# The cluster answers and the test role logs in: nothing to do.
if [ -s "$url_file" ] && command -v psql >/dev/null 2>&1; then
  url=$(cat "$url_file")
  if psql "${url/+psycopg/}" -XtAqc "SELECT 1" >/dev/null 2>&1; then
    echo "$url"
    exit 0
  fi
fi

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$bindir" ]; then
  if [ "$(id -u)" != 0 ]; then
    say "PostgreSQL is not installed; install Debian's postgresql (or run this script as root)"
    exit 1
  fi
  say "installing postgresql"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends postgresql >&2
  bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
fi

# Run a command as the server's owner, from a folder that owner may enter.
if [ "$(id -u)" = 0 ]; then
  owner=postgres
  as_owner() { su -s /bin/sh postgres -c "cd / && $*"; }
else
  owner=$(id -un)
  as_owner() { sh -c "cd / && $*"; }
fi

if [ ! -s "$data/PG_VERSION" ]; then
  say "creating a cluster in $data (port $port, 127.0.0.1 only)"
  rm -rf "$data"
  mkdir -p "$data"
  chown "$owner" "$data"
  chmod 700 "$data"
  as_owner "'$bindir/initdb' -D '$data' -U postgres -E UTF8 --no-locale --auth-local=peer \
            --auth-host=scram-sha-256" >/dev/null
  cat >> "$data/postgresql.conf" <<CONF
# hyperfleet test cluster: loopback only, throwaway (no crash safety needed)
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$data'
fsync = off
synchronous_commit = off
full_page_writes = off
CONF
  if [ "$(id -u)" != 0 ]; then
    # peer authentication maps OS user to role; let the owner in as the superuser "postgres"
    sed -i "s/^local\(\s\+all\s\+all\s\+\)peer/local\1trust/" "$data/pg_hba.conf"
  fi
  rm -f "$url_file"
fi

if ! as_owner "'$bindir/pg_ctl' -D '$data' status" >/dev/null 2>&1; then
  as_owner "'$bindir/pg_ctl' -D '$data' -l '$data/server.log' -w -t 30 start" >/dev/null \
    || { say "the server did not start; its log:"; tail -n 20 "$data/server.log" >&2; exit 1; }
fi

psql_su() { as_owner "'$bindir/psql' -X -h '$data' -p $port -U postgres -d postgres -v ON_ERROR_STOP=1 -qtA $*"; }

# The test role gets a fresh random password whenever the URL file is missing (new cluster).
if [ ! -s "$url_file" ]; then
  password=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
  echo "DO \$\$ BEGIN
          IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$role') THEN CREATE ROLE $role LOGIN; END IF;
        END \$\$;
        ALTER ROLE $role PASSWORD '$password';" | psql_su >/dev/null
  (umask 077 && echo "postgresql+psycopg://$role:$password@127.0.0.1:$port/$db" > "$url_file")
fi
if [ -z "$(psql_su "-c \"SELECT 1 FROM pg_database WHERE datname = '$db'\"")" ]; then
  psql_su "-c 'CREATE DATABASE $db OWNER $role'" >/dev/null
fi

url=$(cat "$url_file")
if ! "$bindir/psql" "${url/+psycopg/}" -XtAqc "SELECT 1" >/dev/null 2>&1; then
  say "a server answers on 127.0.0.1:$port but the test role cannot log in;"
  say "is another server using that port? Set HYPERFLEET_PG_PORT to a free one."
  exit 1
fi
echo "$url"
