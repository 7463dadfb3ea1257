/**
 * Start a freshly built resource (a host, a registry, a request/reply engine); when starting fails it is
 * closed again and the error rethrown, so a failed `create...()` leaves nothing open.
 */
export async function startOrClose<
  T extends {
    /** Releases the resource; called when `start` fails. */
    close(): Promise<void>;
  },
>(resource: T, start: (resource: T) => Promise<void>): Promise<T> {
  try {
    await start(resource);
  } catch (error) {
    await resource.close();
    throw error;
  }
  return resource;
}
