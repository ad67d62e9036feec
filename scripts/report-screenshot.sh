#!/usr/bin/env bash
# Renders `flagctl report --format html` of a demo repository with half a year of history
# (flags created, rolled out, concluded and archived week by week, read by Python and
# TypeScript code) and takes a screenshot of the page with headless Chromium, offline.
#
#   scripts/report-screenshot.sh [OUT_DIR]     # default: target/report-screenshot
#
# Writes OUT_DIR/report.html and OUT_DIR/report.png. Needs `chromium` (Debian package).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=${1:-target/report-screenshot}
mkdir -p "$out"
out=$(cd "$out" && pwd)
cargo build --release --quiet
flagctl=$root/target/release/flagctl

demo=$(mktemp -d)
profile=$(mktemp -d)
trap 'rm -rf "$demo" "$profile"' EXIT
cd "$demo"
git init -q -b main
git config user.name "Demo"
git config user.email "demo@example.com"
git config commit.gpgsign false

cat > flagctl.toml <<'TOML'
[kinds.experiment]
temporary = true
max_days = 60
[kinds.release]
temporary = true
max_days = 60
[kinds.kill-switch]
review_days = 90
[owners.team-ranking]
contact = "ranking@example.com"
slack = "#ranking"
[owners.team-search]
contact = "search@example.com"
[refs]
paths = ["services"]
[cleanup]
min_age_days = 30
stable_days = 7
TOML

commit() { # commit DATE MESSAGE
    git add -A
    GIT_AUTHOR_DATE="$1T12:00:00+00:00" GIT_COMMITTER_DATE="$1T12:00:00+00:00" git commit -qm "$2"
}
day() { date -u -d "2026-05-25 + $1 days" +%F; }
flag() { # flag SERVICE KEY KIND OWNER CREATED EXPIRES PERCENT
    mkdir -p "flags/$1"
    cat > "flags/$1/$2.toml" <<FLAG
description = "$3 of $2 <b>by $4</b>"
kind = "$3"
owner = "$4"
created = $5
expires = $6
default = "off"

[variants]
off = false
on = true

[[rules]]
name = "rollout"
rollout = [{ variant = "on", weight = $7 }, { variant = "off", weight = $((100 - $7)) }]
FLAG
}

mkdir -p flags/search services/api services/web
cat > flags/search/search-kill-switch.toml <<'FLAG'
description = "Serve the last known good search index"
kind = "kill-switch"
owner = "team-search"
created = 2026-05-25
review_by = 2026-08-20
default = "off"

[variants]
off = false
on = true
FLAG
commit 2026-05-25 "init"

services=(ranking search)
owners=(team-ranking team-search)
for week in $(seq 0 25); do
    d=$(day $((week * 7)))
    for n in 1 2; do
        i=$(( (week + n) % 2 ))
        key="${services[$i]}-exp-$week-$n"
        flag "${services[$i]}" "$key" experiment "${owners[$i]}" "$d" "$(day $((week * 7 + 56)))" 20
    done
    # Week by week: roll out, conclude and archive the flags of earlier weeks.
    for f in flags/*/*-exp-$((week - 3))-*.toml; do
        [ -e "$f" ] && sed -i 's/weight = 20 }, { variant = "off", weight = 80/weight = 100 }, { variant = "off", weight = 0/' "$f"
    done
    for f in flags/*/*-exp-$((week - 5))-1.toml; do
        [ -e "$f" ] && printf '\n[conclusion]\ndate = %s\nwinner = "on"\nremove_by = %s\n' "$d" "$(day $((week * 7 + 30)))" >> "$f"
    done
    if [ $((week % 3)) -ne 0 ]; then
        for f in flags/*/*-exp-$((week - 8))-1.toml; do
            [ -e "$f" ] || continue
            service=$(basename "$(dirname "$f")")
            mkdir -p "flags/_archive/$service"
            printf '\n[archived]\ndate = %s\n' "$d" >> "$f"
            git mv -f "$f" "flags/_archive/$service/" 2>/dev/null || mv "$f" "flags/_archive/$service/"
        done
    fi
    commit "$d" "week $week"
done

cat > services/api/rank.py <<'PY'
from openfeature import api

client = api.get_client()

def rank(user):
    if client.get_boolean_value("ranking-exp-20-2", False, user):
        return "v2"
    return client.get_boolean_value("search-exp-1-1", False, user)
PY
cat > services/web/flags.ts <<'TS'
import { OpenFeature } from "@openfeature/web-sdk";
const client = OpenFeature.getClient();
export const results = client.getBooleanValue("search-exp-15-1", false);
TS
commit 2026-11-20 "services read their flags"

"$flagctl" --as-of 2026-11-25 report --refs --format html > "$out/report.html"
chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
    --disable-component-update --disable-sync --no-first-run --user-data-dir="$profile" \
    --screenshot="$out/report.png" --window-size=1280,2000 "file://$out/report.html" 2>/dev/null
echo "wrote $out/report.html and $out/report.png"
