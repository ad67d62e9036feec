#!/usr/bin/env bash
# Fills fuzz/corpus/<target>/ (ignored by git) with starting inputs: the checked-in seeds,
# every example flag and template of the repository, and the flag definitions of the flagd
# conformance suite (one file per flag, with the shared $evaluators) when it is found.
#
#   fuzz/make-corpus.sh [FLAGD_SUITE_DIR]   (default: ../shared/conformance/flagd-evaluator
#                                            beside the repository)
set -euo pipefail
fuzz="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$fuzz")"
suite="${1:-$(dirname "$root")/shared/conformance/flagd-evaluator}"

for target in flag_file config flagd context checks; do
    mkdir -p "$fuzz/corpus/$target"
    cp "$fuzz/seeds/$target/"* "$fuzz/corpus/$target/"
done

n=0
while IFS= read -r -d '' file; do
    n=$((n + 1))
    cp "$file" "$fuzz/corpus/flag_file/example-$n.toml"
done < <(find "$root/flags" "$root/templates" -name '*.toml' -print0)
cp "$root/flagctl.toml" "$fuzz/corpus/config/flagctl.toml"

# The whole example repository as one `checks` input.
{
    cat "$root/flagctl.toml"
    (cd "$root" && find flags -name '*.toml' | sort) | while IFS= read -r path; do
        printf '#@ %s\n' "$path"
        cat "$root/$path"
    done
} > "$fuzz/corpus/checks/example-repository.toml"

if [ -d "$suite/flags" ]; then
    python3 - "$suite/flags" "$fuzz/corpus/flagd" <<'PY'
import json, pathlib, sys
source, target = map(pathlib.Path, sys.argv[1:])
contexts = [{}, {"targetingKey": "user-1", "email": "ballmer@macrosoft.com", "age": 40,
                 "version": "2.1.0", "color": "yellow", "locale": "us"}]
for path in sorted(source.glob("*.json")):
    document = json.loads(path.read_text())
    for index, (key, flag) in enumerate(document.get("flags", {}).items()):
        one = {"flags": {key: flag}, "context": contexts[index % len(contexts)]}
        if "$evaluators" in document:
            one["$evaluators"] = document["$evaluators"]
        (target / f"{path.stem}-{key}.json").write_text(json.dumps(one, indent=1))
PY
else
    echo "no flagd suite at $suite: the flagd corpus holds the seeds only" >&2
fi
for target in flag_file config flagd context checks; do
    echo "$target: $(ls "$fuzz/corpus/$target" | wc -l) inputs"
done
