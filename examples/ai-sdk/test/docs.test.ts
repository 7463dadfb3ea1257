// docs/ai-frameworks.md quotes the examples: every `ts` block there must still be the code of one of the
// files it cites (compared line by line, leading indentation ignored), so the doc cannot drift from the
// code that the other tests run.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const doc = readFileSync(resolve(repoRoot, 'docs/ai-frameworks.md'), 'utf8');

const blocks = [...doc.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1] ?? '');
const cited = [
  ...new Set([...doc.matchAll(/\]\(\.\.\/(examples\/[^)]+\.ts)\)/g)].map((match) => match[1] ?? '')),
];

const lines = (text: string): string[] =>
  text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');

function quotedIn(block: string, file: string): boolean {
  const needle = lines(block);
  const haystack = lines(file);
  for (let start = 0; start + needle.length <= haystack.length; start++) {
    if (needle.every((line, index) => haystack[start + index] === line)) return true;
  }
  return false;
}

describe('docs/ai-frameworks.md', () => {
  const sources = cited.map((path) => ({ path, text: readFileSync(resolve(repoRoot, path), 'utf8') }));

  it('cites the example files and quotes code', () => {
    expect(sources.map((source) => source.path)).toEqual(
      expect.arrayContaining([
        'examples/ai-sdk/src/tools-server.ts',
        'examples/ai-sdk/src/mcp-tools.ts',
        'examples/ai-sdk/src/a2a-agent.ts',
        'examples/ai-langchain/src/mcp-tools.ts',
      ]),
    );
    expect(blocks.length).toBeGreaterThanOrEqual(8);
  });

  it.each(blocks.map((block) => [block.split('\n')[0] ?? '', block]))(
    'the block starting %s is the code of a cited example file',
    (_first, block) => {
      expect(
        sources.filter((source) => quotedIn(block, source.text)).map((source) => source.path),
      ).not.toEqual([]);
    },
  );
});
