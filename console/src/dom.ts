/**
 * Builds the page from elements and text nodes only. Names and everything else from the index
 * become text, never markup: nothing here parses HTML, so no name can become an element.
 */

export type Child = Node | string | number | null | undefined | false;

export interface Props {
  readonly class?: string;
  /** Set with setAttribute: attribute values, not markup. */
  readonly attrs?: Readonly<Record<string, string>>;
}

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  if (props.class !== undefined) element.className = props.class;
  for (const [name, value] of Object.entries(props.attrs ?? {})) element.setAttribute(name, value);
  append(element, ...children);
  return element;
}

export function append(parent: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child);
  }
}

/** Replaces everything inside `parent`. */
export function replace(parent: Node, ...children: Child[]): void {
  while (parent.firstChild !== null) parent.removeChild(parent.firstChild);
  append(parent, ...children);
}

const NUMBER = new Intl.NumberFormat('en');

/** 1234567 → "1,234,567". */
export function count(value: number): string {
  return NUMBER.format(value);
}

/** "1 package", "3 packages". */
export function plural(value: number, one: string, many = `${one}s`): string {
  return `${count(value)} ${value === 1 ? one : many}`;
}
