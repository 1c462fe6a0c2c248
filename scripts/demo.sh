#!/usr/bin/env bash
# `make demo`: the published AOT gateway on loopback in front of a demo upstream (nginx), with the product's
# two first-party plugins against real servers this script starts: api_key looks keys up in PostgreSQL, and
# rate_limit counts per tenant in Redis. Ctrl-C stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
work=$(mktemp -d)
chmod 755 "$work"   # PostgreSQL runs as its own user when the demo runs as root
pids=()
cleanup() {
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  # As root PostgreSQL runs under runuser: stop the postmaster itself, by the pid it wrote.
  if [ -f "$work/pg/data/postmaster.pid" ]; then kill "$(head -n 1 "$work/pg/data/postmaster.pid")" 2>/dev/null || true; fi
  wait 2>/dev/null || true
  rm -rf "$work"
  echo "demo stopped"
}
trap cleanup EXIT INT TERM

upstream_port=${DEMO_UPSTREAM_PORT:-18081}
redis_port=${DEMO_REDIS_PORT:-16379}
pg_port=${DEMO_PG_PORT:-15432}
gateway_port=${DEMO_PORT:-8080}
admin_port=${DEMO_ADMIN_PORT:-9901}

mkdir -p "$work/nginx"
cat > "$work/nginx/nginx.conf" <<NGINX
daemon off;
master_process off;
worker_processes 1;
error_log $work/nginx/error.log;
pid $work/nginx/nginx.pid;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $work/nginx;
  server {
    listen 127.0.0.1:$upstream_port;
    location / { default_type application/json; return 200 '{"upstream":"demo","uri":"\$request_uri"}\n'; }
  }
}
NGINX
/usr/sbin/nginx -c "$work/nginx/nginx.conf" &
pids+=($!)


# Redis: in memory only, in the demo's folder.
redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --dir "$work" \
  --logfile "$work/redis.log" &
pids+=($!)

# PostgreSQL: a throw-away cluster with the api_keys table and two keys. PostgreSQL refuses to run as root,
# so as root its commands run as the postgres user.
pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
as_pg=()
if [ "$(id -u)" -eq 0 ]; then as_pg=(runuser -u postgres --); fi
mkdir -p "$work/pg"
[ ${#as_pg[@]} -eq 0 ] || chown postgres "$work/pg"
"${as_pg[@]}" "$pg_bin/initdb" -D "$work/pg/data" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
  --no-sync -E UTF8 --locale=C.UTF-8 >"$work/pg-init.log"
"${as_pg[@]}" "$pg_bin/postgres" -D "$work/pg/data" -p "$pg_port" -c listen_addresses=127.0.0.1 \
  -k "$work/pg" -c fsync=off >"$work/pg.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do
  "${as_pg[@]}" "$pg_bin/pg_isready" -q -h "$work/pg" -p "$pg_port" && break
  sleep 0.1
done
pg_password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
printf '%s' "$pg_password" > "$work/pg-password"
psql_pg() { "${as_pg[@]}" psql -q -v ON_ERROR_STOP=1 -h "$work/pg" -p "$pg_port" -U postgres "$@"; }
psql_pg -d postgres -c "CREATE ROLE gateway LOGIN PASSWORD '$pg_password'" -c "CREATE DATABASE gateway OWNER gateway"
psql_pg -d gateway <<'SQL'
CREATE TABLE api_keys (key_hash text PRIMARY KEY, tenant text NOT NULL, plan text NOT NULL,
                       revoked boolean NOT NULL DEFAULT false);
-- The plugin sends the SHA-256 of the key, hex-encoded; the keys themselves are never stored.
INSERT INTO api_keys VALUES
  (encode(sha256('demo-key-alice'), 'hex'), 'alice', 'gold', false),
  (encode(sha256('demo-key-bob'), 'hex'), 'bob', 'free', false);
ALTER TABLE api_keys OWNER TO gateway;
SQL

sed -e "s|@UPSTREAM@|127.0.0.1:$upstream_port|" -e "s|@PORT@|$gateway_port|" -e "s|@ADMIN@|$admin_port|" \
    -e "s|@PLUGINS@|$root/artifacts/plugins|" -e "s|@REDIS@|127.0.0.1:$redis_port|" \
    -e "s|@PG_CONNECTION@|Host=127.0.0.1;Port=$pg_port;Database=gateway;Username=gateway|" \
    -e "s|@PG_PASSWORD_FILE@|$work/pg-password|" deploy/demo/gateway.json > "$work/gateway.json"
"$root/artifacts/bin/gateway" --config "$work/gateway.json" &
pids+=($!)

for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$admin_port/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done

cat <<TXT

Gateway demo is running (config: $work/gateway.json), with Redis on 127.0.0.1:$redis_port and PostgreSQL on
127.0.0.1:$pg_port (table api_keys: keys demo-key-alice and demo-key-bob). Try:

  curl -i http://127.0.0.1:$gateway_port/hello
  curl -i http://127.0.0.1:$gateway_port/api/items                                   # no key: 401
  curl -i -H 'x-api-key: demo-key-alice' http://127.0.0.1:$gateway_port/api/items    # tenant alice, looked up in PostgreSQL
  for i in \$(seq 1 7); do curl -s -o /dev/null -w '%{http_code} ' -H 'x-api-key: demo-key-bob' http://127.0.0.1:$gateway_port/api/items; done; echo
  redis-cli -p $redis_port --scan                                                     # the per-tenant counters in Redis
  curl -s http://127.0.0.1:$admin_port/metrics | grep -E 'gateway_requests_total|rate_limit|gateway_sql'

The /api/ route checks the x-api-key header against PostgreSQL (api_key plugin) and then allows 5 requests per
minute per tenant, counted in Redis (rate_limit plugin): the 6th answers 429.
Press Ctrl-C to stop.
TXT
wait
