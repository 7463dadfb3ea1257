/**
 * Retained messages: one per topic name, found by topic filter through a tree of topic levels so that a
 * wildcard subscription visits only the branches its filter can match.
 */

interface RetainedNode<T> {
  readonly parent: RetainedNode<T> | undefined;
  readonly key: string;
  children: Map<string, RetainedNode<T>> | undefined;
  message: T | undefined;
}

function createNode<T>(parent: RetainedNode<T> | undefined, key: string): RetainedNode<T> {
  return { parent, key, children: undefined, message: undefined };
}

/** What the store needs to know about a message. */
export interface Expirable {
  /** Epoch milliseconds after which the message is dropped; 0 for never. */
  readonly expiresAt: number;
}

export class RetainedStore<T extends Expirable> {
  private readonly root: RetainedNode<T> = createNode<T>(undefined, '');
  private readonly byTopic = new Map<string, RetainedNode<T>>();
  private totalBytes = 0;

  /** `sizeOf` gives the bytes a message counts for `bytes` (default 0: only the count is kept). */
  constructor(private readonly sizeOf: (message: T) => number = () => 0) {}

  get size(): number {
    return this.byTopic.size;
  }

  /** Bytes of all retained messages, as `sizeOf` counts them. */
  get bytes(): number {
    return this.totalBytes;
  }

  /** Bytes of the message retained on a topic (expired or not), or undefined when there is none. */
  bytesOf(topic: string): number | undefined {
    const message = this.byTopic.get(topic)?.message;
    return message === undefined ? undefined : this.sizeOf(message);
  }

  /** Store (replace) the retained message of a topic. */
  set(topic: string, message: T): void {
    let node = this.byTopic.get(topic);
    if (!node) {
      node = this.root;
      for (const level of topic.split('/')) {
        node.children ??= new Map();
        let child = node.children.get(level);
        if (!child) {
          child = createNode(node, level);
          node.children.set(level, child);
        }
        node = child;
      }
      this.byTopic.set(topic, node);
    }
    if (node.message !== undefined) this.totalBytes -= this.sizeOf(node.message);
    node.message = message;
    this.totalBytes += this.sizeOf(message);
  }

  /** Clear the retained message of a topic; returns whether there was one. */
  delete(topic: string): boolean {
    const node = this.byTopic.get(topic);
    if (!node) return false;
    this.byTopic.delete(topic);
    if (node.message !== undefined) this.totalBytes -= this.sizeOf(node.message);
    node.message = undefined;
    let current: RetainedNode<T> = node;
    while (
      current.parent &&
      current.message === undefined &&
      (!current.children || current.children.size === 0)
    ) {
      current.parent.children?.delete(current.key);
      current = current.parent;
    }
    return true;
  }

  /** The retained message of one topic name, unless it has expired. */
  get(topic: string, now = Date.now()): T | undefined {
    const message = this.byTopic.get(topic)?.message;
    if (message && message.expiresAt !== 0 && message.expiresAt <= now) {
      this.delete(topic);
      return undefined;
    }
    return message;
  }

  /** Topic names that have a retained message. */
  topics(): IterableIterator<string> {
    return this.byTopic.keys();
  }

  /**
   * The retained messages whose topic matches a valid (non-shared) topic filter, skipping and removing
   * expired ones. Wildcards in the first filter level do not match topics starting with `$`.
   */
  match(filter: string, now = Date.now()): T[] {
    const found: Array<[string, T]> = [];
    if (!filter.includes('+') && !filter.includes('#')) {
      const message = this.get(filter, now);
      return message ? [message] : [];
    }
    walk(this.root, filter.split('/'), 0, [], found);
    const result: T[] = [];
    for (const [topic, message] of found) {
      if (message.expiresAt !== 0 && message.expiresAt <= now) this.delete(topic);
      else result.push(message);
    }
    return result;
  }

  clear(): void {
    this.byTopic.clear();
    this.root.children = undefined;
    this.totalBytes = 0;
  }
}

function walk<T>(
  node: RetainedNode<T>,
  filter: readonly string[],
  index: number,
  path: string[],
  found: Array<[string, T]>,
): void {
  if (index === filter.length) {
    if (node.message !== undefined) found.push([path.join('/'), node.message]);
    return;
  }
  const level = filter[index] as string;
  const atRoot = index === 0;
  if (level === '#') {
    // `a/#` matches `a` itself and everything below it.
    if (!atRoot && node.message !== undefined) found.push([path.join('/'), node.message]);
    collectAll(node, path, found, atRoot);
    return;
  }
  if (!node.children) return;
  if (level === '+') {
    for (const [key, child] of node.children) {
      if (atRoot && key.charCodeAt(0) === 0x24 /* $ */) continue;
      path.push(key);
      walk(child, filter, index + 1, path, found);
      path.pop();
    }
    return;
  }
  const child = node.children.get(level);
  if (child) {
    path.push(level);
    walk(child, filter, index + 1, path, found);
    path.pop();
  }
}

function collectAll<T>(
  node: RetainedNode<T>,
  path: string[],
  found: Array<[string, T]>,
  atRoot: boolean,
): void {
  if (!node.children) return;
  for (const [key, child] of node.children) {
    if (atRoot && key.charCodeAt(0) === 0x24 /* $ */) continue;
    path.push(key);
    if (child.message !== undefined) found.push([path.join('/'), child.message]);
    collectAll(child, path, found, false);
    path.pop();
  }
}
