// Every code block of the docs, checked from files (`pnpm check:snippets`, part of `pnpm lint`): the
// fenced blocks of README.md, docs/*.md, packages/*/README.md and examples/*/README.md are written out as
// files, the ```ts blocks are type-checked against the workspace packages in one TypeScript program, and the
// ```js blocks are parsed as ES modules by the running Node (`node --check`, Node 20 in CI) and checked in the
// same program against the API (names, modules, exports and properties must exist). A doc can no longer
// drift from the API, nor claim JavaScript that Node 20 cannot run.
//
// A comment on the line before a fence (blank lines between are allowed) changes how its block is checked:
//   <!-- snippet: skip (why) -->     not checked; the reason is required (a fragment, a type sketch)
//   <!-- snippet: prelude CODE -->   CODE (may span lines) is put before the block, unseen by the reader:
//                                    declarations of what a fragment takes from the text around it
//   <!-- snippet: file PATH -->      the block must equal the file PATH (relative to the repository root),
//                                    which a test runs: the doc shows exactly what is tested
//   <!-- snippets: prelude CODE -->  (anywhere in a doc) CODE is put before every later block of the doc that
//                                    has no import of its own (a fragment); the fragment is wrapped in a
//                                    block statement, so it may declare names the prelude declares too
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
// Inside node_modules: ignored by git, eslint and prettier, and the workspace packages resolve from here.
const outDir = join(root, 'node_modules', '.cache', 'snippets');

const CHECKED = new Map([
  ['ts', 'ts'],
  ['typescript', 'ts'],
  ['js', 'js'],
  ['javascript', 'js'],
  ['mjs', 'js'],
]);

/**
 * The diagnostics that hold for JavaScript blocks: cannot find name (2304, 2552), module (2307), exported
 * member (2305, 2724), property (2339, 2551); wrong number of arguments (2554).
 */
const JS_CHECKS = new Set([2304, 2305, 2307, 2339, 2551, 2552, 2554, 2724]);

interface Snippet {
  /** The markdown file, relative to the root. */
  readonly doc: string;
  /** 1-based line of the first line of code in the markdown file. */
  readonly line: number;
  readonly kind: 'ts' | 'js';
  /** The block as the reader sees it. */
  readonly code: string;
  /** The file that is checked, and for each of its lines the doc's line (undefined: hidden code). */
  readonly checked: { readonly text: string; readonly lines: readonly (number | undefined)[] };
  readonly file: string | undefined;
}

interface Problem {
  readonly doc: string;
  readonly line: number;
  readonly message: string;
}

function markdownFiles(): string[] {
  const files = ['README.md'];
  for (const folder of ['docs', 'packages', 'examples']) {
    for (const entry of readdirSync(join(root, folder), { withFileTypes: true })) {
      if (folder === 'docs' && entry.isFile() && entry.name.endsWith('.md')) files.push(`docs/${entry.name}`);
      if (
        folder !== 'docs' &&
        entry.isDirectory() &&
        existsSync(join(root, folder, entry.name, 'README.md'))
      ) {
        files.push(`${folder}/${entry.name}/README.md`);
      }
    }
  }
  return files;
}

/** The `<!-- snippet: ... -->` comment that ends right before line `index` (blank lines skipped). */
function markerBefore(lines: readonly string[], index: number): string | undefined {
  let end = index - 1;
  while (end >= 0 && lines[end]!.trim() === '') end--;
  if (end < 0 || !lines[end]!.trimEnd().endsWith('-->')) return undefined;
  let start = end;
  while (start >= 0 && !lines[start]!.includes('<!--')) start--;
  if (start < 0) return undefined;
  const comment = lines
    .slice(start, end + 1)
    .join('\n')
    .trim();
  const match = /^<!--\s*snippet:\s*([\s\S]*?)\s*-->$/.exec(comment);
  return match?.[1];
}

function extract(doc: string, problems: Problem[]): Snippet[] {
  const lines = readFileSync(join(root, doc), 'utf8').split('\n');
  const snippets: Snippet[] = [];
  let docPrelude = '';
  for (let index = 0; index < lines.length; index++) {
    if (/^<!--\s*snippets:/.test(lines[index]!)) {
      let end = index;
      while (end < lines.length && !lines[end]!.includes('-->')) end++;
      const comment = lines.slice(index, end + 1).join('\n');
      const shared = /^<!--\s*snippets:\s*prelude\b([\s\S]*?)-->/.exec(comment);
      if (shared) docPrelude += `${shared[1]!.trim()}\n`;
      else
        problems.push({ doc, line: index + 1, message: 'unknown marker: <!-- snippets: prelude CODE -->' });
      index = end;
      continue;
    }
    const open = /^(\s*)(`{3,})\s*([\w-]*)(.*)$/.exec(lines[index]!);
    if (!open) continue;
    const [, indent = '', fence = '```', language = ''] = open;
    let close = index + 1;
    while (close < lines.length && !new RegExp(`^\\s*${fence}\\s*$`).test(lines[close]!)) close++;
    const body = lines
      .slice(index + 1, close)
      .map((line) => (line.startsWith(indent) ? line.slice(indent.length) : line));
    const kind = CHECKED.get(language.toLowerCase()) as 'ts' | 'js' | undefined;
    const marker = markerBefore(lines, index);
    const at = { doc, line: index + 2 };
    index = close;
    if (kind === undefined) continue;
    let prelude = '';
    let file: string | undefined;
    if (marker !== undefined) {
      const [, verb = '', rest = ''] = /^(\w+)\s*([\s\S]*)$/.exec(marker) ?? [];
      if (verb === 'skip') {
        if (!/\S/.test(rest))
          problems.push({ ...at, message: 'a skipped snippet needs a reason: <!-- snippet: skip (why) -->' });
        continue;
      } else if (verb === 'prelude') prelude = `${rest}\n`;
      else if (verb === 'file') file = rest.trim();
      else problems.push({ ...at, message: `unknown snippet marker '${verb}' (skip, prelude or file)` });
    }
    const code = `${body.join('\n')}\n`;
    snippets.push({ ...at, kind, code, checked: assemble(kind, body, at.line, docPrelude, prelude), file });
  }
  return snippets;
}

/** The local names an import declaration binds. */
function importedNames(statement: ts.ImportDeclaration): string[] {
  const clause = statement.importClause;
  if (!clause) return [];
  const names = clause.name ? [clause.name.text] : [];
  const bindings = clause.namedBindings;
  if (bindings && ts.isNamespaceImport(bindings)) names.push(bindings.name.text);
  if (bindings && ts.isNamedImports(bindings))
    names.push(...bindings.elements.map((element) => element.name.text));
  return names;
}

/**
 * The file to check for a block: its own prelude first; for TypeScript under a doc prelude, the block's
 * imports are hoisted above the doc prelude (whose imports of the same names are dropped) and the rest of the
 * block runs in a block statement, where it may redeclare what the prelude declares.
 */
function assemble(
  kind: 'ts' | 'js',
  body: readonly string[],
  firstLine: number,
  docPrelude: string,
  prelude: string,
): Snippet['checked'] {
  const out: { text: string; line: number | undefined }[] = [];
  const hidden = (text: string) => {
    for (const line of text.replace(/\n$/, '').split('\n'))
      if (text !== '') out.push({ text: line, line: undefined });
  };
  const shown = body.map((text, index) => ({ text, line: (firstLine + index) as number | undefined }));
  if (kind === 'js' || docPrelude === '') {
    hidden(prelude);
    out.push(...shown);
  } else {
    const source = ts.createSourceFile('block.mts', body.join('\n'), ts.ScriptTarget.Latest, true);
    const own = new Set<string>();
    const hoisted: typeof out = [];
    for (const statement of source.statements) {
      if (!ts.isImportDeclaration(statement)) continue;
      importedNames(statement).forEach((name) => own.add(name));
      const from = source.getLineAndCharacterOfPosition(statement.getStart()).line;
      const to = source.getLineAndCharacterOfPosition(statement.getEnd()).line;
      for (let index = from; index <= to; index++) {
        hoisted.push({ ...shown[index]! });
        shown[index] = { text: '', line: undefined };
      }
    }
    const shared = ts.createSourceFile('prelude.mts', docPrelude, ts.ScriptTarget.Latest, true);
    const kept = shared.statements
      .filter(
        (statement) =>
          !ts.isImportDeclaration(statement) || !importedNames(statement).some((name) => own.has(name)),
      )
      .map((statement) => statement.getFullText(shared))
      .join('');
    out.push(...hoisted);
    hidden(kept);
    hidden(prelude);
    out.push({ text: '{', line: undefined }, ...shown, { text: '}', line: undefined });
  }
  // A trailing `export {}` makes every block a module (top-level await) without changing what it means.
  out.push({ text: 'export {};', line: undefined });
  return { text: `${out.map((entry) => entry.text).join('\n')}\n`, lines: out.map((entry) => entry.line) };
}

function main(): void {
  const problems: Problem[] = [];
  const snippets = markdownFiles().flatMap((doc) => extract(doc, problems));
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });

  const written = new Map<string, Snippet>();
  for (const snippet of snippets) {
    if (snippet.file !== undefined) {
      const path = join(root, snippet.file);
      if (!existsSync(path)) {
        problems.push({ ...snippet, message: `the file ${snippet.file} does not exist` });
      } else if (readFileSync(path, 'utf8') !== snippet.code) {
        problems.push({
          ...snippet,
          message: `the block differs from ${snippet.file}: copy the file into the doc`,
        });
      }
    }
    const name = `${snippet.doc.replace(/[/.]/g, '_')}-${snippet.line}.${snippet.kind === 'ts' ? 'mts' : 'mjs'}`;
    const path = join(outDir, name);
    writeFileSync(path, snippet.checked.text);
    written.set(path, snippet);
  }

  // JavaScript must parse in this Node (CI runs Node 20): `await using` is a SyntaxError there.
  for (const snippet of snippets) {
    if (snippet.kind !== 'js') continue;
    const path = join(outDir, `${snippet.doc.replace(/[/.]/g, '_')}-${snippet.line}.as-written.mjs`);
    writeFileSync(path, snippet.code);
    try {
      execFileSync(process.execPath, ['--check', path], { stdio: 'pipe' });
    } catch (error) {
      const stderr = String((error as { stderr?: unknown }).stderr ?? error);
      const detail = /^(\w*Error: .*)$/m.exec(stderr)?.[1] ?? stderr.trim();
      problems.push({ ...snippet, message: `node ${process.version} cannot parse it: ${detail}` });
    }
  }

  const config = ts.readConfigFile(join(root, 'tsconfig.base.json'), (path) => ts.sys.readFile(path));
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, root);
  const program = ts.createProgram({
    rootNames: [...written.keys()],
    options: {
      ...parsed.options,
      noEmit: true,
      declaration: false,
      sourceMap: false,
      allowJs: true,
      checkJs: true,
      moduleDetection: ts.ModuleDetectionKind.Force,
      // What the docs import from the packages' own dependencies (the root does not depend on them).
      paths: { jose: ['./packages/a2a/node_modules/jose/dist/types/index.d.ts'] },
      pathsBasePath: root,
    },
  });
  for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
    const source = diagnostic.file;
    const snippet = source ? written.get(resolve(source.fileName)) : undefined;
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
    if (!source || !snippet) {
      // Errors outside the snippets are `pnpm typecheck`'s business, but a broken program is ours.
      if (!source) problems.push({ doc: 'tsconfig.base.json', line: 0, message });
      continue;
    }
    // JavaScript has no annotations to narrow what TypeScript infers (`{ $case: 'text' }` is a string there),
    // so its blocks are held only to the API: names, modules, exports and properties that must exist.
    if (snippet.kind === 'js' && !JS_CHECKS.has(diagnostic.code)) continue;
    const { line } = source.getLineAndCharacterOfPosition(diagnostic.start ?? 0);
    const docLine = snippet.checked.lines[line];
    const where = docLine === undefined ? ' (in its hidden prelude)' : '';
    problems.push({
      doc: snippet.doc,
      line: docLine ?? snippet.line - 1,
      message: `TS${diagnostic.code}${where}: ${message}`,
    });
  }

  const counts = { ts: 0, js: 0 };
  for (const snippet of snippets) counts[snippet.kind]++;
  for (const problem of problems) {
    process.stderr.write(`${problem.doc}:${problem.line}: ${problem.message}\n`);
  }
  const summary = `${counts.ts} TypeScript and ${counts.js} JavaScript snippets in ${new Set(snippets.map((s) => s.doc)).size} docs`;
  if (problems.length > 0) {
    process.stderr.write(`check-snippets: ${problems.length} problem(s) in ${summary}\n`);
    process.exitCode = 1;
  } else {
    process.stdout.write(`check-snippets: ${summary}, all good (${relative(root, outDir)})\n`);
  }
}

main();
