// flagd's JS in-process engine (@openfeature/flagd-core) over a JSON Lines file of
// contexts, as the other side of flagctl's batch evaluation benchmark (benches/batch.rs).
// Usage:
//   node bench.js simulate FLAGS.json CONTEXTS.jsonl KEY   counts the variants KEY serves
//   node bench.js all FLAGS.json CONTEXTS.jsonl            one JSON line per context and flag
// It reads the file whole and parses each line into an object, as an application would,
// and resolves with the typed call an application makes for the flag's variants.
'use strict';
const fs = require('fs');
const { FlagdCore } = require('@openfeature/flagd-core');

const quiet = { error() {}, warn() {}, info() {}, debug() {} };
const [mode, flagsPath, contextsPath, only] = process.argv.slice(2);
const text = fs.readFileSync(flagsPath, 'utf8');
const core = new FlagdCore(undefined, quiet);
core.setConfigurations(text);
const definitions = JSON.parse(text).flags;

function resolver(definition) {
  const values = Object.values(definition.variants);
  if (values.every((v) => typeof v === 'boolean')) return (k, c) => core.resolveBooleanEvaluation(k, false, c);
  if (values.every((v) => typeof v === 'string')) return (k, c) => core.resolveStringEvaluation(k, '', c);
  if (values.every((v) => typeof v === 'number')) return (k, c) => core.resolveNumberEvaluation(k, 0, c);
  return (k, c) => core.resolveObjectEvaluation(k, {}, c);
}
const keys = mode === 'simulate' ? [only] : Object.keys(definitions).sort();
const resolvers = keys.map((key) => [key, resolver(definitions[key])]);

const lines = fs.readFileSync(contextsPath, 'utf8').split('\n');
const counts = {};
let out = [];
for (let index = 0; index < lines.length; index++) {
  const line = lines[index];
  if (!line.trim()) continue;
  const context = JSON.parse(line);
  for (const [key, resolve] of resolvers) {
    const r = resolve(key, context);
    if (mode === 'simulate') {
      const variant = r.variant ?? null;
      counts[variant] = (counts[variant] || 0) + 1;
    } else {
      out.push(JSON.stringify({ line: index + 1, flag: key, variant: r.variant ?? null, value: r.variant === undefined ? null : r.value, reason: r.reason }));
      if (out.length >= 4096) {
        fs.writeSync(1, out.join('\n') + '\n');
        out = [];
      }
    }
  }
}
if (mode === 'simulate') process.stdout.write(JSON.stringify(counts) + '\n');
else if (out.length) fs.writeSync(1, out.join('\n') + '\n');
