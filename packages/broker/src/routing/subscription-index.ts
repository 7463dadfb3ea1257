/**
 * A topic tree mapping topic filters to values (subscriptions, shared groups), matched level by level.
 *
 * Matching a topic name walks at most the literal child, the `+` child and the `#` child of each level,
 * so its cost depends on the topic's depth and the number of matching filters, not on the number of
 * subscriptions. Filters starting with a wildcard never match topic names starting with `$`.
 */

class TopicNode<T> {
  readonly parent: TopicNode<T> | undefined;
  readonly key: string;
  children: Map<string, TopicNode<T>> | undefined = undefined;
  /** The `+` child, kept apart from literal children so matching needs no map lookup for it. */
  plus: TopicNode<T> | undefined = undefined;
  /** The `#` child. */
  hash: TopicNode<T> | undefined = undefined;
  /** The values whose filter ends at this node. */
  values: T[] = [];

  constructor(parent: TopicNode<T> | undefined, key: string) {
    this.parent = parent;
    this.key = key;
  }

  isEmpty(): boolean {
    return (
      this.values.length === 0 && !this.plus && !this.hash && (!this.children || this.children.size === 0)
    );
  }
}

export class SubscriptionIndex<T> {
  private readonly root = new TopicNode<T>(undefined, '');
  private count = 0;

  /** Number of values stored. */
  get size(): number {
    return this.count;
  }

  /** Add a value under a valid topic filter (the same value may be stored under many filters). */
  add(filter: string, value: T): void {
    let node = this.root;
    for (const level of filter.split('/')) {
      let child: TopicNode<T> | undefined;
      if (level === '+') child = node.plus ??= new TopicNode(node, level);
      else if (level === '#') child = node.hash ??= new TopicNode(node, level);
      else {
        node.children ??= new Map();
        child = node.children.get(level);
        if (!child) {
          child = new TopicNode(node, level);
          node.children.set(level, child);
        }
      }
      node = child;
    }
    node.values.push(value);
    this.count++;
  }

  /** Remove one value stored under a filter; returns whether it was there. Empty branches are pruned. */
  remove(filter: string, value: T): boolean {
    const node = this.find(filter);
    if (!node) return false;
    const position = node.values.indexOf(value);
    if (position === -1) return false;
    node.values.splice(position, 1);
    this.count--;
    this.prune(node);
    return true;
  }

  /** The values stored under exactly this filter (not matching it). */
  get(filter: string): readonly T[] {
    return this.find(filter)?.values ?? [];
  }

  /**
   * Collect the value arrays of every filter matching `topic` into `out` (one array per matching
   * filter, never empty ones). The arrays are live: do not modify them.
   */
  match(topic: string, out: T[][]): T[][] {
    const levels = topic.split('/');
    const root = this.root;
    if (topic.charCodeAt(0) === 0x24 /* $ */) {
      // Wildcards in the first level of a filter do not match `$` topics: only walk the literal child.
      const child = root.children?.get(levels[0] as string);
      if (child) collect(child, levels, 1, out);
    } else {
      collect(root, levels, 0, out);
    }
    return out;
  }

  /** Whether any stored filter matches `topic`. */
  hasMatch(topic: string): boolean {
    return this.match(topic, []).length > 0;
  }

  private find(filter: string): TopicNode<T> | undefined {
    let node: TopicNode<T> | undefined = this.root;
    for (const level of filter.split('/')) {
      if (level === '+') node = node.plus;
      else if (level === '#') node = node.hash;
      else node = node.children?.get(level);
      if (!node) return undefined;
    }
    return node;
  }

  private prune(start: TopicNode<T>): void {
    let node = start;
    while (node.parent && node.isEmpty()) {
      const parent: TopicNode<T> = node.parent;
      if (parent.plus === node) parent.plus = undefined;
      else if (parent.hash === node) parent.hash = undefined;
      else {
        parent.children?.delete(node.key);
        if (parent.children?.size === 0) parent.children = undefined;
      }
      node = parent;
    }
  }
}

function collect<T>(node: TopicNode<T>, levels: readonly string[], index: number, out: T[][]): void {
  // `#` matches the parent level and any number of levels below it.
  const hash = node.hash;
  if (hash && hash.values.length > 0) out.push(hash.values);
  if (index === levels.length) {
    if (node.values.length > 0) out.push(node.values);
    return;
  }
  const child = node.children?.get(levels[index] as string);
  if (child) collect(child, levels, index + 1, out);
  if (node.plus) collect(node.plus, levels, index + 1, out);
}
