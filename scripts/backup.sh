#!/usr/bin/env bash
# PostgreSQL backups for Physiobook (make backup / make restore; README "Backups").
#
#   scripts/backup.sh backup  DATABASE_URL DIR    -> DIR/physiobook-YYYYMMDDTHHMMSSZ.dump (custom format)
#   scripts/backup.sh restore DATABASE_URL FILE   -> FILE into that database, replacing what it holds
#
# pg_dump's custom format is compressed, restores selectively and in parallel
# (pg_restore -j), and is written from one consistent snapshot while the
# clinic keeps booking. The restore runs in one transaction: all or nothing.
set -euo pipefail

usage() { echo "usage: $0 backup DATABASE_URL DIR | restore DATABASE_URL FILE" >&2; exit 2; }
[ $# -eq 3 ] || usage
action=$1 url=$2 target=$3
case "$url" in postgres://*|postgresql://*) ;; *) echo "backups need a PostgreSQL DATABASE_URL, not '$url'" >&2; exit 2;; esac

case "$action" in
  backup)
    mkdir -p "$target"
    file="$target/physiobook-$(date -u +%Y%m%dT%H%M%SZ).dump"
    pg_dump --format=custom --no-owner --no-privileges --file="$file.partial" --dbname="$url"
    mv "$file.partial" "$file"  # a file with the final name is always complete
    echo "$file"
    ;;
  restore)
    [ -f "$target" ] || { echo "no such backup file: $target" >&2; exit 2; }
    pg_restore --clean --if-exists --no-owner --no-privileges --single-transaction --exit-on-error \
      --dbname="$url" "$target"
    echo "restored $target"
    ;;
  *) usage ;;
esac
