#!/usr/bin/env bash
# Applies schema/migrations/NNN_*.sql in order, each in its own transaction,
# recording applied versions in schema_migrations. Usage: migrate.sh <psql args…>
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
export PGOPTIONS="-c client_min_messages=warning"
psql_cmd=(psql -X -q -v ON_ERROR_STOP=1 "$@")

"${psql_cmd[@]}" -c "CREATE TABLE IF NOT EXISTS schema_migrations (
    version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
for f in "$repo"/schema/migrations/[0-9]*.sql; do
    v=$(basename "$f" .sql)
    done_already=$("${psql_cmd[@]}" -tA -c "SELECT 1 FROM schema_migrations WHERE version = '$v'")
    [ "$done_already" = 1 ] && continue
    echo "migrate: applying $v"
    { echo "BEGIN;"; cat "$f"; echo "INSERT INTO schema_migrations (version) VALUES ('$v');"; echo "COMMIT;"; } |
        "${psql_cmd[@]}"
done
