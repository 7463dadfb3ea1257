// The process entry of the `mqtt-agents` command: real stdio, real signals, the exit code of `main`.
import { processIo } from './io.js';
import { main } from './main.js';

void main(process.argv.slice(2), processIo()).then((code) => {
  process.exitCode = code;
  // Everything a command opened is closed by now; a stray handle (a child that ignores SIGTERM, a socket
  // lingering in the OS) must not keep the command alive after it finished.
  setTimeout(() => process.exit(code), 3_000).unref();
});
