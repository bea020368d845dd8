import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { ANSWER_TIMEOUT_MS, InFlight } from "../src/in_flight";

let root: HTMLElement;
let inFlight: InFlight;

beforeEach(() => {
  root = document.createElement("div");
  document.body.append(root);
  inFlight = new InFlight();
});

afterEach(() => {
  inFlight.dispose();
  root.remove();
  vi.useRealTimers();
});

const $ = <T extends HTMLElement = HTMLElement>(selector: string) => root.querySelector(selector) as T;

describe("in-flight events", () => {
  test("phx-disable-with disables the element and shows its text; the answer restores the same nodes", () => {
    root.innerHTML = '<button phx-disable-with="Saving..."><svg></svg> Save</button>';
    const button = $<HTMLButtonElement>("button");
    const icon = button.firstChild;
    inFlight.start({ type: "click", loading: [button], disable: [button] });
    expect(button.outerHTML).toBe(
      '<button phx-disable-with="Saving..." class="phx-click-loading" disabled="">Saving...</button>',
    );
    expect(inFlight.isPending(button, "click")).toBe(true);
    expect(inFlight.isPending(button, "submit")).toBe(false);

    inFlight.answerAll();
    expect(button.outerHTML).toBe('<button phx-disable-with="Saving..."><svg></svg> Save</button>');
    expect(button.firstChild).toBe(icon);
    expect(inFlight.isPending(button, "click")).toBe(false);
  });

  test('an empty phx-disable-with disables and keeps the content; a disabled element stays disabled', () => {
    root.innerHTML = '<button id="a" phx-disable-with="">A</button><button id="b" disabled phx-disable-with="...">B</button>';
    inFlight.start({ type: "submit", loading: [], disable: [$("#a"), $("#b")] });
    expect([$("#a").outerHTML, $("#b").textContent]).toEqual(['<button id="a" phx-disable-with="" disabled="">A</button>', "..."]);
    inFlight.answerAll();
    expect($("#a").outerHTML).toBe('<button id="a" phx-disable-with="">A</button>');
    expect($<HTMLButtonElement>("#b").disabled).toBe(true);
    expect($("#b").textContent).toBe("B");
  });

  test("an element without phx-disable-with is only marked loading", () => {
    root.innerHTML = "<button>Go</button>";
    inFlight.start({ type: "click", loading: [$("button")], disable: [$("button")] });
    expect($("button").outerHTML).toBe('<button class="phx-click-loading">Go</button>');
  });

  test(`unanswered, the state goes after ${ANSWER_TIMEOUT_MS} ms and waiters are told`, () => {
    vi.useFakeTimers();
    root.innerHTML = '<div id="h"></div>';
    const ref = inFlight.start({ type: "hook", loading: [$("#h")], disable: [] });
    const answered: number[] = [];
    inFlight.onAnswer(ref, () => answered.push(ref));
    vi.advanceTimersByTime(ANSWER_TIMEOUT_MS - 1);
    expect($("#h").className).toBe("phx-hook-loading");
    vi.advanceTimersByTime(1);
    expect($("#h").outerHTML).toBe('<div id="h"></div>');
    expect(answered).toEqual([ref]);
    inFlight.onAnswer(ref, () => answered.push(-1)); // already answered: at once
    expect(answered).toEqual([ref, -1]);
  });

  test("refs increase, and an element stays loading until its last event is answered", () => {
    vi.useFakeTimers();
    root.innerHTML = '<button phx-disable-with="...">x</button>';
    const button = $("button");
    const first = inFlight.start({ type: "click", loading: [button], disable: [button] });
    vi.advanceTimersByTime(ANSWER_TIMEOUT_MS / 2);
    const second = inFlight.start({ type: "click", loading: [button], disable: [button] });
    expect(second).toBeGreaterThan(first);
    vi.advanceTimersByTime(ANSWER_TIMEOUT_MS / 2); // the first times out
    expect(button.outerHTML).toBe('<button phx-disable-with="..." class="phx-click-loading" disabled="">...</button>');
    inFlight.answerAll();
    expect(button.outerHTML).toBe('<button phx-disable-with="...">x</button>');
  });
});
