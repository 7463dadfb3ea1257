import { MqttAgentsError, abortError } from '@mqtt-agents/core';
import type { McpServerInstance } from '../server/server-presence.js';

/** A server instance came online (or changed its presence) or went offline. */
export interface McpServerChange {
  type: 'online' | 'offline';
  server: McpServerInstance;
}

interface Subscriber {
  push(change: McpServerChange): void;
  end(): void;
}

interface Waiter {
  serverName: string;
  accept: ((instance: McpServerInstance) => boolean) | undefined;
  resolve(instances: McpServerInstance[]): void;
  reject(error: unknown): void;
}

/** @internal The presence a client host has seen: server names, their online instances, and listeners. */
export class ServerDiscovery {
  private readonly byName = new Map<
    string,
    Map<string, { instance: McpServerInstance; fingerprint: string }>
  >();
  private readonly subscribers = new Set<Subscriber>();
  private readonly waiters = new Set<Waiter>();
  private ended = false;

  online(instance: McpServerInstance): void {
    if (this.ended) return;
    const fingerprint = JSON.stringify([instance.description, instance.meta]);
    let instances = this.byName.get(instance.serverName);
    if (!instances) {
      instances = new Map();
      this.byName.set(instance.serverName, instances);
    }
    if (instances.get(instance.serverId)?.fingerprint === fingerprint) return;
    instances.set(instance.serverId, { instance, fingerprint });
    this.emit({ type: 'online', server: instance });
    for (const waiter of [...this.waiters]) {
      if (waiter.serverName !== instance.serverName) continue;
      const accepted = this.accepted(instance.serverName, waiter.accept);
      if (accepted.length === 0) continue;
      this.waiters.delete(waiter);
      waiter.resolve(accepted);
    }
  }

  /** Returns the instance that went offline, if it was known. */
  offline(address: { serverId: string; serverName: string }): McpServerInstance | undefined {
    const instances = this.byName.get(address.serverName);
    const entry = instances?.get(address.serverId);
    if (!instances || !entry) return undefined;
    instances.delete(address.serverId);
    if (instances.size === 0) this.byName.delete(address.serverName);
    this.emit({ type: 'offline', server: entry.instance });
    return entry.instance;
  }

  /** Forget everything (the connection dropped): every known instance goes offline. */
  allOffline(): void {
    for (const instances of [...this.byName.values()]) {
      for (const { instance } of [...instances.values()]) this.offline(instance);
    }
  }

  instancesOf(serverName: string): McpServerInstance[] {
    return [...(this.byName.get(serverName)?.values() ?? [])].map((entry) => entry.instance);
  }

  find(address: { serverId: string; serverName: string }): McpServerInstance | undefined {
    return this.byName.get(address.serverName)?.get(address.serverId)?.instance;
  }

  snapshot(): Map<string, McpServerInstance[]> {
    return new Map([...this.byName.keys()].map((name) => [name, this.instancesOf(name)]));
  }

  /** Wait until at least one instance of `serverName` (that `accept` takes, when given) is online. */
  waitFor(
    serverName: string,
    options: {
      signal?: AbortSignal | undefined;
      timeoutMs: number;
      accept?: ((instance: McpServerInstance) => boolean) | undefined;
    },
  ): Promise<McpServerInstance[]> {
    const known = this.accepted(serverName, options.accept);
    if (known.length > 0) return Promise.resolve(known);
    if (this.ended) return Promise.reject(new MqttAgentsError('CLOSED', 'the mcp client host is closed'));
    const { signal, timeoutMs } = options;
    if (signal?.aborted) return Promise.reject(abortError(signal, `waiting for server '${serverName}'`));
    return new Promise((resolve, reject) => {
      const cleanup = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.waiters.delete(waiter);
      };
      const waiter: Waiter = {
        serverName,
        accept: options.accept,
        resolve: (instances) => {
          cleanup();
          resolve(instances);
        },
        reject: (error) => {
          cleanup();
          reject(error);
        },
      };
      const onAbort = (): void =>
        waiter.reject(abortError(signal as AbortSignal, `waiting for server '${serverName}'`));
      const timer = setTimeout(
        () =>
          waiter.reject(
            new MqttAgentsError(
              'REQUEST_TIMEOUT',
              `no instance of server '${serverName}' came online within ${timeoutMs} ms`,
              {
                details: { serverName, timeoutMs },
              },
            ),
          ),
        timeoutMs,
      );
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.add(waiter);
    });
  }

  /**
   * Every change from now on, starting with an `online` change for each instance already known. Ends when
   * the host closes or the signal aborts.
   */
  changes(signal?: AbortSignal): AsyncIterableIterator<McpServerChange> {
    const queue: McpServerChange[] = [];
    let wake: (() => void) | undefined;
    let done = this.ended || signal?.aborted === true;
    const subscriber: Subscriber = {
      push: (change) => {
        queue.push(change);
        wake?.();
      },
      end: () => {
        done = true;
        wake?.();
      },
    };
    for (const instances of this.byName.values()) {
      for (const { instance } of instances.values()) queue.push({ type: 'online', server: instance });
    }
    const onAbort = (): void => finish();
    const finish = (): void => {
      this.subscribers.delete(subscriber);
      signal?.removeEventListener('abort', onAbort);
      subscriber.end();
    };
    if (!done) {
      this.subscribers.add(subscriber);
      signal?.addEventListener('abort', onAbort, { once: true });
    }
    const iterator: AsyncIterableIterator<McpServerChange> = {
      next: async () => {
        for (;;) {
          const change = queue.shift();
          if (change) return { value: change, done: false };
          if (done) return { value: undefined, done: true };
          await new Promise<void>((resolve) => (wake = resolve));
          wake = undefined;
        }
      },
      return: async () => {
        finish();
        queue.length = 0;
        return { value: undefined, done: true };
      },
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    for (const subscriber of [...this.subscribers]) subscriber.end();
    this.subscribers.clear();
    for (const waiter of [...this.waiters])
      waiter.reject(new MqttAgentsError('CLOSED', 'the mcp client host is closed'));
  }

  private accepted(
    serverName: string,
    accept: ((instance: McpServerInstance) => boolean) | undefined,
  ): McpServerInstance[] {
    const instances = this.instancesOf(serverName);
    return accept ? instances.filter(accept) : instances;
  }

  private emit(change: McpServerChange): void {
    for (const subscriber of this.subscribers) subscriber.push(change);
  }
}
