import { describe, expect, test } from "vitest";
import { errorText, excerpt, isObject, MAX_REPR, openTag, repr } from "../src/util";

describe("isObject", () => {
  test("accepts plain objects and refuses null, arrays and primitives", () => {
    expect([{}, { s: ["a"] }, Object.create(null)].map(isObject)).toEqual([true, true, true]);
    expect([null, undefined, [], [1], "s", 1, true].some(isObject)).toBe(false);
  });
});

describe("repr", () => {
  test("shows a value as JSON, so a string is quoted and an object shows its keys", () => {
    expect(repr("x")).toBe('"x"');
    expect(repr({ kc: 2 })).toBe('{"kc":2}');
    expect(repr(undefined)).toBe("undefined");
  });

  test("cuts a long value to the bound, marking the cut", () => {
    const long = repr({ rows: "x".repeat(10_000) });
    expect(long).toHaveLength(MAX_REPR);
    expect(long.endsWith("...")).toBe(true);
    expect(repr("abcdefghij", 8)).toBe('"abcd...');
  });

  test("names a function instead of printing its source", () => {
    expect(repr(() => 1)).toBe("a function");
  });

  test("still describes a value that JSON cannot write (a cycle)", () => {
    const cycle: { self?: unknown } = {};
    cycle.self = cycle;
    expect(repr(cycle)).toBe("[object Object]");
  });
});

describe("errorText", () => {
  test("is the message of an Error, with its name when asked, and the text of anything else thrown", () => {
    expect(errorText(new TypeError("bad"))).toBe("bad");
    expect(errorText(new TypeError("bad"), true)).toBe("TypeError: bad");
    expect(errorText("plain")).toBe("plain");
    expect(errorText(42, true)).toBe("42");
  });
});

describe("openTag and excerpt", () => {
  test("an element is described by its opening tag, bounded", () => {
    const el = document.createElement("div");
    el.id = "chart";
    el.innerHTML = "<p>much content</p>";
    expect(openTag(el)).toBe('<div id="chart">');
    el.setAttribute("data-x", "y".repeat(500));
    expect(openTag(el)).toHaveLength(MAX_REPR);
  });

  test("a short text stays as it is", () => {
    expect(excerpt("short")).toBe("short");
  });
});
