/// <reference types="vite/client" />
/**
 * The house rules of js/src that a reviewer would otherwise check by eye: the shared helpers
 * live in util.ts only, and the wire's strings in constants.ts only.
 */
import { describe, expect, test } from "vitest";
import * as constants from "../src/constants";

const sources = import.meta.glob<string>("../src/*.ts", { query: "?raw", import: "default", eager: true });
const files = Object.entries(sources).map(([path, text]) => [path.split("/").pop() as string, text] as const);

/** The code of a file without its comments (a docstring may quote the wire, code may not). */
const code = (text: string) =>
  text
    .replace(/\/\*[\s\S]*?\*\//g, "")
    .replace(/^\s*\/\/.*$/gm, "")
    .replace(/\s\/\/ .*$/gm, "");

describe("js/src", () => {
  test("is read whole by these checks", () => {
    const names = files.map(([name]) => name);
    expect(names).toEqual(expect.arrayContaining(["util.ts", "constants.ts", "rendered.ts", "widget.ts"]));
  });

  test.each(["isObject", "isObj", "isContent", "repr", "errorText", "excerpt", "openTag", "describe"])(
    "defines the shared helper %s nowhere but util.ts",
    (name) => {
      const definition = new RegExp(`(function\\s+${name}\\s*\\(|const\\s+${name}\\s*=)`);
      const where = files.filter(([file, text]) => file !== "util.ts" && definition.test(code(text)));
      expect(where.map(([file]) => file)).toEqual([]);
    },
  );

  // The wire strings that can be told apart from ordinary words: the rendered format's keys,
  // the phx-*, data-* and trait names, the page's ids and classes. (Words such as "click" or
  // "value" are also DOM event names and property names, so they are not searched for.)
  const strings = Object.entries(constants as Record<string, unknown>).filter(
    (entry): entry is [string, string] => typeof entry[1] === "string",
  );
  const distinctive = strings.filter(
    ([, value]) => /^(s|k|kc|km|p|c|stream|t)$/.test(value) || /^(phx-|data-|_|lw-|livewidget)/.test(value),
  );

  test("has distinctive wire strings to look for", () => {
    const names = distinctive.map(([name]) => name);
    expect(names).toEqual(expect.arrayContaining(["STATIC", "KEYED_COUNT", "PHX_CLICK", "HTML_TRAIT"]));
  });

  test.each(distinctive)("writes %s (%j) only in constants.ts", (_name, value) => {
    const literal = new RegExp(`["'\`]${value.replace(/[-]/g, "\\-")}["'\`]`);
    const where = files.filter(([file, text]) => file !== "constants.ts" && literal.test(code(text)));
    expect(where.map(([file]) => file)).toEqual([]);
  });
});
