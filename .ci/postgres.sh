#!/usr/bin/env bash
# A private PostgreSQL cluster for the tests: initdb in a folder, listening on 127.0.0.1 only,
# trust authentication for local connections (nothing else can reach it).
#
#   .ci/postgres.sh start DIR [PORT]   prints the server's URL (postgres://postgres@127.0.0.1:PORT);
#                                      a fresh, empty database `ctiforge` is on it (the tests
#                                      make databases of their own)
#   .ci/postgres.sh stop DIR
#
# Uses Debian's PostgreSQL (apt-get install postgresql); as root, the server runs as the
# `postgres` user, since PostgreSQL refuses to run as root.
set -euo pipefail
command="${1:?usage: .ci/postgres.sh start|stop DIR [PORT]}"
dir="${2:?usage: .ci/postgres.sh start|stop DIR [PORT]}"
bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
if [ -z "$bin" ]; then
  echo "error: no PostgreSQL server under /usr/lib/postgresql; apt-get install postgresql" >&2
  exit 1
fi
as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
case "$command" in
  start)
    port="${3:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}"
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then chown postgres "$dir"; fi
    if [ ! -f "$dir/data/PG_VERSION" ]; then
      as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null
    fi
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off" start >/dev/null
    for db in ctiforge; do
      as_owner "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -qAt \
        -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" postgres >/dev/null
    done
    echo "postgres://postgres@127.0.0.1:$port"
    ;;
  stop)
    as_owner "$bin/pg_ctl" -D "$dir/data" -m fast stop >/dev/null || true
    ;;
  *)
    echo "error: unknown command $command; use start or stop" >&2
    exit 2
    ;;
esac
