// The entry points' promise, checked on the source (no build): the main entry reaches no MCP SDK at all,
// and each per-major entry reaches its own major's packages only, and those for types only, so neither a
// bundle nor a `.d.ts` of an entry references a peer its user did not install.
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const packageJson = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as {
  name: string;
  exports: Record<string, string | Record<string, unknown>>;
};

/** Every entry point and the SDK packages its import graph may reach. */
const ENTRIES: Record<string, { source: string; sdkPackages: string[] }> = {
  '.': { source: 'src/index.ts', sdkPackages: [] },
  './sdk-v1': { source: 'src/sdk-v1.ts', sdkPackages: ['@modelcontextprotocol/sdk'] },
  './sdk-v2/client': { source: 'src/sdk-v2/client.ts', sdkPackages: ['@modelcontextprotocol/client'] },
  './sdk-v2/server': { source: 'src/sdk-v2/server.ts', sdkPackages: ['@modelcontextprotocol/server'] },
};

interface ImportEdge {
  from: string;
  specifier: string;
  typeOnly: boolean;
}

/** The module specifiers one file imports or re-exports (static, dynamic and `import()` types). */
function importsOf(file: string): ImportEdge[] {
  const text = readFileSync(file, 'utf8');
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const edges: ImportEdge[] = [];
  const from = relative(packageRoot, file);
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const typeOnly =
        clause !== undefined &&
        (clause.isTypeOnly ||
          (clause.name === undefined &&
            clause.namedBindings !== undefined &&
            ts.isNamedImports(clause.namedBindings) &&
            clause.namedBindings.elements.length > 0 &&
            clause.namedBindings.elements.every((element) => element.isTypeOnly)));
      edges.push({ from, specifier: node.moduleSpecifier.text, typeOnly });
    } else if (
      ts.isExportDeclaration(node) &&
      node.moduleSpecifier !== undefined &&
      ts.isStringLiteral(node.moduleSpecifier)
    ) {
      edges.push({ from, specifier: node.moduleSpecifier.text, typeOnly: node.isTypeOnly });
    } else if (
      ts.isCallExpression(node) &&
      (node.expression.kind === ts.SyntaxKind.ImportKeyword ||
        (ts.isIdentifier(node.expression) && node.expression.text === 'require')) &&
      node.arguments[0] !== undefined &&
      ts.isStringLiteral(node.arguments[0])
    ) {
      edges.push({ from, specifier: node.arguments[0].text, typeOnly: false });
    } else if (
      ts.isImportTypeNode(node) &&
      ts.isLiteralTypeNode(node.argument) &&
      ts.isStringLiteral(node.argument.literal)
    ) {
      edges.push({ from, specifier: node.argument.literal.text, typeOnly: true });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return edges;
}

/** The source file of one of this package's own modules, or undefined for another package. */
function ownModule(fromFile: string, specifier: string): string | undefined {
  if (specifier.startsWith('.')) return resolve(dirname(fromFile), specifier.replace(/\.js$/, '.ts'));
  if (specifier === packageJson.name || specifier.startsWith(`${packageJson.name}/`)) {
    const subpath = `.${specifier.slice(packageJson.name.length)}`;
    const entry = ENTRIES[subpath];
    if (!entry) throw new Error(`${specifier}: not an entry point of ${packageJson.name}`);
    return join(packageRoot, entry.source);
  }
  return undefined;
}

/** Every import of another package anywhere in the graph reachable from `entry`. */
function externalImports(entry: string): ImportEdge[] {
  const seen = new Set<string>();
  const external: ImportEdge[] = [];
  const pending = [join(packageRoot, entry)];
  for (let file = pending.pop(); file !== undefined; file = pending.pop()) {
    if (seen.has(file)) continue;
    seen.add(file);
    for (const edge of importsOf(file)) {
      const own = ownModule(file, edge.specifier);
      if (own === undefined) external.push(edge);
      else pending.push(own);
    }
  }
  return external;
}

function sdkPackageOf(specifier: string): string | undefined {
  const match = /^@modelcontextprotocol\/[^/]+/.exec(specifier);
  return match?.[0];
}

describe('entry points and the MCP SDK majors they reach', () => {
  it('every entry point of package.json is checked here (and only those)', () => {
    const exported = Object.entries(packageJson.exports)
      .filter(([subpath]) => subpath !== './package.json')
      .map(([subpath, conditions]) => [
        subpath,
        (conditions as Record<string, unknown>)['@mqtt-agents/source'],
      ]);
    expect(Object.fromEntries(exported)).toEqual(
      Object.fromEntries(Object.entries(ENTRIES).map(([subpath, entry]) => [subpath, `./${entry.source}`])),
    );
  });

  for (const [subpath, entry] of Object.entries(ENTRIES)) {
    it(`'${subpath}' reaches ${entry.sdkPackages.length === 0 ? 'no MCP SDK' : entry.sdkPackages.join(', ')}, for types only`, () => {
      const sdkImports = externalImports(entry.source).filter((edge) => sdkPackageOf(edge.specifier));
      const reached = [...new Set(sdkImports.map((edge) => sdkPackageOf(edge.specifier)))].sort();
      // The scan must see the SDK imports that are there: an entry with a major reaches it.
      expect(reached).toEqual([...entry.sdkPackages].sort());
      expect(sdkImports.filter((edge) => !edge.typeOnly)).toEqual([]);
    });
  }

  it('the scan follows relative imports and the package name to other packages', () => {
    const v1 = externalImports('src/sdk-v1.ts').map((edge) => edge.specifier);
    // @mqtt-agents/core comes in through caller-identity.ts and the main entry (by the package's own name).
    expect(v1).toContain('@mqtt-agents/core');
    expect(importsOf(join(packageRoot, 'src/entry-points.test.ts')).map((edge) => edge.specifier)).toEqual(
      expect.arrayContaining(['node:fs', 'typescript', 'vitest']),
    );
  });
});
