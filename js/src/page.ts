/**
 * The page entry of `livewidget serve` (bundled as livewidget/static/page.js).
 *
 * The server's HTML shell holds `#lw-app` (where the view mounts), `#lw-status` (shown while
 * the page is offline) and `#lw-config` (JSON: the view's hooks module, the heartbeat
 * period). This mounts the notebook's own front end (widget.ts) on a SocketModel: the same
 * LiveModel, with a WebSocket in place of the comm.
 */
import widget from "./widget";
import { SocketModel, type Status, socketUrl } from "./transport";

interface PageConfig {
  hooks?: string;
  heartbeat?: number;
}

function readConfig(doc: Document): PageConfig {
  const text = doc.getElementById("lw-config")?.textContent ?? "{}";
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === "object" && parsed !== null ? (parsed as PageConfig) : {};
  } catch {
    return {};
  }
}

function showStatus(doc: Document, status: Status, retryInMs?: number): void {
  const line = doc.getElementById("lw-status");
  doc.documentElement.classList.toggle("lw-offline", status !== "online");
  doc.documentElement.dataset.lwStatus = status;
  if (!line) return;
  line.hidden = status === "online";
  line.textContent =
    status === "offline"
      ? `Offline: reconnecting in ${Math.max(1, Math.round((retryInMs ?? 0) / 1000))} s…`
      : "Connecting…";
}

export function start(doc: Document = document): SocketModel | null {
  const el = doc.getElementById("lw-app");
  if (!el) {
    console.error("livewidget: the page has no #lw-app element to mount the view in");
    return null;
  }
  const config = readConfig(doc);
  const model = new SocketModel({
    url: socketUrl(doc.location),
    hooks: typeof config.hooks === "string" ? config.hooks : "",
    heartbeatMs: typeof config.heartbeat === "number" ? config.heartbeat : undefined,
    onStatus: (status, retry) => showStatus(doc, status, retry),
  });
  model.connect();
  widget.render({ model, el });
  doc.defaultView?.addEventListener("pagehide", () => model.stop());
  return model;
}

start();
