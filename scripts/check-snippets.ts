// Every code block of the docs, checked from files (`pnpm check:snippets`, part of `pnpm lint`): the
// fenced blocks of README.md, docs/*.md, packages/*/README.md and examples/*/README.md are written out as
// files, the ```ts blocks are type-checked against the workspace packages in one TypeScript program, and the
// ```js blocks are parsed as ES modules by the running Node (`node --check`, Node 20 in CI) and type-checked
// as JavaScript in the same program. A doc can no longer drift from the API, nor claim JavaScript that Node 20
// cannot run.
//
// A comment on the line before a fence (blank lines between are allowed) changes how its block is checked:
//   <!-- snippet: skip (why) -->     not checked; the reason is required (a fragment, a type sketch)
//   <!-- snippet: prelude CODE -->   CODE (may span lines) is put before the block, unseen by the reader:
//                                    declarations of what a fragment takes from the text around it
//   <!-- snippet: file PATH -->      the block must equal the file PATH (relative to the repository root),
//                                    which a test runs: the doc shows exactly what is tested
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

interface Snippet {
  /** The markdown file, relative to the root. */
  readonly doc: string;
  /** 1-based line of the first line of code in the markdown file. */
  readonly line: number;
  readonly kind: 'ts' | 'js';
  readonly code: string;
  readonly prelude: string;
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
      if (folder !== 'docs' && entry.isDirectory() && existsSync(join(root, folder, entry.name, 'README.md'))) {
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
  for (let index = 0; index < lines.length; index++) {
    const open = /^(\s*)(`{3,})\s*([\w-]*)(.*)$/.exec(lines[index]!);
    if (!open) continue;
    const [, indent = '', fence = '```', language = ''] = open;
    let close = index + 1;
    while (close < lines.length && !new RegExp(`^\\s*${fence}\\s*$`).test(lines[close]!)) close++;
    const body = lines.slice(index + 1, close).map((line) => (line.startsWith(indent) ? line.slice(indent.length) : line));
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
        if (!/\S/.test(rest)) problems.push({ ...at, message: 'a skipped snippet needs a reason: <!-- snippet: skip (why) -->' });
        continue;
      } else if (verb === 'prelude') prelude = `${rest}\n`;
      else if (verb === 'file') file = rest.trim();
      else problems.push({ ...at, message: `unknown snippet marker '${verb}' (skip, prelude or file)` });
    }
    snippets.push({ ...at, kind, code: `${body.join('\n')}\n`, prelude, file });
  }
  return snippets;
}

function main(): void {
  const problems: Problem[] = [];
  const snippets = markdownFiles().flatMap((doc) => extract(doc, problems));
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });

  const written = new Map<string, { snippet: Snippet; preludeLines: number }>();
  for (const snippet of snippets) {
    if (snippet.file !== undefined) {
      const path = join(root, snippet.file);
      if (!existsSync(path)) {
        problems.push({ ...snippet, message: `the file ${snippet.file} does not exist` });
      } else if (readFileSync(path, 'utf8') !== snippet.code) {
        problems.push({ ...snippet, message: `the block differs from ${snippet.file}: copy the file into the doc` });
      }
    }
    const name = `${snippet.doc.replace(/[/.]/g, '_')}-${snippet.line}.${snippet.kind === 'ts' ? 'mts' : 'mjs'}`;
    const path = join(outDir, name);
    // A trailing `export {}` makes every block a module (top-level await) without changing what it means.
    writeFileSync(path, `${snippet.prelude}${snippet.code}export {};\n`);
    written.set(path, { snippet, preludeLines: snippet.prelude.split('\n').length - 1 });
  }

  // JavaScript must parse in this Node (CI runs Node 20): `await using` is a SyntaxError there.
  for (const [path, { snippet }] of written) {
    if (snippet.kind !== 'js') continue;
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
    },
  });
  for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
    const source = diagnostic.file;
    const entry = source ? written.get(resolve(source.fileName)) : undefined;
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
    if (!source || !entry) {
      // Errors outside the snippets are `pnpm typecheck`'s business, but a broken program is ours.
      if (!source) problems.push({ doc: 'tsconfig.base.json', line: 0, message });
      continue;
    }
    const { line } = source.getLineAndCharacterOfPosition(diagnostic.start ?? 0);
    const docLine =
      line < entry.preludeLines ? entry.snippet.line - 1 : entry.snippet.line + line - entry.preludeLines;
    const where = line < entry.preludeLines ? ' (in its prelude)' : '';
    problems.push({ doc: entry.snippet.doc, line: docLine, message: `TS${diagnostic.code}${where}: ${message}` });
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
