// flagd's JS in-process engine (@openfeature/flagd-core) over a flagd file and many
// contexts, for flagctl's differential test. Usage: node run.js FLAGS.json CONTEXTS.jsonl
// Prints one JSON line per context: [[variant, value, reason, errorCode], ...] for the
// flags in file order. The file is first checked against flagd's flag-definition schema,
// which flagd-core compiles in; a file that does not fit it fails the run.
'use strict';
const fs = require('fs');
const readline = require('readline');
const { FlagdCore, MemoryStorage } = require('@openfeature/flagd-core');

const quiet = { error() {}, warn() {}, info() {}, debug() {} };
const [flagsPath, contextsPath] = process.argv.slice(2);
const text = fs.readFileSync(flagsPath, 'utf8');
try {
  new MemoryStorage(quiet).setConfigurations(text, true);
} catch (err) {
  process.stderr.write(`${flagsPath} does not fit flagd's schema: ${err.message}\n`);
  process.exit(3);
}
const core = new FlagdCore(undefined, quiet);
core.setConfigurations(text);
const flags = Object.entries(JSON.parse(text).flags);

/** The typed call an application makes for a flag: by the type of its variants. */
function resolver(definition) {
  const values = Object.values(definition.variants);
  if (values.every((v) => typeof v === 'boolean')) return (k, c) => core.resolveBooleanEvaluation(k, false, c);
  if (values.every((v) => typeof v === 'string')) return (k, c) => core.resolveStringEvaluation(k, '', c);
  if (values.every((v) => typeof v === 'number')) return (k, c) => core.resolveNumberEvaluation(k, 0, c);
  return (k, c) => core.resolveObjectEvaluation(k, {}, c);
}
const resolvers = flags.map(([key, definition]) => [key, resolver(definition)]);

const out = [];
const lines = readline.createInterface({ input: fs.createReadStream(contextsPath) });
lines.on('line', (line) => {
  if (!line.trim()) return;
  const context = JSON.parse(line);
  out.push(JSON.stringify(resolvers.map(([key, resolve]) => {
    let r;
    try {
      r = resolve(key, context);
    } catch (err) {
      return [null, null, 'ERROR', 'GENERAL'];
    }
    const variant = r.variant ?? null;
    return [variant, variant === null ? null : r.value, r.reason, r.errorCode ?? null];
  })));
  if (out.length >= 1000) {
    process.stdout.write(out.join('\n') + '\n');
    out.length = 0;
  }
});
lines.on('close', () => {
  if (out.length) process.stdout.write(out.join('\n') + '\n');
});
