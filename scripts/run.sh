#!/bin/sh
# make run: a demo data directory on first start, then the server on :8080.
set -e
bin=${1:-build/opsbase}
data=${OPSBASE_DATA:-./data}
listen=${OPSBASE_LISTEN:-127.0.0.1:8080}
# secret columns are sealed under a master key kept outside the data directory:
# a development key is made once, next to it, unless one is configured
if [ -z "${OPSBASE_MASTER_KEY:-}" ] && [ -z "${OPSBASE_MASTER_KEY_FILE:-}" ]; then
    OPSBASE_MASTER_KEY_FILE=${data%/}.master-key
    [ -f "$OPSBASE_MASTER_KEY_FILE" ] || (umask 077 && "$bin" keys new > "$OPSBASE_MASTER_KEY_FILE")
    export OPSBASE_MASTER_KEY_FILE
fi
if [ ! -f "$data/control.db" ]; then
    "$bin" demo --data "$data"
fi
cat <<EOT

  opsbase is starting on http://$listen  (data in $data)
  the web console: open http://$listen/ and sign in with one of these

  demo sign-ins (tenant / e-mail / password):
    acme    owner@acme.test     acme-owner-pass    (owner)
    acme    agent1@acme.test    agent-pass-123     (agent)
    acme    viewer@acme.test    viewer-pass-123    (viewer)
    globex  owner@globex.test   globex-owner-pass  (owner)
    skycargo  owner@skycargo.test   skycargo-owner-pass  (owner: the air-cargo portal)
    skycargo  portal@skycargo.test  portal-pass-123      (a cargo customer in the portal)
    goldline  owner@goldline.test   goldline-owner-pass  (owner: the gold shop)

  try:
    TOKEN=\$(curl -s -X POST http://$listen/api/v1/auth/login -H 'Content-Type: application/json' \\
      -d '{"tenant":"acme","email":"owner@acme.test","password":"acme-owner-pass"}' | sed 's/.*"token":"\\([^"]*\\)".*/\\1/')
    curl -s -H "Authorization: Bearer \$TOKEN" 'http://$listen/api/v1/tickets?sort=-created_at'

  stop with Ctrl-C
EOT
exec "$bin" serve --data "$data" --listen "$listen"
