#!/usr/bin/env node
// A stdio "MCP server" that works on its first run only (the start check of `mcp serve`); later runs, as
// the second argument says: `garbage` prints a line that is not JSON-RPC and stays, `exit` exits at once.
import { readFileSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

const [counterFile, later] = process.argv.slice(2);
let runs = 0;
try {
  runs = Number(readFileSync(counterFile, 'utf8'));
} catch {
  // first run
}
writeFileSync(counterFile, String(runs + 1));

if (runs === 0) {
  createInterface({ input: process.stdin }).on('line', (line) => {
    const message = JSON.parse(line);
    if (message.method !== 'initialize') return;
    const result = {
      protocolVersion: message.params.protocolVersion,
      capabilities: {},
      serverInfo: { name: 'flaky', version: '1.0.0' },
    };
    process.stdout.write(`${JSON.stringify({ jsonrpc: '2.0', id: message.id, result })}\n`);
  });
} else if (later === 'garbage') {
  process.stdout.write('Starting flaky server v1 on stdout, where it must not\n');
  setInterval(() => {}, 60_000);
} else {
  process.stderr.write('flaky: cannot open its database\n');
  process.exit(3);
}
