import type { HandlerContext } from './context.js';

/** PINGREQ: answer PINGRESP (the read itself already counted as keep-alive activity). */
export function handlePingreq(context: HandlerContext): void {
  context.writer.writePingresp();
}
