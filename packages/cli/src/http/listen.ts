import { createServer } from 'node:http';
import type { RequestListener, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { UsageError } from '../io.js';

/** Listen on host:port; resolves with the server and its base url (`http://127.0.0.1:3000`). */
export async function listen(
  handler: RequestListener,
  host: string,
  port: number,
): Promise<{ server: Server; baseUrl: string; close(): Promise<void> }> {
  const server = createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE')
        reject(new UsageError(`port ${port} is already in use (try --port 0)`));
      else if (error.code === 'EADDRNOTAVAIL')
        reject(new UsageError(`cannot listen on '${host}': address not available`));
      else reject(error);
    });
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    server,
    baseUrl: `http://${shownHost}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
