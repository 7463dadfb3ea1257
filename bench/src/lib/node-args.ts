/**
 * How benchmark processes load `@mqtt-agents/*`. By default from the published build (`dist/`, what users
 * install; run `pnpm build` first, `pnpm bench` does). `BENCH_PACKAGES=source` loads the TypeScript sources
 * through tsx instead, as the tests do: no build needed, but tsx's transform wraps every function our code
 * creates in a naming helper, which costs time in the hot paths that the build does not have.
 */
export const PACKAGES: 'dist' | 'source' = process.env.BENCH_PACKAGES === 'source' ? 'source' : 'dist';

/** Node.js arguments for a benchmark process: tsx for the bench's own TypeScript, and the package condition. */
export function nodeArgs(...extra: string[]): string[] {
  return [
    ...(PACKAGES === 'source' ? ['--conditions=@mqtt-agents/source'] : []),
    '--import',
    import.meta.resolve('tsx'),
    ...extra,
  ];
}

/** One line for the report: which form of the packages was measured. */
export function packagesLine(): string {
  return PACKAGES === 'source'
    ? '- Packages: TypeScript sources through tsx (`BENCH_PACKAGES=source`)'
    : '- Packages: the published build (`dist/`, built by `pnpm build`)';
}
