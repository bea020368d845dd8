/**
 * The WebSocket transport of `livewidget serve`.
 *
 * widget.ts speaks to the kernel through an anywidget model: `model.send(content)` out,
 * `model.on("msg:custom", fn)` in, `model.get`/`set` for its few traits. SocketModel is that
 * model's face over a WebSocket, so the same LiveModel (merge, patch, bindings, hooks, JS
 * commands, in-flight state, the seq/join protocol) runs in a served page unchanged: the comm
 * and the socket are two transports and the rest does not know which it has.
 *
 * Connection life:
 *   - each message is one JSON text frame, the same objects the comm carries;
 *   - every `heartbeatMs` the page sends {"type": "heartbeat"} and the server answers; a socket
 *     that has heard nothing for 2.5 heartbeats is taken as dead and dropped;
 *   - a dropped socket reconnects after 0.5 s, 1, 2, 4 ... up to 15 s (each with up to 25%
 *     jitter, so that a restarted server is not hit by every page at once); the server mounts
 *     a fresh view, whose first payload is a full render: the page resyncs as after a join;
 *   - `onStatus` hears "connecting", "online" and "offline" (with the wait before the next
 *     attempt), for the page to show;
 *   - while the socket opens, what is sent waits for it (but the page's first join, which the
 *     fresh view's own full render answers already); while
 *     offline, `send` throws: LiveModel then warns that it could not reach the server and the
 *     event is dropped (the next view, a fresh mount, would not know what it referred to).
 */
import type { AnyModel } from "@anywidget/types";
import { HOOKS_TRAIT, MSG_HEARTBEAT, MSG_JOIN, MSG_WIDGET, TYPE } from "./constants";
import { ServedWidgets } from "./served_widgets";
import { isObject } from "./util";

const RECONNECT_FIRST_MS = 500;
const RECONNECT_MAX_MS = 15_000;
const DEAD_AFTER_HEARTBEATS = 2.5;

export type Status = "connecting" | "online" | "offline";

export interface SocketModelOptions {
  url: string;
  /** The `_hooks` trait: the view's phx-hook module source. */
  hooks?: string;
  heartbeatMs?: number | undefined;
  onStatus?: (status: Status, retryInMs?: number) => void;
  /** For tests: a WebSocket constructor. */
  WebSocketImpl?: typeof WebSocket;
}

// The type AnyModel declares for its listeners (anywidget's EventHandler), `any` included.
type Handler = (...args: any[]) => void;

export class SocketModel implements AnyModel {
  private readonly handlers = new Map<string, Set<Handler>>();
  private readonly attrs = new Map<string, unknown>();
  private socket: WebSocket | null = null;
  private attempt = 0;
  private lastHeard = 0;
  private heartbeat: ReturnType<typeof setInterval> | undefined;
  private retry: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;
  /** Messages sent while the socket was still opening. */
  private pending: string[] = [];
  private readonly heartbeatMs: number;
  private readonly WS: typeof WebSocket;

  /** The widgets inside the view (anywidget widgets; served_widgets.ts), in place of Jupyter's
   * widget manager: children.ts places them as in a notebook. */
  readonly widget_manager: ServedWidgets = new ServedWidgets((content) => this.send(content));

  constructor(private readonly options: SocketModelOptions) {
    this.attrs.set(HOOKS_TRAIT, options.hooks ?? "");
    this.heartbeatMs = options.heartbeatMs ?? 15_000;
    this.WS = options.WebSocketImpl ?? WebSocket;
  }

  get(key: string): any {
    return this.attrs.get(key);
  }

  set(key: string, value: unknown): void {
    this.attrs.set(key, value);
  }

  save_changes(): void {}

  on(eventName: string, callback: Handler): void {
    let set = this.handlers.get(eventName);
    if (!set) this.handlers.set(eventName, (set = new Set()));
    set.add(callback);
  }

  off(eventName?: string | null, callback?: Handler | null): void {
    if (!eventName) return this.handlers.clear();
    if (!callback) return void this.handlers.delete(eventName);
    this.handlers.get(eventName)?.delete(callback);
  }

  send(content: unknown): void {
    const socket = this.socket;
    if (socket && socket.readyState === this.WS.CONNECTING) {
      // A fresh socket's view sends its full render by itself. A join queued behind the open
      // would ask for a second one, which can land after the diff and push_event of a first
      // click and undo what a hook did with them: it is left out.
      if (isObject(content) && content[TYPE] === MSG_JOIN) return;
      this.pending.push(JSON.stringify(content)); // sent on open
      return;
    }
    if (!socket || socket.readyState !== this.WS.OPEN) {
      throw new Error("livewidget: offline, the server is not connected; reconnecting");
    }
    socket.send(JSON.stringify(content));
  }

  /** Open the socket (and keep it open until stop()). */
  connect(): void {
    if (this.stopped) return;
    clearTimeout(this.retry);
    this.options.onStatus?.("connecting");
    let socket: WebSocket;
    try {
      socket = new this.WS(this.options.url);
    } catch (err) {
      console.warn("livewidget: could not open the WebSocket", err);
      return this.dropped(null);
    }
    this.socket = socket;
    socket.onopen = () => {
      if (this.socket !== socket) return;
      this.attempt = 0;
      this.lastHeard = Date.now();
      this.options.onStatus?.("online");
      clearInterval(this.heartbeat);
      this.heartbeat = setInterval(() => this.beat(socket), this.heartbeatMs);
      const pending = this.pending;
      this.pending = [];
      for (const text of pending) socket.send(text);
    };
    socket.onmessage = (event: MessageEvent) => {
      if (this.socket !== socket) return;
      this.lastHeard = Date.now();
      let content: unknown;
      try {
        content = JSON.parse(String(event.data));
      } catch {
        return console.warn("livewidget: a message from the server is not JSON", event.data);
      }
      if (isHeartbeat(content)) return;
      if (isObject(content) && content[TYPE] === MSG_WIDGET) return this.widget_manager.handle(content);
      for (const handler of this.handlers.get("msg:custom") ?? []) handler(content, []);
    };
    socket.onclose = () => this.dropped(socket);
    socket.onerror = () => {}; // a close follows
  }

  /** Close for good (the page is leaving). */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.retry);
    clearInterval(this.heartbeat);
    this.socket?.close();
    this.socket = null;
  }

  private beat(socket: WebSocket): void {
    if (Date.now() - this.lastHeard > this.heartbeatMs * DEAD_AFTER_HEARTBEATS) {
      socket.close(); // its close may take long on a dead network: drop it now
      return this.dropped(socket);
    }
    try {
      socket.send(JSON.stringify({ [TYPE]: MSG_HEARTBEAT }));
    } catch {
      this.dropped(socket);
    }
  }

  private dropped(socket: WebSocket | null): void {
    if (socket !== null && this.socket !== socket) return; // an old socket, already dropped
    this.socket = null;
    this.pending = [];
    clearInterval(this.heartbeat);
    if (this.stopped) return;
    const wait = Math.min(RECONNECT_FIRST_MS * 2 ** this.attempt, RECONNECT_MAX_MS);
    const jittered = Math.round(wait * (1 + Math.random() * 0.25));
    this.attempt += 1;
    this.options.onStatus?.("offline", jittered);
    this.retry = setTimeout(() => this.connect(), jittered);
  }
}

function isHeartbeat(content: unknown): boolean {
  return typeof content === "object" && content !== null && (content as Record<string, unknown>)[TYPE] === MSG_HEARTBEAT;
}

/** The WebSocket URL of the page at `location`: same host and path, same query (the params). */
export function socketUrl(location: Pick<Location, "protocol" | "host" | "pathname" | "search">): string {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}${location.pathname}${location.search}`;
}
