#!/usr/bin/env node
// Usage (after tsup, from a package directory): node ../../scripts/cts-type-imports.mjs <module>...
//
// Our `.d.cts` files are read by TypeScript as CommonJS, and a CommonJS file that imports a module whose
// types are ESM only (jose 6; @a2a-js/sdk, whose exports give one ESM `types` entry for `import` and
// `require`) fails with TS1479 in a consumer's `.cts` / node16 build. Declarations only need the types, so
// each import of such a module becomes `import type ... with { 'resolution-mode': 'import' }` (TypeScript
// 5.3+), which a CommonJS file may use. A class that extends one of those classes gets its base through an
// `import()` type. scripts/fixtures/cts-consumer proves the result (pnpm check:packages).
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const modules = process.argv.slice(2);
if (modules.length === 0) {
  console.error('usage: cts-type-imports.mjs <module>...');
  process.exit(2);
}
const esmOnly = (specifier) => modules.some((name) => specifier === name || specifier.startsWith(`${name}/`));
const ATTRIBUTES = "with { 'resolution-mode': 'import' }";

function* declarationFiles(directory) {
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) yield* declarationFiles(path);
    else if (entry.name.endsWith('.d.cts')) yield path;
  }
}

let changed = 0;
for (const file of declarationFiles('dist')) {
  const source = readFileSync(file, 'utf8');
  // Bases of `declare class X extends Y` that come from a rewritten import: a type-only import is no value,
  // so the class extends a declared constant of the same constructor type instead.
  const bases = new Map();
  let text = source.replace(
    /^(import|export) (type )?\{([^}]*)\} from '([^']+)';$/gm,
    (statement, keyword, _type, names, specifier) => {
      if (!esmOnly(specifier)) return statement;
      changed++;
      if (keyword === 'import') {
        for (const part of names.split(',')) {
          const [imported, local = imported] = part.trim().split(/\s+as\s+/);
          if (imported) bases.set(local.trim(), { imported: imported.trim(), specifier });
        }
        return `import type {${names}} from '${specifier}' ${ATTRIBUTES};`;
      }
      return `export type {${names}} from '${specifier}' ${ATTRIBUTES};`;
    },
  );
  const declaredBases = new Set();
  text = text.replace(/^(declare class \w+(?:<[^>]*>)? extends )(\w+)\b/gm, (head, prefix, base) => {
    const origin = bases.get(base);
    if (!origin) return head;
    declaredBases.add(base);
    return `${prefix}${base}$Base`;
  });
  const declarations = [...declaredBases].map((base) => {
    const { imported, specifier } = bases.get(base);
    return `declare const ${base}$Base: typeof import('${specifier}', { with: { 'resolution-mode': 'import' } }).${imported};\n`;
  });
  if (declarations.length > 0) {
    // After the last import (rollup-plugin-dts puts every import at the top, one per line).
    const lines = text.split('\n');
    const at = lines.findLastIndex((line) => line.startsWith('import ')) + 1;
    lines.splice(at, 0, ...declarations.map((line) => line.trimEnd()));
    text = lines.join('\n');
  }
  if (text !== source) writeFileSync(file, text);
}
console.log(
  `cts-type-imports: ${changed} import(s) of ${modules.join(', ')} made type-only with resolution-mode`,
);
