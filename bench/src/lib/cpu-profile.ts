/**
 * V8 CPU profiles (the format `node --cpu-prof` writes) recorded through node:inspector for exactly the
 * measured window, so start-up and module loading do not drown the hot path. Positions are mapped back to
 * the TypeScript sources through the source maps tsx emits (the process needs `--enable-source-maps`).
 */
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { findSourceMap } from 'node:module';

export interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

export interface CpuProfile {
  nodes: Array<{ id: number; callFrame: CallFrame; children?: number[] }>;
  samples: number[];
  timeDeltas: number[];
}

function mapToSource(profile: CpuProfile): void {
  for (const node of profile.nodes) {
    const frame = node.callFrame;
    if (!frame.url.startsWith('file://')) continue;
    try {
      const entry = findSourceMap(frame.url)?.findEntry(frame.lineNumber, frame.columnNumber);
      if (entry && 'originalLine' in entry) {
        frame.lineNumber = entry.originalLine;
        frame.columnNumber = entry.originalColumn;
        // A bundle (a package's dist/index.js) maps back to one of several sources: name that one.
        if (entry.originalSource) frame.url = new URL(entry.originalSource, frame.url).href;
      }
    } catch {
      // Keep the generated position.
    }
  }
}

/** Start sampling now; the returned function stops, maps positions to sources, and writes `file`. */
export async function startCpuProfile(file: string): Promise<() => Promise<void>> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 500 });
  await session.post('Profiler.start');
  return async () => {
    const { profile } = (await session.post('Profiler.stop')) as unknown as { profile: CpuProfile };
    session.disconnect();
    mapToSource(profile);
    await writeFile(file, JSON.stringify(profile));
  };
}
