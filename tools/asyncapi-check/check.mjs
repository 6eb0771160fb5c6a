#!/usr/bin/env node
// Parses AsyncAPI documents with the official parser; prints `ok <path>` or one line per error
// (`error <path>: <code> <message> at <json path>`) and exits 1 when any document has an error.
import { readFileSync } from 'node:fs';
import { Parser, DiagnosticSeverity } from '@asyncapi/parser';

const parser = new Parser();
let failed = false;
for (const path of process.argv.slice(2)) {
  const { document, diagnostics } = await parser.parse(readFileSync(path, 'utf8'));
  const errors = diagnostics.filter((d) => d.severity === DiagnosticSeverity.Error);
  if (document && errors.length === 0) {
    console.log(`ok ${path}`);
    continue;
  }
  failed = true;
  for (const d of errors) console.log(`error ${path}: ${d.code} ${d.message} at ${d.path.join('/')}`);
  if (!document && errors.length === 0) console.log(`error ${path}: refused`);
}
process.exit(failed ? 1 : 0);
