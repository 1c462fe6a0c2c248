#!/usr/bin/env bash
# `make demo`: a demo upstream (nginx, one worker) and the published AOT gateway on loopback, with the
# first-party rate_limit plugin counting locally (no Redis needed). Ctrl-C stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
  echo "demo stopped"
}
trap cleanup EXIT INT TERM

upstream_port=${DEMO_UPSTREAM_PORT:-18081}
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

sed -e "s|@UPSTREAM@|127.0.0.1:$upstream_port|" -e "s|@PORT@|$gateway_port|" -e "s|@ADMIN@|$admin_port|" \
    -e "s|@PLUGINS@|$root/artifacts/plugins|" deploy/demo/gateway.json > "$work/gateway.json"
"$root/artifacts/bin/gateway" --config "$work/gateway.json" &
pids+=($!)

for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$admin_port/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done

cat <<TXT

Gateway demo is running (config: $work/gateway.json). Try:

  curl -i http://127.0.0.1:$gateway_port/hello
  for i in \$(seq 1 7); do curl -s -o /dev/null -w '%{http_code} ' -H 'x-client: alice' http://127.0.0.1:$gateway_port/api/items; done; echo
  curl -s http://127.0.0.1:$admin_port/metrics | grep -E 'gateway_requests_total|rate_limit'

The /api/ route allows 5 requests per minute per x-client header (rate_limit, local mode): the 6th answers 429.
Press Ctrl-C to stop.
TXT
wait
