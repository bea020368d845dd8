/** A stand-in for an anywidget model, and mounting the widget module on it, for the tests. */
import type { AnyModel } from "@anywidget/types";
import widget from "../src/widget";

type Handler = (...args: unknown[]) => void;

/** Just enough of an anywidget model: traits, events, and a record of what was sent. */
export class FakeModel {
  attrs: Record<string, unknown>;
  sent: unknown[] = [];
  saved = 0;
  private handlers = new Map<string, Set<Handler>>();

  constructor(attrs: Record<string, unknown> = {}) {
    this.attrs = { _html: "", ...attrs };
  }
  get(key: string): unknown {
    return this.attrs[key];
  }
  set(key: string, value: unknown): void {
    this.attrs[key] = value;
    this.emit(`change:${key}`);
  }
  on(name: string, fn: Handler): void {
    if (!this.handlers.has(name)) this.handlers.set(name, new Set());
    this.handlers.get(name)?.add(fn);
  }
  off(name?: string | null, fn?: Handler | null): void {
    if (name && fn) this.handlers.get(name)?.delete(fn);
  }
  send(content: unknown): void {
    this.sent.push(content);
  }
  save_changes(): void {
    this.saved++;
  }
  emit(name: string, ...args: unknown[]): void {
    for (const fn of this.handlers.get(name) ?? []) fn(...args);
  }
  /** A custom message from the kernel. */
  receive(content: unknown): void {
    this.emit("msg:custom", content, []);
  }
}

export const asModel = (m: FakeModel) => m as unknown as AnyModel;

/**
 * Mount `m` as anywidget would (initialize, then render into a new host element); the returned
 * cleanups undo it. With `initialize` false, as a host that skips initialize().
 */
export function mountWidget(m: FakeModel, cleanups: (() => unknown)[], initialize = true): HTMLElement {
  if (initialize) cleanups.push(widget.initialize({ model: asModel(m) }));
  const host = document.createElement("div");
  document.body.append(host);
  cleanups.push(widget.render({ model: asModel(m), el: host }), () => host.remove());
  return host;
}

/** Run cleanups, last first. */
export async function cleanUp(cleanups: (() => unknown)[]): Promise<void> {
  for (const fn of cleanups.splice(0).reverse()) await fn();
}
