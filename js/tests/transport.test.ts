// transport.ts: the WebSocket face of an anywidget model, with a fake WebSocket and fake timers.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { SocketModel, type Status, socketUrl } from "../src/transport";
import { FakeSocket } from "./fake_socket";

function model(statuses: [Status, number | undefined][] = []) {
  const m = new SocketModel({
    url: "ws://host/?start=5",
    hooks: "export default {}",
    heartbeatMs: 1000,
    onStatus: (status, retry) => statuses.push([status, retry]),
    WebSocketImpl: FakeSocket as unknown as typeof WebSocket,
  });
  m.connect();
  return m;
}

beforeEach(() => {
  FakeSocket.made = [];
  vi.useFakeTimers();
  vi.spyOn(Math, "random").mockReturnValue(0); // no jitter: waits as documented
});
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe("SocketModel", () => {
  it("hands the server's messages to msg:custom listeners, and keeps heartbeats to itself", () => {
    const m = model();
    const got: unknown[] = [];
    m.on("msg:custom", (content) => got.push(content));
    const socket = FakeSocket.made[0]!;
    socket.open();
    socket.receive({ type: "full", seq: 1, rendered: { s: ["x"] } });
    socket.receive({ type: "heartbeat" });
    expect(got).toEqual([{ type: "full", seq: 1, rendered: { s: ["x"] } }]);
  });

  it("holds the view's hooks as the _hooks trait", () => {
    expect(model().get("_hooks")).toBe("export default {}");
  });

  it("sends what was sent while the socket opened once it is open, and throws while offline", () => {
    const m = model();
    const socket = FakeSocket.made[0]!;
    m.send({ type: "event", event: "early" });
    expect(socket.sent).toEqual([]);
    socket.open();
    expect(socket.sent).toEqual(['{"type":"event","event":"early"}']);
    socket.drop();
    expect(() => m.send({ type: "event" })).toThrow(/offline/);
  });

  it("leaves out a join sent while the socket opens: the fresh view's full render answers it", () => {
    const m = model();
    const socket = FakeSocket.made[0]!;
    m.send({ type: "join" });
    socket.open();
    expect(socket.sent).toEqual([]);
    m.send({ type: "join" }); // a join once open (the page saw a gap) goes out
    expect(socket.sent).toEqual(['{"type":"join"}']);
  });

  it("reconnects after 0.5 s, then waits twice as long each time, and says it is offline", () => {
    const statuses: [Status, number | undefined][] = [];
    model(statuses);
    FakeSocket.made[0]!.drop();
    expect(statuses.at(-1)).toEqual(["offline", 500]);
    vi.advanceTimersByTime(499);
    expect(FakeSocket.made).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(FakeSocket.made).toHaveLength(2);
    FakeSocket.made[1]!.drop();
    expect(statuses.at(-1)).toEqual(["offline", 1000]);
    vi.advanceTimersByTime(1000);
    const third = FakeSocket.made[2]!;
    third.open();
    expect(statuses.at(-1)).toEqual(["online", undefined]);
    third.drop();
    expect(statuses.at(-1)).toEqual(["offline", 500]); // an open socket resets the backoff
  });

  it("sends heartbeats and drops a socket that has heard nothing for 2.5 of them", () => {
    const statuses: [Status, number | undefined][] = [];
    model(statuses);
    const socket = FakeSocket.made[0]!;
    socket.open();
    vi.advanceTimersByTime(1000);
    expect(socket.sent).toEqual(['{"type":"heartbeat"}']);
    socket.receive({ type: "heartbeat" });
    vi.advanceTimersByTime(2000);
    expect(statuses.at(-1)?.[0]).toBe("online");
    vi.advanceTimersByTime(1000); // 3 s of silence > 2.5 heartbeats
    expect(statuses.at(-1)).toEqual(["offline", 500]);
    vi.advanceTimersByTime(500);
    expect(FakeSocket.made).toHaveLength(2);
  });

  it("stops for good", () => {
    const m = model();
    m.stop();
    FakeSocket.made[0]!.drop();
    vi.advanceTimersByTime(60_000);
    expect(FakeSocket.made).toHaveLength(1);
  });
});

describe("socketUrl", () => {
  it("is the page's own URL and query, as ws or wss", () => {
    expect(socketUrl({ protocol: "http:", host: "a:8000", pathname: "/", search: "?start=5" })).toBe(
      "ws://a:8000/?start=5",
    );
    expect(socketUrl({ protocol: "https:", host: "a.example", pathname: "/dash/", search: "" })).toBe(
      "wss://a.example/dash/",
    );
  });
});
