// Small DOM helpers. Text always goes in through textContent: nothing here parses HTML.

export function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className?: string,
  text?: string,
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className !== undefined) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** The element with this id, which the page's markup must have. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const node = document.getElementById(id);
  if (node === null) throw new Error(`the page has no #${id}`);
  return node as T;
}

/** The first element matching `selector` inside `root`, which the page's markup must have. */
export function query<T extends Element = HTMLElement>(root: ParentNode, selector: string): T {
  const node = root.querySelector<T & Element>(selector);
  if (node === null) throw new Error(`the page has no ${selector}`);
  return node;
}

export function formatCount(value: number): string {
  return value.toLocaleString('en-US');
}
